/* count the 1 bits (population count) (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p23) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p23(uint32_t x) {
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (x * 0x01010101u) >> 24;
}
