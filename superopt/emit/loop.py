"""The C/C++ sources of the inline harness: each program inlined into a timed loop, as users
run an exported header or their own function.

One translation unit per program (so each is compiled as its user would compile it: an
exported C++ header with g++, a C baseline with the C compiler), each holding one loop
function `uint64_t loop(element *data, const int32_t *lengths, long k)` that returns the
rdtsc ticks (lfence-serialised) of k calls, each on its own record `data + i*N`: a sort's
array (int32, sorted in place), or a function task's arguments (uint64 bit patterns as the
registers hold them; the result replaces the first). Throughput: the calls are independent,
as in a loop over many arrays. Latency: the next record's address depends on every output of
the call before (OR of the outputs, ANDed with 0 in an asm statement the compiler cannot see
through), so the calls cannot overlap.
A main unit runs the loops interleaved (see `MAIN`) and prints one line of ticks per run.
"""
from __future__ import annotations

from superopt.run.native import MODES
from superopt.tasks.base import Task

LOOP_HEADER = r"""/* superopt's inline harness: the timed loop (generated). */
#ifndef SUPEROPT_LOOP_H
#define SUPEROPT_LOOP_H
#include <stdint.h>
#include <x86intrin.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif
#define SUPEROPT_N %(n)d
typedef %(element)s superopt_element;
#ifdef __cplusplus
#define SUPEROPT_C extern "C"
#else
#define SUPEROPT_C
#endif
typedef uint64_t (*superopt_loop)(superopt_element *data, const int32_t *lengths, long k);
#define SUPEROPT_LOOP(NAME, CALL) \
SUPEROPT_C uint64_t NAME(superopt_element *data, const int32_t *lengths, long k) \
{ \
    uint64_t dep = 0; \
    _mm_lfence(); \
    uint64_t t0 = __rdtsc(); \
    _mm_lfence(); \
    for (long i = 0; i < k; i++) { \
        superopt_element *a = data + i * SUPEROPT_N + dep; \
        int32_t n = lengths[i + dep]; \
        (void)n; \
        CALL; \
        SUPEROPT_CHAIN \
    } \
    _mm_lfence(); \
    uint64_t t1 = __rdtsc(); \
    _mm_lfence(); \
    return t1 - t0; \
}
%(chain)s
#endif
"""

# Latency: the next address waits for every output; throughput: nothing to wait for.
_CHAIN = {
    "latency": r"""#define SUPEROPT_CHAIN { \
        uint64_t d = 0; \
        _Pragma("GCC unroll 16") \
        for (int j = 0; j < SUPEROPT_N; j++) d |= (uint64_t)a[j]; \
        __asm__ volatile("and $0, %0" : "+r"(d)); \
        dep = d; \
    }""",
    "throughput": "#define SUPEROPT_CHAIN",
}

