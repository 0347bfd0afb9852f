"""Search on function tasks (issue 18): the general ISA as a search space, STOKE's chain with
CEGIS (the value evaluator, Unicorn, SMT), the result file, Ctrl-C and bad options. Budgets
are proposals, never seconds."""
import json
import random
import signal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from superopt import api
from superopt.agents.cegis import Checker
from superopt.agents.stoke import Chain, StokeParams
from superopt.cli import main
from superopt.errors import SuperoptError
from superopt.game.scalar import ScalarGame
from superopt.game.space import Space, constant_pool
from superopt.x86.assembler import problem
from superopt.x86.cpu import available
from superopt.x86.parser import parse_text

HACKERS = Path(__file__).parent.parent / "bench" / "hackers"
P01 = str(HACKERS / "p01.c")


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test its own cache: compiled objects and counterexamples."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_space_offers_only_encodable_caller_saved_register_forms():
    task = api.get_task(P01)
    space = Space(task)
    assert space.registers[:2] == ("rdi", "rax") and not {"rbx", "rbp", "rsp", "r12"} & set(space.registers)
    assert {"blsr", "lea", "and", "imul", "cmov", "set"} <= set(space.ops) and "push" not in space.ops
    rng = random.Random(0)
    for _ in range(500):
        ins = space.random(rng)
        assert problem(ins) is None and space.contains(ins)
        for change in (space.with_opcode(rng, ins), space.with_operand(rng, ins)):
            assert change is None or (problem(change) is None and space.contains(change))
    pool = constant_pool((7,), (32, 64))
    assert {0, 1, -1, 2, -2, 7, 31, 32, 63, 64, 0xFF, 0xFFFF, 0xFFFFFFFF} <= set(pool)


def test_gcc_code_is_the_warm_start_and_the_length_to_beat():
    game = ScalarGame(api.get_task(P01))
    assert game.reference_length == 2 and game.max_length == 4
    assert [i.att() for i in game.warm] == ["leal -1(%rdi), %eax", "andl %edi, %eax"]


@pytest.mark.slow
def test_p01_finds_a_proven_kernel_no_longer_than_gcc():
    result = api.search(P01, workers=1, steps=4000, seed=0)
    assert result.verified and result.length <= 2
    assert result.header["checked"].startswith("proven (SMT, ") and result.header["reference"] == \
        "gcc -O2, 2 instructions"
    assert api.verify(result.program, P01).passed


@pytest.mark.slow
def test_runs_are_deterministic_per_seed():
    runs = [api.search(P01, workers=1, steps=6000, seed=3, params={"prove": 0, "start": "empty"}) for _ in range(2)]
    assert [i.att() for i in runs[0].program.instrs] == [i.att() for i in runs[1].program.instrs]
    assert runs[0].explored == runs[1].explored


@pytest.mark.slow
def test_few_tests_grow_by_counterexamples():
    """With one test input, programs that pass it fail the whole verification set: its
    inputs join the chain's tests, and what the chain reports is still correct."""
    game = ScalarGame(api.get_task(P01))
    chain = Chain(game, StokeParams(tests=1, prove=0, start="empty", misalign=0), 0, [], Checker(game.task, 0))
    chain.run(3000, lambda: False)
    assert len(chain.tests) > 1
    if chain.best is not None:
        assert api.verify(game.to_program(chain.best), P01).passed


