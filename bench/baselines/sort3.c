/* task: sort3. sort3 the libc++ way: cond_swap(a[1], a[2]), then partially_sorted_swap(a[0], a[1], a[2]). */
#include "libcxx_small_sort.h"

void sort3(int32_t *a) {
    cond_swap(a + 1, a + 2);
    partially_sorted_swap(a, a + 1, a + 2);
}
