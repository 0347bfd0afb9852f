/* The plain protobuf varint loops: the reference of the varint32/varint64/varint32_len tasks
   (superopt.tasks.buffer), compiled by bench/bench_varint.py at gcc -O2 and -O3. */
#include <stdint.h>

uint32_t varint32(const uint8_t *p) {
    uint32_t result = 0;
    for (int i = 0; i < 5; i++) {
        result |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            break;
    }
    return result;
}

uint64_t varint64(const uint8_t *p) {
    uint64_t result = 0;
    for (int i = 0; i < 10; i++) {
        result |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            break;
    }
    return result;
}

/* The pair form (superopt.tasks.buffer, varint32_len): the value and the bytes read, returned by
   value; System V returns this 8-byte struct in %rax (value in bits 0..31, length above). */
typedef struct { uint32_t value; uint32_t length; } varint32_len_t;

varint32_len_t varint32_len(const uint8_t *p) {
    uint32_t result = 0;
    int i;
    for (i = 0; i < 5; i++) {
        result |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            break;
    }
    return (varint32_len_t){result, i < 5 ? i + 1 : 5};
}
