"""Nothing lost (issue 24): output paths are checked before any work, files are replaced
atomically, a result that cannot be written lands in a named fallback file (exit code 1),
a checkpoint that does not fit its network is one line, and usage errors are one line."""
from __future__ import annotations

import errno
import json
import os
import shutil

import pytest
import torch
from click.testing import CliRunner

import superopt.outputs as outputs
from superopt import api
from superopt.agents.alphadev import training as training_module
from superopt.agents.alphadev.checkpoint import load_checkpoint, save_checkpoint
from superopt.agents.alphadev.network import NetConfig, new_network
from superopt.agents.alphadev.training import Training
from superopt.check.verify import verify
from superopt.cli import main
from superopt.errors import SuperoptError
from superopt.game.game import Game
from superopt.outputs import Appender, NotWritten, ResultMoved, check_outputs, save, write_atomic
from superopt.tasks.registry import get_task
from superopt.x86.parser import load

SORT3 = os.path.abspath("asm/sort3.s")
TINY = NetConfig(embed=16, layers=1, heads=2, hidden=32)
ROOT = os.geteuid() == 0   # root writes in read-only directories: chmod cannot make them fail


def _one_error_line(result, code):
    """The exit code, and one line of output: the error, no traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def _run(args):
    return CliRunner().invoke(main, args, prog_name="superopt")


def _listing(path):
    return sorted(os.listdir(path))


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    """A fresh current directory, where fallback files go."""
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    return here


# -- the check before the work -------------------------------------------------------------

@pytest.mark.parametrize("path, reason", [
    ("missing-dir/x.s", "missing-dir/x.s (--out): directory missing-dir does not exist"),
    ("/proc/x.s", "/proc/x.s (--out): cannot create a file in /proc: "),
    (".", ". (--out): is a directory"),
    ("sub/", "sub/ (--out): is a directory"),
    ("", "--out: empty path"),
])
def test_unwritable_outputs_are_refused_and_nothing_is_left(cwd, path, reason):
    before = _listing(cwd)
    with pytest.raises(SuperoptError) as info:
        check_outputs({"--out": path})
    assert str(info.value).startswith(reason) and info.value.exit_code == 2
    assert _listing(cwd) == before   # the probe is gone


def test_writable_outputs_pass_and_an_existing_file_is_untouched(cwd):
    (cwd / "old.s").write_text("keep")
    stamp = os.stat(cwd / "old.s").st_mtime_ns
    check_outputs({"--out": "old.s", "--log": "new.jsonl", "-o": None})
    assert _listing(cwd) == ["old.s"] and (cwd / "old.s").read_text() == "keep"
    assert os.stat(cwd / "old.s").st_mtime_ns == stamp


def test_an_output_that_is_an_input_or_another_output_is_refused(cwd):
    (cwd / "self.s").write_text("x")
    os.symlink("self.s", cwd / "link.s")
    with pytest.raises(SuperoptError, match=r"^self.s \(-o\): is the input link.s; refusing to overwrite it$"):
        check_outputs({"-o": "self.s"}, inputs=("link.s",))
    with pytest.raises(SuperoptError, match=r"^\./a\.pt \(--log\): is also the --out file$"):
        check_outputs({"--out": "a.pt", "--log": "./a.pt"})


def _no_work(*args, **kwargs):
    raise AssertionError("the work ran before the output was checked")


@pytest.mark.parametrize("out, reason", [
    ("missing-dir/x.s", "missing-dir/x.s (--out): directory missing-dir does not exist"),
    ("/proc/x.s", "/proc/x.s (--out): cannot create a file in /proc"),
    (".", "File '.' is a directory"),
])
def test_search_refuses_its_output_before_searching(cwd, monkeypatch, out, reason):
    monkeypatch.setattr(api, "search", _no_work)
    assert reason in _one_error_line(_run(["search", "sort3", "--out", out]), 2)
    assert _listing(cwd) == []


@pytest.mark.parametrize("args, option", [
    (["--out", "missing-dir/ck.pt"], "--out"),
    (["--out", "/proc/ck.pt"], "--out"),
    (["--log", "missing-dir/l.jsonl"], "--log"),
])
def test_train_refuses_its_outputs_before_training(cwd, monkeypatch, args, option):
    monkeypatch.setattr(training_module, "Training", _no_work)
    line = _one_error_line(_run(["train", "sort3", *args]), 2)
    assert "(%s)" % option in line and args[1] in line
    assert _listing(cwd) == []


def test_export_refuses_to_overwrite_its_input(cwd):
    shutil.copy(SORT3, "self.s")
    before = (cwd / "self.s").read_text()
    for path in ("self.s", "self.s:sort3"):
        line = _one_error_line(_run(["export", path, "--format", "gas", "-o", "self.s"]), 2)
        assert "refusing to overwrite" in line
    assert (cwd / "self.s").read_text() == before and _listing(cwd) == ["self.s"]


def test_export_refuses_an_unwritable_output_before_verifying(cwd, monkeypatch):
    monkeypatch.setattr(api, "verify", _no_work)
    line = _one_error_line(_run(["export", SORT3, "-o", "missing-dir/k.h"]), 2)
    assert line == "error: missing-dir/k.h (-o): directory missing-dir does not exist"


# -- atomic writes ---------------------------------------------------------------------------

def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "k.s"
    path.write_text("old")
    os.chmod(path, 0o640)

    def half(f):
        f.write(b"new, half of it")
        raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(OSError):
        write_atomic(str(path), half)
    assert path.read_text() == "old" and _listing(tmp_path) == ["k.s"]
    write_atomic(str(path), "new")
    assert path.read_text() == "new" and os.stat(path).st_mode & 0o777 == 0o640   # the mode is kept


def test_a_device_is_written_in_place(tmp_path):
    check_outputs({"-o": os.devnull})
    write_atomic(os.devnull, "discarded")   # (an atomic replace would try to replace /dev/null)
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)


def test_a_checkpoint_save_that_crashes_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    game = Game(get_task("sort3"), max_length=24)
    path = tmp_path / "c.pt"
    save_checkpoint(path, new_network(game, TINY), game, extra={"games": 1})

    def crash(data, f):
        f.write(b"truncated")
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, new_network(game, TINY), game, extra={"games": 2})
    monkeypatch.undo()
    assert load_checkpoint(path, game)[1]["extra"]["games"] == 1 and _listing(tmp_path) == ["c.pt"]


# -- fallback files --------------------------------------------------------------------------

def test_save_falls_back_to_the_current_directory_and_never_overwrites_a_rescue(cwd, tmp_path):
    (cwd / "k.rescued.s").write_text("an earlier rescue")
    with pytest.raises(ResultMoved) as info:
        save(str(tmp_path / "gone" / "k.s"), "kernel", what="the kernel")
    moved = info.value
    assert moved.exit_code == 1 and moved.where == os.path.join(".", "k.rescued-2.s")
    assert str(moved) == "cannot write %s (No such file or directory); the kernel is in ./k.rescued-2.s instead" % (
        tmp_path / "gone" / "k.s")
    assert (cwd / "k.rescued-2.s").read_text() == "kernel" and (cwd / "k.rescued.s").read_text() == "an earlier rescue"


def test_save_falls_back_to_the_temporary_directory_when_the_current_one_is_gone(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(outputs.tempfile, "gettempdir", lambda: str(temp))
    with pytest.raises(ResultMoved) as info:
        save(str(gone / "k.s"), "kernel")
    assert info.value.where == str(temp / "k.rescued.s") and (temp / "k.rescued.s").read_text() == "kernel"


def test_save_says_the_result_is_lost_only_when_no_fallback_takes_it(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    monkeypatch.setattr(outputs.tempfile, "gettempdir", lambda: str(gone))
    with pytest.raises(NotWritten, match=r"^cannot write .*k.s \(No such file or directory\), nor a fallback file"):
        save(str(gone / "k.s"), "kernel")


def test_the_log_goes_on_in_a_fallback_file(cwd, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    log = Appender(str(logs / "l.jsonl"))
    log.write("1\n")
    shutil.rmtree(logs)
    log.write("2\n")
    log.write("3\n")
    assert log.moved is not None and log.where == os.path.join(".", "l.rescued.jsonl")
    assert (cwd / "l.rescued.jsonl").read_text() == "2\n3\n"
    assert "the log from here on is in ./l.rescued.jsonl" in str(log.moved)


def _remove_after(monkeypatch, module, name, directory):
    """Run module.name, then remove `directory`: the output was checked, the write comes next."""
    original = getattr(module, name)

    def run_then_remove(*args, **kwargs):
        result = original(*args, **kwargs)
        shutil.rmtree(directory)
        return result
    monkeypatch.setattr(module, name, run_then_remove)


def _search_sort3(out, *extra):
    return _run(["search", "sort3", "--agent", "stochastic", "--init", SORT3,
                                     "--target-length", "17", "--workers", "1", "--out", str(out), *extra])


def test_search_whose_directory_is_removed_keeps_the_kernel_in_a_fallback_file(cwd, tmp_path, monkeypatch):
    _remove_after(monkeypatch, api, "search", tmp_path / "out")
    (tmp_path / "out").mkdir()
    result = _search_sort3(tmp_path / "out" / "k.s")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        "error: cannot write %s (No such file or directory); the kernel is in ./k.rescued.s instead"
        % (tmp_path / "out" / "k.s"))
    program, task = load(str(cwd / "k.rescued.s"))
    assert program.header["task"] == "sort3" and verify(program, task).passed


def test_search_json_names_the_fallback_file(cwd, tmp_path, monkeypatch):
    _remove_after(monkeypatch, api, "search", tmp_path / "out")
    (tmp_path / "out").mkdir()
    result = _search_sort3(tmp_path / "out" / "k.s", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["output"] == "./k.rescued.s" and (cwd / "k.rescued.s").exists()


def _fail_writes_in(monkeypatch, directory):
    """Writes into `directory` fail as on a read-only file system (root ignores chmod)."""
    original = os.replace

    def replace(src, dst):
        if os.path.dirname(os.path.realpath(dst)) == str(directory):
            raise OSError(errno.EROFS, "Read-only file system")
        return original(src, dst)
    monkeypatch.setattr(outputs.os, "replace", replace)


@pytest.mark.parametrize("how", ["read-only file system", "chmod"])
def test_export_into_a_directory_made_read_only_after_the_check(cwd, tmp_path, monkeypatch, how):
    if how == "chmod" and ROOT:
        pytest.skip("root writes in read-only directories")
    target = tmp_path / "ro"
    target.mkdir()
    original = api.export

    def export_then_protect(*args, **kwargs):
        text = original(*args, **kwargs)
        if how == "chmod":
            os.chmod(target, 0o500)
        else:
            _fail_writes_in(monkeypatch, target)
        return text
    monkeypatch.setattr(api, "export", export_then_protect)
    try:
        result = _run(["export", SORT3, "--format", "c", "-o", str(target / "k.h")])
    finally:
        os.chmod(target, 0o700)
    line = result.output.strip().splitlines()[-1]
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert line.startswith("error: cannot write %s (" % (target / "k.h")) and line.endswith(
        "the export is in ./k.rescued.h instead")
    assert "static inline void sort3" in (cwd / "k.rescued.h").read_text() and _listing(target) == []


def test_export_whose_directory_is_removed_keeps_the_source(cwd, tmp_path, monkeypatch):
    _remove_after(monkeypatch, api, "export", tmp_path / "out")
    (tmp_path / "out").mkdir()
    result = _run(["export", SORT3, "--format", "gas", "-o", str(tmp_path / "out" / "k.S")])
    assert result.exit_code == 1 and result.output.strip().endswith("the export is in ./k.rescued.S instead")
    assert ".globl" in (cwd / "k.rescued.S").read_text()


def test_training_whose_directory_is_removed_saves_its_checkpoints_in_a_fallback_file(cwd, tmp_path):
    (tmp_path / "out").mkdir()
    training = Training(get_task("sort3"), str(tmp_path / "out" / "ck.pt"), simulations=8, games_in_parallel=2)
    shutil.rmtree(tmp_path / "out")
    training.save()
    assert training.out == os.path.join(".", "ck.rescued.pt") and training.moved.exit_code == 1
    training.save()   # later checkpoints go on in the fallback file
    assert _listing(cwd) == ["ck.rescued.pt"]
    assert load_checkpoint(training.out, training.game)[1]["task"] == "sort3"


def test_train_cli_whose_directory_is_removed_ends_saying_where_everything_is(cwd, tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    original = Training.run

    def remove_then_run(self, *args, **kwargs):
        shutil.rmtree(tmp_path / "out")
        return original(self, *args, **kwargs)
    monkeypatch.setattr(Training, "run", remove_then_run)
    result = _run(["train", "sort3", "--steps", "2", "--simulations", "8", "--games", "4",
                                       "--out", str(tmp_path / "out" / "ck.pt"), "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = result.stderr.strip().splitlines()[-1]
    assert "the checkpoint is in ./ck.rescued.pt instead" in line and "the log from here on is in ./ck.pt.rescued.jsonl" in line
    summary = json.loads(result.stdout)
    assert summary["checkpoint"] == "./ck.rescued.pt" and summary["log"] == "./ck.pt.rescued.jsonl"
    assert torch.load("ck.rescued.pt", weights_only=True)["extra"]["steps"] == 2
    assert all("steps" in json.loads(line) for line in (cwd / "ck.pt.rescued.jsonl").read_text().splitlines())


# -- a checkpoint that does not fit ------------------------------------------------------------

@pytest.fixture
def resized(tmp_path):
    """A checkpoint of the right task whose first weight tensor has one row too many."""
    game = Game(get_task("sort3"), max_length=24)
    path = tmp_path / "bad.pt"
    save_checkpoint(path, new_network(game, TINY), game)
    data = torch.load(path, weights_only=True)
    name = next(iter(data["weights"]))
    tensor = data["weights"][name]
    data["weights"][name] = torch.zeros((tensor.shape[0] + 1,) + tuple(tensor.shape[1:]))
    torch.save(data, path)
    return path, name, game


def test_a_resized_tensor_is_one_line_naming_it(resized):
    path, name, game = resized
    with pytest.raises(SuperoptError, match=r"^%s: tensor %s has shape \[\d+(, \d+)*\], the network wants \[" % (
            path, name.replace(".", r"\."))):
        load_checkpoint(path, game)


def test_search_and_train_refuse_a_resized_checkpoint_in_one_line(resized):
    path, name, _ = resized
    before = path.read_bytes()
    for args in (["search", "sort3", "--model", str(path), "--workers", "1", "--out", str(path.with_suffix(".s"))],
                 ["train", "sort3", "--resume", "--out", str(path)]):
        line = _one_error_line(_run(args), 2)
        assert line.startswith("error: %s: tensor %s has shape" % (path, name))
    assert path.read_bytes() == before and not path.with_suffix(".s").exists()


# -- usage errors --------------------------------------------------------------------------------

COMMANDS = ["search", "train", "export", "verify", "bench", "show", "tasks"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_usage_error_is_one_line_for_every_command(command):
    line = _one_error_line(_run([command, "--bogus"]), 2)
    assert line.startswith("error: superopt %s: No such option '--bogus'" % command)
    assert line.endswith("(see superopt %s --help)" % command)


@pytest.mark.parametrize("args, text", [
    (["--bogus"], "error: superopt: No such option '--bogus'. (see superopt --help)"),
    (["nosuch"], "error: superopt: No such command 'nosuch'. (see superopt --help)"),
    (["search"], "error: superopt search: Missing argument 'TASK'. (see superopt search --help)"),
    (["train", "sort3", "--steps", "0"], "error: superopt train: Invalid value for '--steps': 0 is not in the "
                                         "range x>=1. (see superopt train --help)"),
])
def test_usage_errors_name_the_command(args, text):
    assert _one_error_line(_run(args), 2) == text


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_unchanged(command):
    result = _run([command, "--help"])
    assert result.exit_code == 0 and result.output.startswith("Usage: superopt %s [OPTIONS]" % command)
