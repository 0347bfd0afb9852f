"""`superopt search` and the search driver: files, headers, exit codes, JSON, stopping."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from superopt.cli import main
from superopt.game.game import Game
from superopt.x86.parser import load
from superopt.agents.base import SearchOptions
from superopt.driver import run_search
from superopt.errors import SuperoptError
from superopt.tasks.registry import get_task
from superopt.check.verify import verify


def _search(tmp_path, *args):
    out = tmp_path / "out.s"
    result = CliRunner().invoke(main, ["search", *args, "--out", str(out)])
    return result, out


def test_stochastic_warm_start_writes_a_verified_kernel(tmp_path):
    result, out = _search(tmp_path, "sort3", "--agent", "stochastic", "--init", "asm/sort3.s",
                          "--target-length", "17", "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["found"] and data["instructions"] == 17 and data["verified"] and data["optimal"] is False
    assert data["proof"] == "not proven"
    program, task = load(str(out))
    assert program.header["task"] == "sort3" and program.header["isa"] == "alphadev"
    assert program.header["length"] == "17" and program.header["agent"] == "stochastic"
    assert program.header["optimal"] == "not proven" and "# programs explored: " in out.read_text()
    assert verify(program, task).passed
    # the written file passes `superopt verify` too
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0


def test_enum_that_finds_nothing_exits_1_and_writes_nothing(tmp_path):
    result, out = _search(tmp_path, "sort3", "--agent", "enum", "--max-length", "11", "--workers", "1", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert not data["found"] and data["extras"]["none_within"] == 11
    assert not out.exists()


def test_human_display_runs(tmp_path):
    result, out = _search(tmp_path, "sort3", "--agent", "stochastic", "--init", "asm/sort3.s",
                          "--target-length", "17", "--workers", "1")
    assert result.exit_code == 0 and "programs explored" in result.output and out.exists()


@pytest.mark.parametrize("args, message", [
    (["sort99"], "unknown task"),
    (["sort3", "--agent", "nope"], "Invalid value"),
    (["sort3", "--isa", "nope"], "Invalid value"),
    (["varsort3", "--agent", "rewrite"], "does not search variable sorts"),
    (["sort3", "--agent", "enum", "--init", "asm/sort3.s"], "--init is for the stochastic"),
    (["sort3", "--agent", "stochastic", "--all"], "--all is for the enum"),
    (["sort3", "--agent", "stochastic", "--param", "alpha"], "KEY=VALUE"),
    (["sort3", "--agent", "stochastic", "--init", "does/not/exist.s"], "no such file"),
    (["sort3", "--agent", "stochastic", "--param", "alpha=x"], "--param alpha wants a number, got 'x'"),
    (["sort3", "--agent", "stochastic", "--param", "keep=0"], "--param keep wants a positive integer, got 0"),
    (["sort3", "--agent", "enum", "--param", "k=1"], "unknown --param 'k' for agent enum (known: none)"),
    (["sort3", "--agent", "enum", "--from-scratch"], "--model and --from-scratch are for the alphadev agent"),
    (["sort3", "--param", "bogus=1"], "unknown --param 'bogus' for agent alphadev (known: batch_size,"),
    (["sort3", "--param", "simulations=1.5"], "--param simulations wants an integer, got 1.5"),
    (["sort3", "--param", "simulations=0"], "--param simulations wants a positive integer, got 0"),
    (["sort3", "--param", "restart=2"], "--param restart wants a number from 0 to 1, got 2"),
    (["sort3", "--param", "root=best"], "--param root wants one of puct, gumbel, got 'best'"),
    (["sort3", "--param", "latency=guess"], "--param latency wants one of native, model, got 'guess'"),
    (["sort3", "--agent", "enum", "--steps", "5"], "--steps is for the stochastic and alphadev agents, not for enum"),
    (["sort3", "--agent", "alphadev", "--all"], "--all is for the enum agent, not for alphadev"),
    (["sort3", "--agent", "stochastic", "--param", "beam_k=0.5"],
     "agent stochastic: --param beam_k wants a number >= 1, got 0.5"),
    (["sort3", "--agent", "stochastic", "--param", "w_add=0", "--param", "w_delete=0", "--param", "w_swap=0",
      "--param", "w_opcode=0", "--param", "w_operand=0", "--param", "w_instruction=0"], "must not all be 0"),
])
def test_bad_usage_exits_2(tmp_path, args, message):
    result, out = _search(tmp_path, *args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_init_with_foreign_instructions_is_bad_input(tmp_path):
    bad = tmp_path / "bad.s"
    bad.write_text("# task: sort3\nmovl (%rdi), %eax\nimull %eax, %eax\nret\n")
    result, _ = _search(tmp_path, "sort3", "--agent", "stochastic", "--init", str(bad))
    assert result.exit_code == 2 and "bad.s" in result.output


def test_driver_stop_keeps_the_best_program_found():
    """A stop that turns true mid-run still returns (and re-verifies) the best correct program."""
    game = Game(get_task("sort3"))
    init = load("asm/sort3.s", "sort3")[0]
    seen = []

    def report(stats):
        seen.append(stats)

    flips = iter([False] * 20 + [True] * 10 ** 6)
    result = run_search(game, "stochastic", SearchOptions(workers=1, init=init, steps=10 ** 9),
                        report=report, should_stop=lambda: next(flips))
    assert result.program is not None and result.length <= 18 and result.verified
    assert seen and seen[-1].best_length == result.length


def test_time_limit_stops_enum_and_reports_it():
    # enum cannot reach sort5's shortest programs (over 40 instructions) in any time a test
    # has, so nothing is found however fast or slow the machine
    game = Game(get_task("sort5"))
    result = run_search(game, "enum", SearchOptions(workers=1, time_limit=0.5))
    assert result.program is None and result.extras["timed_out"] and not result.optimal


def test_latency_objective_screens_many_candidates_then_times_a_shortlist():
    from superopt.game.game import Game
    from superopt.x86.isa import Program
    from superopt.x86.parser import parse_file
    from superopt.driver import SHORTLIST, rank_by_latency
    from superopt.agents.base import SearchResult
    from superopt.tasks.registry import get_task
    bodies = [Program([i for i in parse_file(p).instrs if i.op != "ret"], task="sort3")
              for p in ("asm/sort3.s", "asm/sort3_enum.s")]
    candidates = [bodies[k % 2] for k in range(SHORTLIST + 3)]
    result = SearchResult(program=bodies[1], length=17, optimal=False, explored=0, elapsed=0.0, candidates=candidates)
    rank_by_latency(result, Game(get_task("sort3")))
    lat = result.latency
    assert lat["programs_screened"] == SHORTLIST + 3 and lat["programs_timed"] == SHORTLIST
    assert len(lat["cycles"]) == SHORTLIST and min(lat["cycles"]) == lat["best"]
    assert result.program in bodies and result.length == len(result.program)


def test_latency_objective_lets_the_cost_model_pick_what_to_screen_beyond_screen(monkeypatch):
    """Over SCREEN candidates (enum --all on sort3 finds over a million), only the SCREEN
    with the shortest dependency chains are timed natively: the deep sort3s only to fill up."""
    import superopt.measure.latency
    import superopt.driver as search
    from superopt.x86.isa import Program
    from superopt.x86.parser import parse_file
    from superopt.driver import SHORTLIST, rank_by_latency
    from superopt.agents.base import SearchResult
    deep, network, best = [Program([i for i in parse_file(p).instrs if i.op != "ret"], task="sort3")
                           for p in ("asm/sort3_deep.s", "asm/sort3.s", "asm/sort3_enum.s")]
    monkeypatch.setattr(search, "SCREEN", SHORTLIST + 4)
    timed = []

    class Recorder:
        def __init__(self, task):
            pass

        def __call__(self, program):
            timed.append(program)
            return 1.0

    monkeypatch.setattr(superopt.measure.latency, "NativeLatency", Recorder)
    candidates = [deep] * 10 + [network, best] * 6
    result = SearchResult(program=best, length=17, optimal=False, explored=0, elapsed=0.0, candidates=candidates)
    rank_by_latency(result, Game(get_task("sort3")))
    lat = result.latency
    assert lat["programs_modelled"] == 22 and lat["programs_screened"] == SHORTLIST + 4
    assert len(timed) == SHORTLIST + 4 and sum(p is deep for p in timed) == SHORTLIST + 4 - 12
    assert lat["programs_timed"] == SHORTLIST and result.program is not deep


def test_header_says_a_proof_under_compared_select_is_within_the_cut():
    from superopt.agents.base import SearchResult
    from superopt.driver import result_header
    proven = SearchResult(program=None, length=28, optimal=True, explored=0, elapsed=0.0)
    sort4 = result_header(Game(get_task("sort4")), "enum", SearchOptions(), proven)["optimal"]
    assert sort4.startswith("proven within") and "compared_select" in sort4
    assert result_header(Game(get_task("sort3")), "enum", SearchOptions(), proven)["optimal"] == "proven"
    no_cut = Game(get_task("sort4"), pruning=[r for r in Game(get_task("sort4")).pruning if r != "compared_select"])
    assert result_header(no_cut, "enum", SearchOptions(), proven)["optimal"] == "proven"


def _children(pid: int) -> int:
    """How many child processes `pid` has (Linux's /proc)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            count += int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
    return count


@pytest.mark.slow
@pytest.mark.parametrize("args, code", [
    (["sort4", "--agent", "stochastic", "--init", "asm/sort4.s", "--steps", "1000000000"], 0),
    (["sort5", "--agent", "enum"], 1),  # enum cannot reach sort5's shortest programs
])
def test_ctrl_c_stops_the_cli_cleanly_and_keeps_the_best(tmp_path, args, code):
    """SIGINT to the real command once its two workers run: it stops, writes the best
    correct program found (the warm start's, or none for enum) and says it was
    interrupted. The workers start inside the search, after its Ctrl-C handler is set, so
    their appearance is the moment to interrupt, whatever the machine's speed."""
    out = tmp_path / "out.s"
    proc = subprocess.Popen([sys.executable, "-c", "from superopt.cli import main; main()", "search", *args,
                             "--workers", "2", "--json", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while _children(proc.pid) < 2:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate()
    finally:  # (a failure or the per-test timeout leaves no search behind)
        proc.kill()
    assert proc.returncode == code and "Traceback" not in stderr
    data = json.loads(stdout)
    assert data["interrupted"] and data["found"] == (code == 0) and out.exists() == (code == 0)
    if code == 0:
        assert data["verified"] and CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0


def test_the_library_refuses_options_and_params_an_agent_does_not_use():
    from superopt.agents.stochastic import StochasticParams
    game = Game(get_task("sort3"))
    with pytest.raises(SuperoptError, match="--steps is for the stochastic and alphadev agents, not for enum"):
        run_search(game, "enum", SearchOptions(workers=1, steps=5))
    with pytest.raises(SuperoptError, match="agent enum takes EnumParams, not StochasticParams"):
        run_search(game, "enum", SearchOptions(workers=1, params=StochasticParams()))
    with pytest.raises(SuperoptError, match="agent stochastic: --param keep wants a positive integer, got 0"):
        StochasticParams(keep=0)
    assert StochasticParams.build({"alpha": 1}).alpha == 1.0 and isinstance(StochasticParams(alpha=1).alpha, float)
