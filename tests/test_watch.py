"""A search tells its stopping rule, time left and best length over time, and says when its result
is worse than the shortest kernel shipped in asm/ for the same instruction set."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from superopt import api
from superopt.agents.base import SearchOptions
from superopt.agents.watch import History, StoppingRule, stopping_rule
from superopt.cli import main
from superopt.driver import checked_options, search_game
from superopt.known import known_best

ROOT = Path(__file__).resolve().parent.parent
P01 = str(ROOT / "bench" / "hackers" / "p01.c")


def rule(agent, kind="array", **options):
    return stopping_rule(agent, checked_options(agent, SearchOptions(**options), kind))


def test_each_agent_states_its_rule():
    assert rule("enum").text.startswith("every length in turn") and rule("enum").time_limit is None
    assert rule("stochastic", steps=5000).text == "each chain's 5,000 proposals"
    assert rule("stochastic", "function").text == "each chain's 200,000 proposals, or 60,000 without a better program"
    default = rule("alphadev")
    assert default.text == "20 s without a shorter program, once one is found; 300 s at most"
    assert (default.patience, default.time_limit) == (20.0, 300.0)
    timed = rule("alphadev", time_limit=60, target_length=17, params={"patience": 5})
    assert timed.text == ("5 s without a shorter program, once one is found; a correct program of 17 instructions "
                          "(--target-length); 60 s at most (--time-limit)")
    assert (timed.patience, timed.time_limit, timed.target) == (5, 60, 17)


def test_remaining_counts_the_time_limit_and_patience_from_the_last_improvement():
    r = StoppingRule("", time_limit=60.0, patience=20.0, target=None)
    assert r.remaining(10.0, []) == 50.0
    assert r.remaining(50.0, [{"seconds": 45.0}]) == 10.0     # the limit comes first
    assert r.remaining(30.0, [{"seconds": 15.0}]) == 5.0      # patience comes first
    assert r.remaining(70.0, []) == 0.0
    assert StoppingRule("", None, None, None).remaining(5.0, [{"seconds": 1.0}]) is None


def test_history_keeps_improvements_only():
    h = History()
    for seconds, programs, length in ((0.1, 10, None), (0.2, 20, 20), (0.3, 30, 20), (0.4, 40, 18), (0.5, 50, 19)):
        h.see(seconds, programs, length)
    assert h.points == [{"seconds": 0.2, "programs": 20, "instructions": 20},
                        {"seconds": 0.4, "programs": 40, "instructions": 18}]


def test_known_best_is_read_from_the_shipped_kernels_per_instruction_set():
    assert known_best(search_game("sort3")).to_json() == {"instructions": 17, "file": "asm/sort3_enum.s"}
    assert known_best(search_game("sort3", isa="extended")).instructions == 15   # sort3_extended.s fits only there
    assert known_best(search_game("sort4")).instructions == 28
    assert known_best(search_game("sort5")).instructions == 42
    assert known_best(search_game(api.get_task(P01))) is None   # function tasks: none shipped


def _search(tmp_path, *args, as_json=False):
    result = CliRunner().invoke(main, ["search", *map(str, args), "--workers", "1", "--out", str(tmp_path / "k.s")]
                                + (["--json"] if as_json else []))
    return result.exit_code, json.loads(result.stdout) if as_json else result.output


@pytest.mark.slow
def test_a_search_worse_than_the_shipped_kernel_says_so(tmp_path):
    args = ("sort5", "--agent", "stochastic", "--init", ROOT / "asm" / "sort5.s", "--steps", 3000,
            "--param", "polish=0")
    code, data = _search(tmp_path, *args, as_json=True)
    assert code == 0 and data["instructions"] > 42 and data["known_best"] == {"instructions": 42,
                                                                             "file": "asm/sort5_cold.s"}
    lengths = [h["instructions"] for h in data["history"]]
    assert lengths == sorted(lengths, reverse=True) and lengths[-1] == data["instructions"]
    assert data["stopping"]["text"] == "each chain's 3,000 proposals"
    code, out = _search(tmp_path, *args)
    assert code == 0 and "worse than shipped: %d instructions; the shipped asm/sort5_cold.s has 42" % (
        data["instructions"]) in out
    assert "stops after" in out and "improvements" in out


def test_an_optimal_search_is_not_called_worse(tmp_path):
    code, data = _search(tmp_path, "sort3", "--agent", "enum", as_json=True)
    assert code == 0 and data["history"][-1]["instructions"] == 17 == data["known_best"]["instructions"]
    code, out = _search(tmp_path, "sort3", "--agent", "enum")
    assert code == 0 and "worse than shipped" not in out and "every length in turn" in out
