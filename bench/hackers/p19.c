/* exchange two bit fields of x: the bits of mask m and those k places to their left (k taken mod 32, as the shifts do) (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p19) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p19(uint32_t x, uint32_t m, uint32_t k) {
    k &= 31;
    uint32_t t = ((x >> k) ^ x) & m;
    return x ^ t ^ (t << k);
}
