"""SMT proofs (issue 19): proof, counterexample, timeout, unmodelled instruction, loops in the
reference, and held-out kernels that tests alone pass: wrong for one value only, relying on an
undefined result, wrong only above 2^32 for a 64-bit argument; the verdict's strength label."""
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import z3
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st
from test_values import POOL, PROGRAMS, VALUE   # the value evaluator's random programs

import superopt
from superopt.check import lift
from superopt.check.prove import network, prove
from superopt.check.smt import Z3Backend, solve
from superopt.check.verdict import Proof, Verdict
from superopt.cli import main
from superopt.game.values import NumpyBackend
from superopt.tasks.registry import get_task
from superopt.x86.compute import State, flag, register, step
from superopt.x86.lazyflags import Lazy, condition
from superopt.x86.isa import CONDITIONS
from superopt.x86.parser import parse_text
from superopt.x86.semantics import FLAGS

ROOT = Path(__file__).resolve().parent.parent
ASM = ROOT / "asm"
SORT3 = (ASM / "sort3.s").read_text()


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test its own cache: recorded counterexamples must not leak between tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout


def kernel(tmp_path, text, name="k.s"):
    path = tmp_path / name
    path.write_text(text)
    return path


def c_file(tmp_path, text, name="ref.c"):
    path = tmp_path / name
    path.write_text("#include <stdint.h>\n" + text)
    return path


def asm_function(name, body):
    return "\t.globl %s\n%s:\n%s" % (name, name, "".join("\t%s\n" % line for line in body.strip().splitlines()))


# -- the conditions: comparisons after cmp and test are the exact flags' conditions ---------------
@pytest.mark.parametrize("w", [8, 16, 32, 64])
@pytest.mark.parametrize("kind", ["sub", "logic"])
def test_each_condition_as_a_comparison_equals_it_over_exact_flags(kind, w):
    be = Z3Backend()
    a, b = z3.BitVec("a", w), z3.BitVec("b", w)
    lazy = Lazy(kind, w, a, b, a & b if kind == "logic" else None)
    exact = tuple(lazy.bit(be, f) for f in FLAGS)   # booleans: condition() reads the bits
    for cond in CONDITIONS:
        fast, slow = condition(be, (lazy,) * len(FLAGS), cond), condition(be, exact, cond)
        assert solve(fast != slow, None, "z3")[0] == "unsat", cond


def test_the_spec_network_sorts_every_zero_one_input():
    for n in range(2, 9):   # the 0-1 principle: a network sorting every 0-1 input sorts everything
        for bits in itertools.product((0, 1), repeat=n):
            out = list(bits)
            for i, j in network(n):
                out[i], out[j] = min(out[i], out[j]), max(out[i], out[j])
            assert out == sorted(bits), (n, bits)


# -- sorts -------------------------------------------------------------------------------------
def test_an_arithmetic_sort3_is_proven_not_tested():
    verdict = superopt.verify(ASM / "sort3_sbb.s", random_count=100)
    assert verdict.passed and verdict.proven and not verdict.proof
    assert verdict.label.startswith("proven (SMT, bitwuzla, ") and verdict.to_json()["proof"] == verdict.label


@pytest.mark.slow
def test_the_sar_and_lea_sort3_is_proven():
    verdict = superopt.verify(ASM / "sort3_sar.s", random_count=100, prove_timeout=300)
    assert verdict.proven, verdict.label


def test_compare_and_move_kernels_keep_the_weak_ordering_proof():
    verdict = superopt.verify(ASM / "sort3.s", random_count=100)
    assert verdict.proof and verdict.smt is None and verdict.label == "proven (all weak orderings)"


@pytest.mark.parametrize("name", ["sort3_insertion", "varsort3", "sort4_enum"])
def test_kernels_with_branches_and_variable_lengths_are_proven_by_smt_too(name):
    program = superopt.load(ASM / ("%s.s" % name))
    assert prove(program, get_task(program.task), 120).status == "proven"


def magic(tmp_path):
    """A sort3 network that is wrong only when a[1] holds 77777 (the tests pass it)."""
    return kernel(tmp_path, SORT3.replace("\tmovl %eax, 0(%rdi)", "\tcmpl $77777, %ecx\n\tcmove %eax, %ecx\n"
                                                                  "\tmovl %eax, 0(%rdi)"), "magic.s")


def test_the_magic_value_kernel_fails_with_its_counterexample(tmp_path):
    path = magic(tmp_path)
    assert superopt.verify(path, random_count=1000, prove_timeout=None).passed   # tests alone pass it
    code, out = cli("verify", path, "--random", 1000, "--json")
    data = json.loads(out)
    assert code == 1 and not data["passed"] and data["smt"]["status"] == "refuted"
    ce = data["counterexample"]
    assert 77777 in ce["input"] and ce["got"] != ce["expected"] == sorted(ce["input"])
    assert data["violations"][0]["rule"] == "result" and "sort3([" in ce["line"]
    code, out = cli("verify", path, "--random", 1000)
    assert code == 1 and "refuted (SMT" in out and "77777" in out


