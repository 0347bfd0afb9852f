/* absolute value (of INT32_MIN: INT32_MIN, as two's complement wraps) (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p09) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p09(int32_t x) { uint32_t m = (uint32_t)(x >> 31); return ((uint32_t)x ^ m) - m; }
