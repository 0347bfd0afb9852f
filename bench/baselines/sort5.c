/* task: sort5. sort5 the libc++ way (the AlphaDev-derived sequence that went into libc++):
 * cond_swap(0,1), cond_swap(3,4), pss(2,3,4), cond_swap(1,4), pss(0,2,3), pss(1,2,3). */
#include "libcxx_small_sort.h"

void sort5(int32_t *a) {
    cond_swap(a + 0, a + 1);
    cond_swap(a + 3, a + 4);
    partially_sorted_swap(a + 2, a + 3, a + 4);
    cond_swap(a + 1, a + 4);
    partially_sorted_swap(a + 0, a + 2, a + 3);
    partially_sorted_swap(a + 1, a + 2, a + 3);
}
