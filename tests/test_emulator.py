"""The emulator: batches run, the translation cache is flushed, forbidden accesses trap."""
import numpy as np
import pytest

from superopt.run.emulator import Emulator, Stop, can_loop, can_straddle
from superopt.run.layout import KERNEL_BASE, REGISTER_SETS, array_address
from superopt.x86.isa import FAMILIES
from superopt.x86.parser import parse_text
from superopt.tasks.registry import get_task

SORT3 = get_task("sort3")
STORE_CONST = "movl {reg}, (%rdi)\nret\n"


@pytest.fixture(scope="module")
def emu():
    return Emulator()


def run(emu, text, arrays=None, task=SORT3, **kw):
    emu.load(parse_text(text))
    if arrays is None:
        arrays, lengths = task.proof_inputs()
    else:
        arrays = np.asarray(arrays, dtype=np.int32)
        lengths = np.full(len(arrays), task.n)
    lengths_allowed = tuple(range(task.n + 1)) if task.variable else (task.n,)
    return emu.run(task.n, lengths_allowed, arrays, lengths, **kw)


def test_batch_runs_every_input(emu):
    text = "movl 8(%rdi), %eax\nmovl (%rdi), %ecx\nmovl %eax, (%rdi)\nmovl %ecx, 8(%rdi)\nret\n"
    arrays, _ = SORT3.proof_inputs()
    result = run(emu, text)
    assert result.stop is None and result.completed == len(arrays)
    assert (result.outputs == arrays[:, ::-1]).all()


def test_second_program_really_runs(emu):
    """Without flushing Unicorn's translation cache the first program would run again."""
    first = run(emu, "movl 4(%rdi), %eax\nmovl %eax, (%rdi)\nret\n", [[1, 2, 3]])
    second = run(emu, "movl 8(%rdi), %eax\nmovl %eax, (%rdi)\nret\n", [[1, 2, 3]])
    assert first.outputs.tolist() == [[2, 2, 3]]
    assert second.outputs.tolist() == [[3, 2, 3]]


def test_more_inputs_than_one_batch(emu, monkeypatch):
    import superopt.run.emulator as em
    monkeypatch.setattr(em, "BATCH", 64)
    arrays = np.arange(300 * 3, dtype=np.int32).reshape(300, 3)
    result = run(emu, "movl (%rdi), %eax\nmovl %eax, 8(%rdi)\nret\n", arrays)
    assert result.completed == 300
    assert (result.outputs[:, 2] == arrays[:, 0]).all()


def test_registers_come_from_the_seeded_sets(emu):
    sets = Emulator.register_sets(5)
    result = run(emu, STORE_CONST.format(reg="%r9d"), [[0, 0, 0]] * 3, seed=5, set_offset=7)
    want = [np.int64(sets[(i + 7) % REGISTER_SETS, FAMILIES.index("r9")]) & 0xFFFFFFFF for i in range(3)]
    assert (result.outputs[:, 0].astype(np.int64) & 0xFFFFFFFF).tolist() == [int(w) for w in want]
    other = run(emu, STORE_CONST.format(reg="%r9d"), [[0, 0, 0]] * 3, seed=6)
    assert other.outputs[:, 0].tolist() != result.outputs[:, 0].tolist()


@pytest.mark.parametrize("text, region, kind", [
    ("movl 12(%rdi), %eax\nret\n", "guard", "read"),
    ("movl %eax, -4(%rdi)\nret\n", "guard", "write"),
    ("movl 8(%rsp), %eax\nret\n", "caller frame", "read"),
    ("movq %rdi, (%rsp)\nret\n", "return address", "write"),
])
def test_forbidden_access_names_instruction(emu, text, region, kind):
    result = run(emu, text, [[1, 2, 3]])
    assert result.stop == "forbidden access" and result.completed == 0
    assert result.access.region == region and result.access.kind == kind
    assert result.access.pc == KERNEL_BASE  # the first instruction