MAIN = r"""/* superopt's inline harness: the driver (generated).
   driver check IN LENGTHS OUT: every program once over the inputs, its outputs appended to
   OUT, then a line with its number (so a crash names the program that crashed).
   driver time RUNS K SETS IN LENGTHS: SETS input sets of K arrays (the last one for the
   warm-up); run r copies set r %% (SETS-1) in (untimed) before each program's loop, the
   programs in rotated order; one line of ticks per run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loop.h"
%(declarations)s
static const superopt_loop LOOPS[] = {%(loops)s};
#define COUNT ((long)(sizeof LOOPS / sizeof *LOOPS))

static void *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(3); }
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(*size + 64);
    if (!p || fread(p, 1, *size, f) != (size_t)*size) { perror(path); exit(3); }
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    long bytes, lbytes;
    if (argc == 5 && !strcmp(argv[1], "check")) {
        superopt_element *in = (superopt_element *)slurp(argv[2], &bytes);
        int32_t *len = (int32_t *)slurp(argv[3], &lbytes);
        long count = lbytes / 4;
        superopt_element *work = (superopt_element *)malloc(bytes + 64);
        FILE *out = fopen(argv[4], "wb");
        if (!out) { perror(argv[4]); return 3; }
        for (long v = 1; v < COUNT; v++) {
            memcpy(work, in, bytes);
            LOOPS[v](work, len, count);
            fwrite(work, 1, bytes, out);
            printf("%%ld\n", v);
            fflush(stdout);
        }
        return fclose(out) != 0;
    }
    if (argc != 7 || strcmp(argv[1], "time")) {
        fprintf(stderr, "usage: %%s check IN LENGTHS OUT | time RUNS K SETS IN LENGTHS\n", argv[0]);
        return 3;
    }
    long runs = atol(argv[2]), k = atol(argv[3]), sets = atol(argv[4]);
    superopt_element *in = (superopt_element *)slurp(argv[5], &bytes);
    int32_t *len = (int32_t *)slurp(argv[6], &lbytes);
    superopt_element *work = (superopt_element *)malloc(sizeof(superopt_element) * SUPEROPT_N * k + 64);
    long set_size = SUPEROPT_N * k, used = sets > 1 ? sets - 1 : 1;
    uint64_t ticks[COUNT];
    for (long v = 0; v < COUNT; v++) {  /* warm-up on inputs no run uses */
        memcpy(work, in + (sets - 1) * set_size, sizeof(superopt_element) * set_size);
        LOOPS[v](work, len + (sets - 1) * k, k);
    }
    for (long r = 0; r < runs; r++) {
        long s = r %% used;
        for (long j = 0; j < COUNT; j++) {
            long v = (j + r) %% COUNT;  /* no program always goes first */
            memcpy(work, in + s * set_size, sizeof(superopt_element) * set_size);
            ticks[v] = LOOPS[v](work, len + s * k, k);
        }
        for (long v = 0; v < COUNT; v++) printf("%%llu ", (unsigned long long)ticks[v]);
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
"""

EMPTY_CALL = '__asm__ volatile("" : : "r"(a) : "memory")'  # the loop alone: a[] through memory


def record_size(task: Task) -> int:
    """Elements per call: a sort's n int32, a function task's arguments as uint64 (at least
    one: the result's slot)."""
    return max(task.nparams, 1) if task.kind == "function" else task.n


def loop_header(task: Task, mode: str) -> str:
    if mode not in MODES:
        raise ValueError("unknown mode %r (choose from %s)" % (mode, ", ".join(MODES)))
    element = "uint64_t" if task.kind == "function" else "int32_t"
    return LOOP_HEADER % {"n": record_size(task), "element": element, "chain": _CHAIN[mode]}


def function_name(task: Task) -> str:
    """The name the task's C function has in a user's file."""
    return task.signature.name if task.kind == "function" else task.name


def call_of(task: Task, function: str) -> str:
    """The C call of the task's function on the loop's record `a` (and length `n`): a
    function task's arguments converted from their bits, its result's bits into a[0]."""
    if task.kind == "function":
        args = ", ".join("(%s)a[%d]" % (p.type.name, k) for k, p in enumerate(task.signature.params))
        return "a[0] = (uint64_t)(uint%d_t)%s(%s)" % (task.signature.ret.width, function, args)
    return "%s(a, n)" % function if task.variable else "%s(a)" % function


def loop_unit(loop: str, call: str, prelude: list[str]) -> str:
    """A translation unit defining the loop function `loop` around `call`, after `prelude`
    (the lines that bring the function in: an #include of the exported header, or of the
    baseline's source with its function renamed)."""
    return "\n".join(prelude + ['#include "loop.h"', "SUPEROPT_LOOP(%s, %s)" % (loop, call), ""])


def baseline_prelude(task: Task, source: str, function: str) -> list[str]:
    """Include a user's C/C++ file with its function (the task's name) renamed, so that
    several baselines, each in its own unit, link into one program."""
    name = function_name(task)
    return ["#define %s %s" % (name, function), '#include "%s"' % source.replace("\\", "\\\\").replace('"', '\\"'),
            "#undef %s" % name]


def main_unit(loops: list[str]) -> str:
    """The driver: the loops in order, the first the empty one (the loop alone)."""
    declarations = "\n".join("uint64_t %s(int32_t *, const int32_t *, long);" % name for name in loops)
    return MAIN % {"declarations": declarations, "loops": ", ".join(loops)}
