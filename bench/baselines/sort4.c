/* task: sort4. sort4 the libc++ way: the 5-comparator network (0,2) (1,3) (0,1) (2,3) (1,2). */
#include "libcxx_small_sort.h"

void sort4(int32_t *a) {
    cond_swap(a + 0, a + 2);
    cond_swap(a + 1, a + 3);
    cond_swap(a + 0, a + 1);
    cond_swap(a + 2, a + 3);
    cond_swap(a + 1, a + 2);
}