@pytest.mark.parametrize("task, text, kind", [
    (SORT3, "movq 8(%rdi), %rax\nret\n", "read"),       # a[2] and 4 guard bytes
    (SORT3, "movl 10(%rdi), %eax\nret\n", "read"),
    (SORT3, "movl %eax, 10(%rdi)\nret\n", "write"),
    (get_task("sort4"), "movq 12(%rdi), %rax\nret\n", "read"),   # across the page boundary
    (get_task("sort4"), "movq %rax, 12(%rdi)\nret\n", "write"),
])
def test_access_straddling_the_end_of_the_array_names_instruction(emu, task, text, kind):
    result = run(emu, text, [list(range(task.n))], task=task)
    assert result.stop == "forbidden access" and result.access.kind == kind and result.access.region == "guard"
    assert result.access.pc == KERNEL_BASE  # caught by the hook, not only by the guard compare


def test_accesses_to_the_last_element_are_allowed(emu):
    text = "movl 8(%rdi), %eax\nmovw 10(%rdi), %cx\nmovb %al, 11(%rdi)\nmovl %eax, 8(%rdi)\nret\n"
    assert can_straddle(parse_text(text))  # so the hook after the array starts early
    assert run(emu, text, [[1, 2, 3]]).stop is None


@pytest.mark.parametrize("text, straddles", [
    ("movl 8(%rdi), %eax\nmovb %al, (%rdi)\nret", False),  # aligned element slots
    ("movq 8(%rdi), %rax\nret", True),
    ("movl 6(%rdi), %eax\nret", True),
    ("movl (%rdi,%rcx,4), %eax\nret", True),
    ("movq %rdi, %rcx\nmovl 8(%rcx), %eax\nret", True),
    ("addq $2, %rdi\nmovl 8(%rdi), %eax\nret", True),
])
def test_can_straddle(text, straddles):
    assert can_straddle(parse_text(text)) == straddles


def test_unmapped_access_faults(emu):
    result = run(emu, "movl 0x100000(%rdi), %eax\nret\n", [[1, 2, 3]])
    assert result.stop == "fault" and result.access.region == "unmapped memory"
    assert result.access.address == array_address(3) + 0x100000


def test_stops_are_typed(emu):
    unmapped = run(emu, "movl 0x100000(%rdi), %eax\nret\n", [[1, 2, 3]])
    assert unmapped.stop is Stop.FAULT and unmapped.fault is None   # seen by the hook: the access says it
    assert run(emu, "movl $1, %r12d\nret\n", [[1, 2, 3]]).stop is Stop.CALLEE_SAVED
    assert run(emu, ".Lx:\njmp .Lx\n", [[1, 2, 3]], step_limit=100).stop is Stop.STEP_LIMIT


def test_step_limit_stops_a_loop(emu):
    program = parse_text(".Lx:\njmp .Lx\n")
    assert can_loop(program)
    result = run(emu, ".Lx:\njmp .Lx\n", [[1, 2, 3]] * 5, step_limit=100)
    assert result.stop == "step limit" and result.completed == 0


def test_trace_records_kernel_instructions(emu):
    result = run(emu, "nop\nnop\nret\n", [[1, 2, 3]], trace=True)
    assert result.trace == [KERNEL_BASE, KERNEL_BASE + 1, KERNEL_BASE + 2]


def test_callee_saved_and_rsp_checked_by_driver(emu):
    assert run(emu, "movl $1, %r12d\nret\n", [[1, 2, 3]]).stop == "callee-saved"
    assert run(emu, "movq (%rsp), %rax\npushq %rax\nret\n", [[1, 2, 3]]).stop == "rsp"


def test_variable_length_arrays_are_separate(emu):
    task = get_task("varsort3")
    arrays, lengths = task.proof_inputs()
    emu.load(parse_text("ret\n"))
    ok = emu.run(3, (0, 1, 2, 3), arrays, lengths)
    assert ok.stop is None and ok.completed == len(arrays)
    # n = 0: even a[0] is outside the array
    emu.load(parse_text("movl (%rdi), %eax\nret\n"))
    zero = emu.run(3, (0, 1, 2, 3), arrays[:1], np.array([0]))
    assert lengths[0] == 0 and zero.stop == "forbidden access"


