/* round up to the next power of 2 (0 for 0 and for x > 2^31) (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p24) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p24(uint32_t x) {
    x = x - 1;
    x |= x >> 1;
    x |= x >> 2;
    x |= x >> 4;
    x |= x >> 8;
    x |= x >> 16;
    return x + 1;
}
