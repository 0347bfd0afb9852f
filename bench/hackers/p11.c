/* test whether nlz(x) < nlz(y) (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p11) */
#include <stdint.h>
#include <stdbool.h>

static inline int nlz(uint32_t x) { return x ? __builtin_clz(x) : 32; }
int32_t p11(uint32_t x, uint32_t y) { return nlz(x) < nlz(y); }