def test_a_kernel_wrong_for_one_value_is_refuted_and_its_input_recorded():
    """Unicorn's random inputs miss x = 0x12345678; the proof finds it, and the input joins
    the task's counterexamples (and so every later search's tests)."""
    task = api.get_task(P01)
    wrong = parse_text("leal -1(%rdi), %eax\nandl %edi, %eax\ncmpl $305419896, %edi\nsete %cl\naddb %cl, %al\n")
    outcome = Checker(task, 30.0)(wrong.instrs)
    assert not outcome.passed and outcome.label.startswith("refuted (SMT")
    assert [int(v) for v in outcome.counterexamples[:, 0]] == [0x12345678]
    assert 0x12345678 in task.inputs()[:, 0]


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_keeps_the_best_checked_program(workers):
    """SIGINT during the search (in-process, or chains in the worker pool): it stops at once
    and returns the warm start, checked (a chain checks its start before anything else)."""
    sent = []

    def report(stats):
        if not sent:
            sent.append(True)
            signal.raise_signal(signal.SIGINT)

    result = api.search(P01, workers=workers, steps=10_000_000, report=report, params={"start": "warm"})
    assert sent and result.extras["interrupted"] and result.verified and result.length <= 2
    assert result.explored < 10_000


@pytest.mark.slow
def test_the_cli_writes_a_file_that_verify_passes(tmp_path):
    out = tmp_path / "p01.s"
    r = cli("search", P01, "--workers", "1", "--steps", "2000", "--json", "--out", out)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["found"] and data["verified"] and data["agent"] == "stochastic" and data["isa"] == "general"
    text = out.read_text()
    assert "# checked: proven (SMT, " in text and "# agent: stochastic" in text and "# spec: " in text
    if "blsr" in text:
        assert "# needs: bmi1" in text
    assert cli("verify", out, "--task", P01).exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["--agent", "alphadev", "--param", "simulations=0"], "agent alphadev: --param simulations wants a positive"),
    (["--agent", "alphadev", "--all"], "--all is for the enum agent"),
    (["--agent", "enum", "--steps", "5"], "--steps is for the stochastic and alphadev agents, not for enum"),
    (["--isa", "alphadev"], "--isa alphadev is for the sort tasks: p01 is a function task, searched over --isa general"),
    (["--no-prune", "memory_order"], "--no-prune names the sort tasks' pruning rules: function tasks have none"),
    (["--param", "bogus=1"], "unknown --param 'bogus' for agent stochastic"),
    (["--param", "tests=0"], "agent stochastic: --param tests wants a positive integer, got 0"),
    (["--all"], "--all is for the enum agent"),
    (["--signature", "uint32_t f(uint32_t x)"], "--signature is for an assembly spec"),
])
def test_bad_options_are_one_line_and_exit_2(args, message):
    r = cli("search", P01, *args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_enum_finds_the_optimal_p01_and_says_within_what():
    result = api.search(P01, agent="enum", workers=1)
    assert result.optimal and result.length == 1 and result.verified
    assert result.header["optimal"].startswith("proven within the general ISA")
    assert result.header["checked"].startswith("proven (SMT")


def test_general_isa_is_for_function_tasks():
    r = cli("search", "sort3", "--isa", "general")
    assert r.exit_code == 2 and "--isa general is for function tasks" in r.output


def test_a_warm_start_outside_the_space_is_refused_in_one_line(tmp_path):
    init = tmp_path / "init.s"
    init.write_text("p01:\n\tpushq %rbx\n\tpopq %rbx\n\tret\n")
    with pytest.raises(SuperoptError, match="the warm start is outside the search's space"):
        api.search(P01, workers=1, steps=10, init=str(init))


def test_gcc_code_outside_the_space_falls_back_to_its_if_conversion():
    """p18's gcc code branches, with this CPU's extensions too: the warm start is its
    if-conversion (superopt.game.ifconvert), and the note says why gcc's own is not.
    p10's branches become lzcnt with the extensions: that code is the warm start."""
    game = ScalarGame(api.get_task(str(HACKERS / "p18.c")))
    assert game.warm_source.endswith(", if-converted") and "outside the search's space (je " in game.warm_note
    assert not {"j", "jmp"} & {i.op for i in game.warm}
    assert np.array_equal(game.expected, game.task.expected(game.args))
    if "lzcnt" in available():
        game = ScalarGame(api.get_task(str(HACKERS / "p10.c")))
        assert game.reference_length == 13 and game.warm_source.startswith("gcc -O2 -m")
        assert "lzcnt" in {i.op for i in game.warm} and len(game.warm) < 13
