/* The branchless building blocks of libc++'s small sorts (std::__cond_swap and
 * std::__partially_sorted_swap in <__algorithm/sort.h>), for int32_t. Written so that
 * the compiler emits cmp + cmov rather than branches, as libc++ does for arithmetic types. */
#ifndef SUPEROPT_LIBCXX_SMALL_SORT_H
#define SUPEROPT_LIBCXX_SMALL_SORT_H
#include <stdbool.h>
#include <stdint.h>

/* Order *x <= *y. */
static inline void cond_swap(int32_t *x, int32_t *y) {
    bool r = *x < *y;
    int32_t tmp = r ? *x : *y;
    *y = r ? *y : *x;
    *x = tmp;
}

/* Sort x, y, z given that *y <= *z already. */
static inline void partially_sorted_swap(int32_t *x, int32_t *y, int32_t *z) {
    bool r = *z < *x;
    int32_t tmp = r ? *z : *x;
    *z = r ? *x : *z;
    r = tmp < *y;
    *x = r ? *x : *y;
    *y = r ? *y : tmp;
}
#endif
