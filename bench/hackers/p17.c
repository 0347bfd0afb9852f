/* turn off the rightmost contiguous string of 1 bits (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p17) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p17(uint32_t x) { return ((x | (x - 1)) + 1) & x; }
