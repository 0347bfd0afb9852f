/* turn on the rightmost 0 bit (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p06) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p06(uint32_t x) { return x | (x + 1); }
