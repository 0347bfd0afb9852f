/* parity: 1 if x has an odd number of 1 bits (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p22) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p22(uint32_t x) {
    x ^= x >> 16;
    x ^= x >> 8;
    x ^= x >> 4;
    x ^= x >> 2;
    x ^= x >> 1;
    return x & 1;
}
