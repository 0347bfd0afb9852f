// task: sort3. A hand-written branchless C++ sort3 (g++ -O2 compiles each compare-exchange to cmovs):
// the network (1,2) (0,2) (0,1), each compare-exchange as a min and a max.
#include <cstdint>

static inline void compare_exchange(int32_t &x, int32_t &y) {
    int32_t lo = y < x ? y : x, hi = y < x ? x : y;
    x = lo;
    y = hi;
}

void sort3(int32_t *a) {
    int32_t x = a[0], y = a[1], z = a[2];
    compare_exchange(y, z);
    compare_exchange(x, z);
    compare_exchange(x, y);
    a[0] = x;
    a[1] = y;
    a[2] = z;
}
