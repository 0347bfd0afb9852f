/* sign function: -1, 0 or 1 (Hacker's Delight; Gulwani et al., PLDI 2011, benchmark p13) */
#include <stdint.h>
#include <stdbool.h>

int32_t p13(int32_t x) { return (x > 0) - (x < 0); }
