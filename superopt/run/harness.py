"""The timing harness: machine code, generated as superopt instructions and assembled by
superopt's assembler, that calls a kernel on K prepared inputs with the clock read around
the whole loop, serialised by lfence (rdtsc, or rdpmc of the perf_event cycle counter where
user space may read it). In latency mode each input's address depends on every output of the
previous call (OR of all outputs, AND 0), so calls cannot overlap; in throughput mode they
are independent."""
from __future__ import annotations

from superopt.run.native import MODES, MachineCode, kernel_of
from superopt.tasks.base import Task
from superopt.x86.isa import ARGUMENT_REGISTERS, Imm, Instr, Label, Mem, Program, Reg


def _r(name: str) -> Reg:
    return Reg.named(name)


CLOCKS = ("rdtsc", "rdpmc")
HARNESS_SAVED = ("rbx", "rbp", "r12", "r13", "r14", "r15")


def _clock_to_rax(clock: str) -> list[Instr]:
    """Read the clock into rax once everything before has completed (lfence). rdpmc reads
    the counter numbered in ecx, kept at [rsp+8] because the kernel may clobber rcx."""
    read = ([Instr("rdtsc")] if clock == "rdtsc" else
            [Instr("mov", (_r("ecx"), Mem(32, "rsp", disp=8)), width=32), Instr("rdpmc")])
    return [Instr("lfence")] + read + [Instr("shl", (_r("rdx"), Imm(32)), width=64),
                                       Instr("or", (_r("rax"), _r("rdx")), width=64)]


def harness_program(task: Task, mode: str = "latency", clock: str = "rdtsc") -> Program:
    """The timing loop as a superopt Program, a SysV function `uint64 harness(const int32
    *inputs, int32 *work, int64 count, void *kernel, const int32 *lengths, int64 pmc)` that
    returns the clock ticks spent in the loop (rdtsc, or rdpmc of counter `pmc`).

    Registers: r12 input cursor, r13 work array, r14 calls left, r15 kernel, rbx length
    cursor, rbp the dependency (always 0, but the CPU cannot know before computing it).
    Stack: [rsp] the start time, [rsp+8] the pmc number."""
    if mode not in MODES:
        raise ValueError("unknown mode %r (choose from %s)" % (mode, ", ".join(MODES)))
    if clock not in CLOCKS:
        raise ValueError("unknown clock %r (choose from %s)" % (clock, ", ".join(CLOCKS)))
    if task.kind == "function":
        return _scalar_harness(len(task.signature.params), mode, clock)
    if task.kind == "buffer":
        return _buffer_harness(task.stride, mode, clock)
    n, width = task.n, 4 * task.n
    code = _open_loop(clock, (("r12", "rdi"), ("r13", "rsi"), ("r14", "rdx"), ("r15", "rcx"), ("rbx", "r8")))
    loop = len(code)
    for i in range(n):
        code += [Instr("mov", (_r("eax"), Mem(32, "r12", "rbp", 1, 4 * i)), width=32),
                 Instr("mov", (Mem(32, "r13", disp=4 * i), _r("eax")), width=32)]
    code += [Instr("mov", (_r("rdi"), _r("r13")), width=64)]
    if task.variable:
        code += [Instr("mov", (_r("esi"), Mem(32, "rbx")), width=32),
                 Instr("add", (_r("rbx"), Imm(4)), width=64)]
    code += [Instr("call", (_r("r15"),))]
    if mode == "latency":  # the next input's address waits for every output of this call
        code += [Instr("mov", (_r("ebp"), Mem(32, "r13")), width=32)]
        code += [Instr("or", (_r("ebp"), Mem(32, "r13", disp=4 * i)), width=32) for i in range(1, n)]
        code += [Instr("and", (_r("ebp"), Imm(0)), width=32)]
    return _close_loop(code, loop, width, clock)


