/* form a mask that identifies the rightmost 1 bit and the trailing 0s (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p04) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p04(uint32_t x) { return x ^ (x - 1); }
