/* ceiling of the average of two unsigned integers, without overflow (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p15) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p15(uint32_t x, uint32_t y) { return (uint32_t)(((uint64_t)x + y + 1) >> 1); }
