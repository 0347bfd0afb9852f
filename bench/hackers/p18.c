/* test whether x is a power of 2 (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p18) */
#include <stdint.h>
#include <stdbool.h>

bool p18(uint32_t x) { return x != 0 && (x & (x - 1)) == 0; }