def _scalar_harness(nparams: int, mode: str, clock: str) -> Program:
    """The timing loop of a function task: the same function type as harness_program's, its
    inputs uint64 argument registers (nparams per call, already extended as the entry rule
    says); in latency mode each call's arguments are read at an offset that depends on the
    previous call's rax (AND 0)."""
    loads = [Instr("mov", (_r(reg), Mem(64, "r12", "rbp", 1, 8 * k)), width=64)
             for k, reg in enumerate(ARGUMENT_REGISTERS[:nparams])]
    return _rax_loop(loads, 8 * nparams, mode, clock)


def _buffer_harness(stride: int, mode: str, clock: str) -> Program:
    """The timing loop of a buffer task: the same function type as harness_program's, its
    inputs the buffers one per `stride` bytes; %rdi points at each in turn, in latency mode
    at an offset that depends on the previous call's rax (AND 0)."""
    return _rax_loop([Instr("lea", (_r("rdi"), Mem(64, "r12", "rbp", 1, 0)), width=64)], stride, mode, clock)


def _rax_loop(setup: list, step: int, mode: str, clock: str) -> Program:
    """A timing loop over one-result calls: `setup` puts a call's arguments in place from
    r12 + rbp, and in latency mode rbp depends on the call's rax (AND 0)."""
    code = _open_loop(clock, (("r12", "rdi"), ("r14", "rdx"), ("r15", "rcx")))
    loop = len(code)
    code += setup + [Instr("call", (_r("r15"),))]
    if mode == "latency":
        code += [Instr("mov", (_r("ebp"), _r("eax")), width=32), Instr("and", (_r("ebp"), Imm(0)), width=32)]
    return _close_loop(code, loop, step, clock)


EMPTY_KERNEL = MachineCode(b"\xc3", "<empty kernel>")  # ret: measures the harness alone


def harness_code(task: Task, mode: str, clock: str = "rdtsc") -> bytes:
    return kernel_of(harness_program(task, mode, clock)).code


def clock_code() -> bytes:
    """`uint64 tsc(void)`: the TSC once everything before has completed."""
    return kernel_of(Program(_clock_to_rax("rdtsc") + [Instr("ret")], name="superopt_tsc")).code


def _open_loop(clock: str, moves: tuple) -> list[Instr]:
    """The timing loop's start: callee-saved registers pushed, the stack 16-aligned at the
    call with the pmc number at [rsp+8], the harness's arguments `moves`d (dest, source) into
    the loop's registers, the dependency rbp zeroed, the start time at [rsp]."""
    code = [Instr("push", (_r(r),), width=64) for r in HARNESS_SAVED]
    code += [Instr("sub", (_r("rsp"), Imm(24)), width=64)]
    code += [Instr("mov", (Mem(64, "rsp", disp=8), _r("r9")), width=64)]
    code += [Instr("mov", (_r(d), _r(s)), width=64) for d, s in moves]
    code += [Instr("xor", (_r("ebp"), _r("ebp")), width=32)]
    return code + _clock_to_rax(clock) + [Instr("mov", (Mem(64, "rsp"), _r("rax")), width=64), Instr("lfence")]


def _close_loop(code: list, loop: int, step: int, clock: str) -> Program:
    """The timing loop's end: advance the input pointer by `step`, count down, read the
    clock, leave the elapsed ticks in %rax and return."""
    code = code + [Instr("add", (_r("r12"), Imm(step)), width=64),
                   Instr("dec", (_r("r14"),), width=64),
                   Instr("j", (Label("loop"),), cond="ne")]
    code += _clock_to_rax(clock) + [Instr("sub", (_r("rax"), Mem(64, "rsp")), width=64),
                                    Instr("add", (_r("rsp"), Imm(24)), width=64)]
    code += [Instr("pop", (_r(r),), width=64) for r in reversed(HARNESS_SAVED)]
    code += [Instr("ret")]
    return Program(code, labels={"loop": loop}, name="superopt_harness")