def test_without_hooks_a_guard_write_is_still_caught(emu):
    result = run(emu, "movl %eax, 12(%rdi)\nret\n", [[1, 2, 3]], hooks=False)
    assert result.stop == "forbidden access" and result.access.region == "guard"
    assert result.access.pc == 0  # found by comparing the guard bytes: no instruction known
    # and the hooks come back for the next run that wants them
    hooked = run(emu, "movl %eax, 12(%rdi)\nret\n", [[1, 2, 3]])
    assert hooked.access.pc == KERNEL_BASE


def test_a_silent_stop_mid_batch_is_a_step_limit(emu, monkeypatch):
    """Unicorn stops silently at its wall-clock limit (TIMEOUT_US), the last line of defence
    for kernels without an instruction limit (no backward jumps) that still keep the driver
    busy, e.g. by rewinding its data in one layout; the emulator notices the batch is
    unfinished. The stop comes here from an instruction count instead of Unicorn's timer,
    whose moment depends on the machine's load (with a 1 ms TIMEOUT_US this test once
    failed on a loaded machine)."""
    import superopt.run.emulator as em
    start, timeouts = emu.uc.emu_start, []

    def stop_early(begin, until, timeout=0, count=0):
        timeouts.append(timeout)
        return start(begin, until, timeout=timeout, count=50_000)

    monkeypatch.setattr(emu.uc, "emu_start", stop_early)
    arrays = np.zeros((100, 3), dtype=np.int32)
    # 100 x 10,001 instructions, within the step limit, so not counted
    result = run(emu, "nop\n" * 10_000 + "ret\n", arrays, step_limit=10_001)
    assert timeouts == [em.TIMEOUT_US]
    assert result.stop == "step limit" and 0 < result.completed < 10


def test_hooks_come_and_go_between_runs(emu):
    text = "movl 12(%rdi), %eax\nret\n"  # reads the guard, harmlessly
    assert run(emu, text, [[1, 2, 3]]).stop == "forbidden access"
    assert run(emu, text, [[1, 2, 3]], hooks=False).stop is None
    assert run(emu, text, [[1, 2, 3]]).stop == "forbidden access"


@pytest.mark.parametrize("text, can_run", [
    ("nop\n" * 24 + "ret\n", 25),                                  # straight line: its length
    ("movl $3, %ecx\n1: decl %ecx\njne 1b\nret\n", 1 + 3 * 2 + 1),   # a loop: 3 rounds
])
def test_the_step_limit_is_exact_per_input(emu, text, can_run):
    """--step-limit holds per input whatever the kernel: a straight-line kernel needs no
    limit at its length or above, below it each call is counted (so are loops below the
    default limit), and the batch budget of loop kernels no longer lets one input borrow
    from the others."""
    arrays = np.zeros((300, 3), dtype=np.int32)
    assert run(emu, text, arrays, step_limit=can_run).stop is None
    result = run(emu, text, arrays, step_limit=can_run - 1)
    assert result.stop is Stop.STEP_LIMIT and result.completed == 0
    assert run(emu, text, arrays, step_limit=1).stop is Stop.STEP_LIMIT
    assert run(emu, text, arrays).stop is None  # the default: unchanged, not counted


def test_unicorns_bmi_bugs_are_corrected(emu):
    """bzhi with an index of 40 keeps its 32-bit source (Unicorn 2.1.4 clears the top bit);
    blsi's CF is (source != 0) (Unicorn's is inverted): run.bmi_fixes' hooks, which the
    next program's load removes. Unicorn alone gives [[0x7fffffff, 1, 0], [0, 2, 0]]."""
    text = ("movl (%rdi), %eax\nmovl $40, %ecx\nbzhi %ecx, %eax, %edx\nsetc %cl\nmovl %edx, (%rdi)\n"
            "movzbl %cl, %ecx\nblsi %eax, %eax\nadcl $0, %ecx\nmovl %ecx, 4(%rdi)\nret\n")
    result = run(emu, text, [[-1, 0, 0], [0, 0, 0]])
    assert result.outputs.tolist() == [[-1, 2, 0], [0, 1, 0]]
    plain = run(emu, "movl $40, %ecx\nmovl (%rdi), %eax\nmovl %eax, 4(%rdi)\nret\n", [[-1, 0, 0]])
    assert plain.outputs.tolist() == [[-1, -1, 0]]
