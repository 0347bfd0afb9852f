/* isolate the rightmost 1 bit (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p03) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p03(uint32_t x) { return x & -x; }
