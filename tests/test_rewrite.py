"""`rewrite` (networks compiled with AlphaDev's saving), the networks it reads, the saved
sort6 and sort7 kernels, and the AlphaDev agent's `init_bound` (another searcher's first bound)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from superopt.agents.base import SearchOptions
from superopt.agents.comparators import NETWORKS, candidates, mirrored, network_of, sorts, without_wire
from superopt.agents.rewrite import proven, run
from superopt.check.verify import verify
from superopt.cli import main
from superopt.errors import InputError
from superopt.game.game import Game
from superopt.tasks.registry import get_task
from superopt.x86.parser import load, parse_file, parse_text


def test_the_known_networks_sort_and_a_broken_one_does_not():
    for n, nets in NETWORKS.items():
        for net in nets.values():
            assert sorts(n, net) and sorts(n, mirrored(n, net))
    assert not sorts(6, NETWORKS[6]["the network"][:-1])


def test_fixing_a_wire_leaves_a_network_for_one_input_fewer():
    seven = NETWORKS[7]["the network"]
    for wire in range(7):
        for top in (True, False):
            assert sorts(6, without_wire(7, seven, wire, top))
    assert all(len(net) == 12 and sorts(6, net) for net in candidates(6).values())


def test_network_of_reads_the_human_kernels_back():
    for n in (4, 6, 8):
        assert network_of(parse_file("asm/sort%d.s" % n), n) == NETWORKS[n]["the network"]


def test_network_of_refuses_a_kernel_that_is_no_network():
    with pytest.raises(InputError, match=r"asm/sort5_polished.s:\d+: not a comparator-network kernel"):
        network_of(parse_file("asm/sort5_polished.s"), 5)
    with pytest.raises(InputError, match="bad.s:2: .*only mov, cmp and cmov"):
        network_of(parse_text("movl (%rdi), %eax\naddl %eax, %eax\nret\n", path="bad.s"), 3)


def test_rewrite_on_sort6_beats_the_network_and_is_proven():
    task = get_task("sort6")
    options = SearchOptions(workers=1, params={"networks": "known", "width": 20, "polish": 0})
    result = run(Game(task), options, lambda stats: None, lambda: False)
    assert result.length <= 57 < 60 and result.extras["compiled_length"] == result.length
    assert proven(result.program, task, result.extras["registers"])
    verdict = verify(result.program, task)
    assert verdict.passed and verdict.proven


def test_rewrite_on_sort3_reaches_the_optimal_17():
    task = get_task("sort3")   # (a cmov into an empty register once slipped through here)
    result = run(Game(task), SearchOptions(workers=1, params={"polish": 0}), lambda stats: None, lambda: False)
    assert result.length == 17 and proven(result.program, task, result.extras["registers"])


def test_proven_rejects_a_wrong_kernel():
    program = parse_file("asm/sort6.s")
    task = get_task("sort6")
    assert proven(program, task, 8)
    broken = type(program)(instrs=[i for k, i in enumerate(program.instrs) if k != 10])
    assert not proven(broken, task, 8)


def _saved(n):
    program, task = load("asm/sort%d_best.s" % n)
    verdict = verify(program, task)
    return program, verdict


@pytest.mark.parametrize("n, alphadev", [(6, 57), (7, 76)])
def test_the_saved_kernels_are_proven_and_shorter_than_alphadevs(n, alphadev):
    program, verdict = _saved(n)
    assert verdict.passed and verdict.proven and verdict.label == "proven (all weak orderings)"
    assert sum(i.op != "ret" for i in program.instrs) < alphadev
    assert "superopt search sort%d" % n in "\n".join(text for _, text in program.comment)


def test_the_saved_fast_sort6_is_proven_at_alphadevs_length():
    program, task = load("asm/sort6_fast.s")
    verdict = verify(program, task)
    assert verdict.passed and verdict.proven and sum(i.op != "ret" for i in program.instrs) == 57


def _search(tmp_path, *args):
    return CliRunner().invoke(main, ["search", *args, "--out", str(tmp_path / "out.s"), "--workers", "1"])


def test_rewrite_refuses_an_init_that_is_no_network(tmp_path):
    result = _search(tmp_path, "sort5", "--agent", "rewrite", "--init", "asm/sort5_polished.s")
    assert result.exit_code == 2 and "not a comparator-network kernel" in result.output


@pytest.mark.parametrize("value, message", [("nosuch", "init_bound must be beam, enum or a kernel file"),
                                            ("asm/sort3.s", "does not sort every weak ordering"),
                                            ("asm/sort4_latency.s:x", "init_bound must be")])
def test_init_bound_bad_values_exit_2(tmp_path, value, message):
    result = _search(tmp_path, "sort4", "--param", "init_bound=" + value, "--time-limit", "30")
    assert result.exit_code == 2 and message in result.output, result.output


def test_init_bound_outside_the_action_space_exits_2(tmp_path):
    bad = tmp_path / "bad.s"
    bad.write_text("# task: sort4\nmovl (%rdi), %eax\naddl %eax, %eax\nret\n")
    result = _search(tmp_path, "sort4", "--param", "init_bound=%s" % bad, "--time-limit", "30")
    assert result.exit_code == 2 and "action space" in result.output


def test_init_bound_from_a_file_is_the_result_when_the_agent_finds_nothing_shorter(tmp_path):
    result = _search(tmp_path, "sort4", "--param", "init_bound=asm/sort4_enum.s", "--target-length", "28",
                     "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["instructions"] == 28 and data["verified"]
    assert data["extras"]["produced_by"] == "asm/sort4_enum.s" and data["extras"]["init_bound"]["length"] == 28
    assert load(str(tmp_path / "out.s"))[0].header["produced by"].startswith("asm/sort4_enum.s (first upper bound")


def test_init_bound_from_enum_says_enum_produced_it(tmp_path):
    result = _search(tmp_path, "sort3", "--param", "init_bound=enum", "--target-length", "17", "--json")
    assert result.exit_code == 0, result.output
    extras = json.loads(result.output)["extras"]
    assert extras["produced_by"] == "enum" and extras["init_bound"]["length"] == 17
