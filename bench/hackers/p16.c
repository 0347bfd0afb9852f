/* the maximum of two signed integers (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p16) */
#include <stdint.h>
#include <stdbool.h>

int32_t p16(int32_t x, int32_t y) { return x > y ? x : y; }
