/* next higher unsigned number with the same number of 1 bits (0 for x = 0, which has none) (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p20) */
#include <stdint.h>
#include <stdbool.h>

uint32_t p20(uint32_t x) {
    if (x == 0)
        return 0;
    uint32_t s = x & -x, r = x + s;
    return r | (((x ^ r) >> 2) >> __builtin_ctz(x));   /* ((x ^ r) >> 2) / s, s a power of 2 */
}
