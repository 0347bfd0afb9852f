/* right-propagate the rightmost 1 bit (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p05) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p05(uint32_t x) { return x | (x - 1); }
