/* isolate the rightmost 0 bit (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p07) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p07(uint32_t x) { return ~x & (x + 1); }
