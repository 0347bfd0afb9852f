/* form a mask that identifies the trailing 0s (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p08) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p08(uint32_t x) { return ~x & (x - 1); }