def test_a_kernel_only_right_for_non_negative_inputs_is_refuted(tmp_path):
    # the sbb kernel without its sign flips: unsigned order, right when all signs agree
    text = "\n".join(line for line in (ASM / "sort3_sbb.s").read_text().splitlines() if "0x80000000" not in line)
    proof = prove(parse_text(text), get_task("sort3"), 60)
    assert proof.status == "refuted" and any(v < 0 for v in proof.counterexample["input"])


def test_a_callee_saved_register_changed_for_one_value_is_refuted(tmp_path):
    # (a 32-bit cmov would write %ebx, zero-extending it, whatever the condition)
    text = SORT3.replace("\tret", "\tcmpl $-5, %eax\n\tcmoveq %rcx, %rbx\n\tret")
    proof = prove(parse_text(text), get_task("sort3"), 60)
    assert proof.status == "refuted" and -5 in proof.counterexample["input"] and "calling convention" in proof.reason


# -- what the model does not cover, and the time limit -------------------------------------------
def test_an_unmodelled_address_is_tested_with_the_reason(tmp_path):
    path = kernel(tmp_path, SORT3.replace("\tmovl 0(%rdi), %eax", "\txorl %esi, %esi\n\tmovl (%rdi,%rsi,4), %eax"))
    verdict = superopt.verify(path, random_count=100)
    assert verdict.passed and not verdict.proven and verdict.smt.status == "unknown"
    assert verdict.label.startswith("tested (113 inputs): ") and "indexed address" in verdict.label
    code, out = cli("verify", path, "--random", 100, "--prove")
    assert code == 1 and "--prove: no proof" in out
    assert cli("verify", path, "--random", 100)[0] == 0


def test_the_timeout_gives_tested(tmp_path):
    path = kernel(tmp_path, (ASM / "sort5.s").read_text().replace("\tmovl 4(%rdi), %ecx\n",
                                                                   "\tmovl 4(%rdi), %ecx\n\taddl $0, %ecx\n"))
    proof = prove(superopt.load(path), get_task("sort5"), 0.01)
    assert proof.status == "unknown" and "--prove-timeout" in proof.reason
    code, out = cli("verify", path, "--random", 10, "--prove-timeout", 0.01, "--json", "--prove")
    data = json.loads(out)
    assert code == 1 and data["passed"] and not data["proven"] and data["proof"].startswith("tested (")


def test_prove_timeout_must_be_a_positive_number(tmp_path):
    assert cli("verify", ASM / "sort3.s", "--prove-timeout", "0")[0] == 2
    assert cli("verify", ASM / "sort3.s", "--prove-timeout", "nan")[0] == 2


def test_a_weak_ordering_proof_satisfies_prove():
    assert cli("verify", ASM / "sort3.s", "--random", 10, "--prove")[0] == 0


# -- function tasks --------------------------------------------------------------------------------
P01 = "uint32_t p01(uint32_t x) { return x & (x - 1); }\n"
P01_ASM = "leal -1(%rdi), %eax\nandl %edi, %eax\nret"


def test_a_function_kernel_is_proven_against_its_c_reference(tmp_path):
    ref = c_file(tmp_path, P01)
    path = kernel(tmp_path, asm_function("p01", P01_ASM))
    verdict = superopt.verify(path, str(ref), random_count=100)
    assert verdict.passed and verdict.proven and verdict.label.startswith("proven (SMT, bitwuzla")


def test_gcc_s_own_code_is_proven_equal_to_its_reference(tmp_path):
    from superopt.check.prove import reference_program
    ref = c_file(tmp_path, P01)
    task = superopt.api.get_task(str(ref))
    assert prove(reference_program(task), task, 60).status == "proven"


def test_a_kernel_wrong_for_one_value_only_is_refuted_and_recorded(tmp_path):
    ref = c_file(tmp_path, P01)
    body = P01_ASM.replace("ret", "cmpl $12345678, %edi\njne 1f\nxorl %eax, %eax\n1:\nret")
    path = kernel(tmp_path, asm_function("p01", body))
    assert superopt.verify(path, str(ref), random_count=1000, prove_timeout=None).passed   # the tests miss it
    verdict = superopt.verify(path, str(ref), random_count=1000)
    assert not verdict.passed and verdict.counterexample["args"] == [12345678]
    assert verdict.counterexample["call"] == "p01(x=12345678) = 0, expected 12345676"
    # the counterexample joined the task's inputs: now the tests alone catch it
    again = superopt.verify(path, str(ref), random_count=1000, prove_timeout=None)
    assert not again.passed and again.counterexample["args"] == [12345678]


def test_a_kernel_wrong_only_above_two_to_the_32_is_refuted(tmp_path):
    ref = c_file(tmp_path, "int64_t id(int64_t x) { return x; }\n")
    body = "movq %rdi, %rax\nmovq %rdi, %rcx\nshrq $32, %rcx\ncmpl $0x12345, %ecx\njne 1f\nxorl %eax, %eax\n1:\nret"
    path = kernel(tmp_path, asm_function("id", body))
    assert superopt.verify(path, str(ref), random_count=1000, prove_timeout=None).passed
    verdict = superopt.verify(path, str(ref), random_count=1000)
    assert not verdict.passed and verdict.counterexample["args"][0] >> 32 == 0x12345


