/* test whether an unsigned integer is of the form 2^n - 1 (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p02) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p02(uint32_t x) { return x & (x + 1); }
