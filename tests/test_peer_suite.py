"""The Hacker's Delight peer suite's searcher fixes (issue 18): if-converted warm starts for
references that branch (p18, p20), the stochastic cost's `wrong` and `misalign` terms. Budgets
are proposals, never seconds."""
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from superopt import api
from superopt.agents.cegis import Checker
from superopt.agents.stoke import Chain, StokeParams
from superopt.cli import main
from superopt.game.ifconvert import if_convert
from superopt.game.scalar import ScalarGame
from superopt.game.values import ValueEvaluator
from superopt.tasks.csource import c_assembly
from superopt.x86 import semantics
from superopt.x86.cpu import available
from superopt.x86.isa import Program, with_ret
from superopt.x86.parser import parse_text

HACKERS = Path(__file__).parent.parent / "bench" / "hackers"


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def task(name):
    return api.get_task(str(HACKERS / (name + ".c")))


@pytest.mark.parametrize("name", ["p18", "p20"])
def test_an_early_return_is_if_converted_exactly(name):
    """gcc -O2's `test; je .Lret; B; .Lret: ret` becomes straight-line code that is right on
    the whole verification set (edge values included: x = 0 takes the branch)."""
    t = task(name)
    listing = c_assembly(t)
    assert "j" in {i.op for i in listing.instrs}
    converted = if_convert(listing)
    assert converted is not None and not {"j", "jmp", "ret"} & {i.op for i in converted}
    assert len(converted) == len(listing.instrs) - 2 + 4     # the jcc and ret out; mov, setcc, bt, cmov in
    args = t.inputs()
    ev = ValueEvaluator(t, args)
    assert ev.correct(ev.run(converted))
    assert api.verify(with_ret(Program(converted, name=name)), t).passed     # and in Unicorn


@pytest.mark.parametrize("text", [
    "p:\n\tleal -1(%rdi), %eax\n\tandl %edi, %eax\n\tret\n",                                  # no branch
    "p:\n\txorl %eax, %eax\n.L2:\n\tincl %eax\n\tdecl %edi\n\tjne .L2\n\tret\n",              # a loop
    "p:\n\ttestl %edi, %edi\n\tje .L1\n\tmovl %edi, %eax\n\tjmp .L2\n.L1:\n\txorl %eax, %eax\n.L2:\n\tret\n",  # a diamond
    "p:\n\ttestl %edi, %edi\n\tje .L1\n\tmovl (%rsi), %eax\n.L1:\n\tret\n",                 # B loads
    "p:\n\ttestl %edi, %edi\n\tje .L1\n\tmovl %edi, %ebx\n.L1:\n\tret\n",                   # B writes rbx
])
def test_what_is_not_an_early_return_is_left_alone(text):
    assert if_convert(parse_text(text)) is None


def test_the_if_conversion_keeps_the_taken_paths_rax():
    """Taken (x = 0): the rax before the branch; not taken: the block's."""
    program = parse_text("p:\n\tmovl $7, %eax\n\ttestl %edi, %edi\n\tje .L1\n\tleal 1(%rdi), %eax\n.L1:\n\tret\n")
    converted = if_convert(program)
    assert [i.att() for i in converted] == [
        "movl $7, %eax", "testl %edi, %edi", "movq %rax, %rcx", "sete %dl", "leal 1(%rdi), %eax",
        "btl $0, %edx", "cmovb %rcx, %rax"]


@pytest.mark.slow
@pytest.mark.skipif("bmi1" not in available(), reason="the short p18s found use blsr")
def test_p18_is_found_no_longer_than_gcc_in_a_small_budget():
    result = api.search(str(HACKERS / "p18.c"), workers=1, steps=20_000, seed=0)
    assert result.verified and result.length is not None and result.length <= 6
    assert result.header["checked"].startswith("proven (SMT, ")
    assert api.verify(result.program, str(HACKERS / "p18.c")).passed


def _cost(name, text, warm=True, **params):
    """The cost of `text` in a chain on task `name` that starts from gcc's code (or empty)."""
    game = ScalarGame(task(name))
    chain = Chain(game, StokeParams(prove=0, **params), 0, game.warm if warm else [], Checker(game.task, 0))
    program = list(parse_text(text).instrs)
    return chain._extend(program, [chain.ev.initial()], 0), len(chain.tests)


def test_a_result_in_another_register_costs_the_misalignment_only():
    """p25's `mull %esi` leaves the high half in %edx on every input: misalign (1) per input,
    no input counted wrong; without the term, every input is wrong."""
    (cost, correct), _ = _cost("p25", "movl %edi, %eax\nmull %esi\n")
    assert not correct and 2 < cost <= 1 + 2      # (rax is right where both halves are 0)
    (cost, _), tests = _cost("p25", "movl %edi, %eax\nmull %esi\n", misalign=0)
    assert cost >= 4 * tests
    (cost, correct), _ = _cost("p25", "movl %edi, %eax\nmull %esi\nmovl %edx, %eax\n")
    assert correct and cost == 3


