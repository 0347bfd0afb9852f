/* the high half of the 64-bit product of two unsigned 32-bit integers (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p25) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p25(uint32_t x, uint32_t y) { return (uint32_t)(((uint64_t)x * y) >> 32); }
