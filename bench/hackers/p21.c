/* cycle through three values: a -> b -> c -> a (x == c gives a, x == a gives b, anything else c) (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p21) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p21(uint32_t x, uint32_t a, uint32_t b, uint32_t c) {
    return ((0u - (x == c)) & (a ^ c)) ^ ((0u - (x == a)) & (b ^ c)) ^ c;
}