def test_a_kernel_relying_on_an_undefined_flag_is_refuted(tmp_path):
    # OF after a shift by 2 is undefined (the CPU happens to give 0 for 0 << 2, so tests pass)
    ref = c_file(tmp_path, "int f(int x) { return x; }\n")
    body = "movl %edi, %eax\nxorl %ecx, %ecx\nshll $2, %ecx\njno 1f\nxorl %eax, %eax\n1:\nret"
    path = kernel(tmp_path, asm_function("f", body))
    assert superopt.verify(path, str(ref), random_count=100, prove_timeout=None).passed
    verdict = superopt.verify(path, str(ref), random_count=100)
    assert not verdict.passed and "an undefined result of instruction 2 (`shll $2, %ecx`)" in verdict.smt.reason


def test_a_kernel_reading_a_register_it_was_not_given_names_it(tmp_path):
    ref = c_file(tmp_path, "int f(int x) { return x; }\n")
    path = kernel(tmp_path, asm_function("f", "movl %edi, %eax\ntestl %r10d, %r10d\njne 1f\nret\n1:\nxorl %eax, %eax\nret"))
    proof = prove(superopt.load(path), superopt.api.get_task(str(ref)), 60)
    assert proof.status == "refuted" and "%r10 at entry" in proof.reason


def test_a_reference_loop_with_a_bound_unrolls(tmp_path):
    ref = c_file(tmp_path, "int cnt(uint32_t x) { int c = 0; while (x) { x &= x - 1; c++; } return c; }\n")
    task = superopt.api.get_task(str(ref))
    from superopt.check.prove import reference_program
    assert any(i.op == "j" for i in reference_program(task).instrs)
    body = "xorl %eax, %eax\n" + "".join("movl %%edi, %%ecx\nshrl $%d, %%ecx\nandl $1, %%ecx\naddl %%ecx, %%eax\n" % k
                                         for k in range(32)) + "ret"
    path = kernel(tmp_path, asm_function("cnt", body))
    assert prove(superopt.load(path), task, 120).status == "proven"


def test_a_reference_loop_without_a_bound_is_tested(tmp_path, monkeypatch):
    monkeypatch.setattr(lift, "MAX_STEPS", 60)
    # the bit-length loop runs up to 32 times: past a 60-instruction bound it is unbounded
    ref = c_file(tmp_path, "int bits(uint32_t x) { int i = 0; while (x) { x >>= 1; i++; } return i; }\n")
    path = kernel(tmp_path, asm_function("bits", "xorl %eax, %eax\nret"))
    proof = prove(superopt.load(path), superopt.api.get_task(str(ref)), 60)
    assert proof.status == "unknown" and "loop" in proof.reason


# -- the label -------------------------------------------------------------------------------------
def test_the_label_words_method_and_strength():
    v = Verdict(True, "sort3", 18, 113, 0.1, False, "instruction 2 computes")
    assert v.label == "tested (113 inputs): instruction 2 computes" and not v.proven
    v.smt = Proof("unknown", "bitwuzla", 1.0, reason="a loop without a bound")
    assert v.label == "tested (113 inputs): a loop without a bound"
    v.smt = Proof("proven", "z3", 0.07)
    assert v.label == "proven (SMT, z3, 0.07 s)" and v.proven
    v.smt, v.proof = None, True
    assert v.label == "proven (all weak orderings)"


# -- the z3 backend against the numpy one, over the same semantics ----------------------------------


@settings(max_examples=60)
@given(PROGRAMS, st.fixed_dictionaries({f: VALUE for f in POOL}), st.integers(0, 63))
def test_the_z3_backend_computes_what_the_numpy_backend_does(instrs, regs, flag_bits):
    """From the same concrete state, every register and flag z3 can reduce to a constant (it
    does not depend on an undefined result) is the numpy backend's value."""
    zb, nb = Z3Backend(), NumpyBackend(1, np.random.default_rng(0))
    flags = [bool(flag_bits >> i & 1) for i in range(len(FLAGS))]
    zs = State.initial(zb, {f: zb.const(64, v) for f, v in regs.items()})
    ns = State.initial(nb, {f: np.array([v], dtype=np.uint64) for f, v in regs.items()})
    zs = State(zs.regs, tuple(z3.BoolVal(b) for b in flags), zs.memory, zs.pointers)
    ns = State(ns.regs, tuple(np.array([b]) for b in flags), ns.memory, ns.pointers)
    for ins in instrs:
        zs, ns = step(zb, zs, ins), step(nb, ns, ins)
        for f in POOL:
            got = z3.simplify(register(zb, zs, f))
            if z3.is_bv_value(got):
                assert got.as_long() == int(register(nb, ns, f)[0]), (ins.att(), f)
        for name in FLAGS:
            got = z3.simplify(flag(zb, zs.flags, name))
            if z3.is_true(got) or z3.is_false(got):
                assert z3.is_true(got) == bool(flag(nb, ns.flags, name)[0]), (ins.att(), name)
