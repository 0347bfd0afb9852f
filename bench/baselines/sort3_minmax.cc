// task: sort3. sort3 as people write it "branchless": std::min and std::max per compare-exchange
// (g++ -O2 compiles this one to compares and branches, not cmovs).
#include <algorithm>
#include <cstdint>

void sort3(int32_t *a) {
    int32_t x = a[0], y = a[1], z = a[2];
    int32_t lo = std::min(x, y), hi = std::max(x, y);
    int32_t first = std::min(lo, z), mid = std::max(lo, z);
    a[0] = first;
    a[1] = std::min(hi, mid);
    a[2] = std::max(hi, mid);
}