def test_a_wrong_one_bit_result_costs_more_than_a_longer_right_one():
    """p22 (parity): 0 for every input is wrong on the odd ones; with `wrong` (4 by default in
    a chain that starts from gcc's code) each of them costs 4, so the right popcnt + and (2) is
    cheaper; with wrong=0 (an empty chain's default) it is not."""
    (zero, _), _ = _cost("p22", "xorl %eax, %eax\n")
    (right, correct), _ = _cost("p22", "popcntl %edi, %eax\nandl $1, %eax\n")
    assert correct and right == 2 and zero > 4 + 1
    for given in ({"wrong": 0}, {"warm": False}):
        (zero, _), _ = _cost("p22", "xorl %eax, %eax\n", **given)
        assert zero < right


@pytest.mark.skipif(shutil.which("gcc-12") is None, reason="needs a second name for a compiler")
def test_the_compiler_given_is_the_tasks_warm_start_and_baseline():
    """--cc gcc-12: the task remembers it; the game's reference, its warm start and bench's
    baselines are gcc-12's, and the result header names it."""
    t = api.get_task(str(HACKERS / "p01.c"), cc="gcc-12")
    assert t.cc == "gcc-12" and "compiled with gcc-12 -O2" in t.description
    game = ScalarGame(t)
    assert game.reference_name == "gcc-12 -O2" and game.warm_source.startswith("gcc-12 -O2")
    assert c_assembly(t).instrs == c_assembly(api.get_task(str(HACKERS / "p01.c"))).instrs
    result = api.search(t, workers=1, steps=300, seed=0, params={"prove": 0})
    assert result.header["reference"].startswith("gcc-12 -O2, 2 instructions")


def test_an_unknown_compiler_is_one_line_and_exit_2():
    r = CliRunner().invoke(main, ["search", str(HACKERS / "p01.c"), "--cc", "no-such-cc"])
    assert r.exit_code == 2 and "no compiler 'no-such-cc' on PATH" in r.output
    assert len(r.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_alphadev_searches_a_function_task_from_scratch():
    """The AlphaDev agent on p01, untrained, a few learner steps: a program it returns passed
    Unicorn and the proof, and is no longer than gcc's; what it plays is the value game."""
    result = api.search(str(HACKERS / "p01.c"), agent="alphadev", workers=1, steps=30, seed=0)
    assert result.extras["network"] == "from scratch" and result.extras["actions"] > 100
    if result.program is not None:
        assert result.verified and result.length <= 2 and result.header["agent"] == "alphadev"
        assert result.header["checked"].startswith(("proven (SMT", "tested"))
        assert api.verify(result.program, str(HACKERS / "p01.c")).passed


def test_the_value_game_plays_like_the_assembly_game():
    """ValuePlay: blsr solves p01 in one move; features are bits; the last move must write rax;
    an unsolved state's reward follows the share of right result bits."""
    from superopt.game.valueplay import ValuePlay
    play = ValuePlay(ScalarGame(task("p01")))
    assert play.max_length == 2
    root = play.initial()
    blsr = next(i for i, a in enumerate(play.actions) if a.att() == "blsrl %edi, %eax")
    child = play.step(root, blsr)
    assert child.solved and play.is_terminal(child) and play.reward(root, child) > 1
    feats = play.features(child)
    assert feats.shape[0] == 8 and set(np.unique(feats)) <= {0, 1}
    wrong = play.step(root, next(i for i, a in enumerate(play.actions) if a.att() == "notl %edi"))
    assert not wrong.solved and 0 < wrong.correct_items < wrong.total_items
    last = np.flatnonzero(play.legal_mask(wrong))
    assert len(last) and all("rax" in semantics.writes(play.actions[a]) for a in last)
    assert len(last) < play.num_actions


def test_a_solved_game_loses_its_dead_instructions():
    from superopt.agents.alphadev.function import shorten
    from superopt.game.valueplay import ValuePlay
    play = ValuePlay(ScalarGame(task("p03")))
    ids = {a.att(): i for i, a in enumerate(play.actions)}
    moves = (ids["andl $2, %eax"], ids["blsil %edi, %eax"])
    assert shorten(play, moves) == (ids["blsil %edi, %eax"],)
    assert shorten(play, (ids["blsil %edi, %eax"],)) == (ids["blsil %edi, %eax"],)
