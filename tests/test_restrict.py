"""A user-stated search space (`superopt search --ops ... --constants ...`, STOKE's choice of
opcodes): the space holds only those opcodes and exactly those immediates, the result header
says so, enum runs on a buffer task, and bad lists are refused in one line."""
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from superopt import api
from superopt.cli import main
from superopt.cli.jsonout import SCHEMA
from superopt.errors import SuperoptError
from superopt.game.buffer import BufferGame
from superopt.game.space import Restriction, restriction
from superopt.tasks.registry import get_task
from superopt.x86.cpu import available

VALIDATOR = jsonschema.Draft202012Validator(json.loads(Path(SCHEMA).read_text()))
P01 = str(Path(__file__).parent.parent / "bench" / "hackers" / "p01.c")


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_space_holds_only_the_stated_opcodes_and_constants():
    game = BufferGame(get_task("varint32"), restrict=restriction(["shl", " or", "movzx"], ["32", "0x80"]))
    every = game.space.every()
    assert {i.op for i in every} == {"shl", "or", "movzx"} and game.space.pool == (32, 128)
    assert {o.value for i in every for o in i.operands if hasattr(o, "value")} == {32, 128}
    assert BufferGame(get_task("varint32")).space.restrict == Restriction()
    assert restriction(None, []).constants == () and restriction(None, None).text() == ""
    assert restriction(["pext"], [0x80808080]).text() == "ops pext; constants 0x80808080"


def test_a_warm_start_outside_the_restriction_is_refused(tmp_path):
    init = tmp_path / "w.s"
    init.write_text("varint32:\n movzbl (%rdi), %eax\n andl $127, %eax\n ret\n")
    result = cli("search", "varint32", "--init", init, "--ops", "movzx", "--out", tmp_path / "o.s")
    assert result.exit_code == 2 and "ops movzx" in result.output and "andl $127" in result.output


@pytest.mark.skipif("bmi1" not in available(), reason="blsr is BMI1")
def test_enum_over_stated_opcodes_finds_and_says_so(tmp_path):
    out = tmp_path / "p01.s"
    result = cli("search", P01, "--agent", "enum", "--workers", 1, "--ops", "blsr", "--constants", "",
                 "--out", out, "--time-limit", 60)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "blsr" in text and "# space: restricted by the user: ops blsr; constants none" in text
    assert "# optimal: proven within the space of ops blsr; constants none" in text


def test_enum_runs_on_a_buffer_task(tmp_path):
    # one byte's payload needs an and or a shift: movzx alone has no 1-instruction decoder
    result = cli("search", "varint32", "--agent", "enum", "--workers", 1, "--ops", "movzx", "--max-length", 1,
                 "--out", tmp_path / "o.s", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["found"] is False and data["extras"]["lengths_exhausted"] == 1
    assert data["space"] == "restricted by the user: ops movzx" and not list(VALIDATOR.iter_errors(data))


@pytest.mark.parametrize("args, reason", [
    (("--ops", "pext,frob"), "--ops: unknown opcode frob (known: adc,"),
    (("--ops", ","), "--ops: unknown opcode (none given)"),
    (("--constants", "0x80,seven"), "--constants: 'seven' is not an integer"),
    (("--constants", str(1 << 64)), "does not fit 64 bits"),
    (("--ops", "jmp"), "unknown opcode jmp"),
])
def test_bad_restrictions_exit_2_with_one_line(args, reason, tmp_path):
    result = cli("search", "varint32", *args, "--out", tmp_path / "o.s")
    assert result.exit_code == 2 and reason in result.output and len(result.output.strip().splitlines()) == 1, \
        result.output


def test_a_restriction_on_a_sort_task_is_refused():
    with pytest.raises(SuperoptError, match="--ops and --constants restrict a function or buffer task"):
        api.search("sort3", "enum", ops=["mov"], workers=1)


def test_the_alphadev_game_keeps_the_restriction():
    from superopt.game.scalar import ScalarGame
    from superopt.game.valueplay import ValuePlay
    game = ScalarGame(api.get_task(P01), restrict=restriction(["lea", "and"], [-1]))
    play = ValuePlay(game)
    assert {a.op for a in play.actions} == {"lea", "and"}
    assert {o.value for a in play.actions for o in a.operands if hasattr(o, "value")} <= {-1}
