"""Every command line in README.md's shell blocks runs from an empty directory after `make install`
(the venv's superopt on PATH, the examples copied in) and exits 0; the C++ and Python blocks too."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent   # the venv's bin: superopt lives beside its python
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def _commands(text: str) -> list[list[str]]:
    """The block's superopt and gcc lines (make and .venv/ lines need the checkout), comments dropped."""
    lines = [shlex.split(line, comments=True) for line in text.splitlines()]
    return [words for words in lines if words and words[0] in ("superopt", "gcc")]


SHELL = [text for lang, text in BLOCKS if lang == "sh" and _commands(text)]


@pytest.fixture
def here(tmp_path):
    env = dict(os.environ, PATH="%s%s%s" % (BIN, os.pathsep, os.environ.get("PATH", "")))
    subprocess.run(["superopt", "examples", "copy", "--all", "."], cwd=tmp_path, env=env, check=True)
    return tmp_path, env


def test_the_readme_has_the_blocks_this_test_runs():
    assert len(SHELL) >= 2 and [lang for lang, _ in BLOCKS].count("cpp") == 1
    assert [lang for lang, _ in BLOCKS].count("python") == 1
    assert ["superopt", "search", "sort3", "--out", "sort3.s"] in _commands(SHELL[0])


def _run(words, cwd, env):
    done = subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, "%s: exit %d\n%s" % (shlex.join(words), done.returncode, done.stderr[-2000:])


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("block", range(len(SHELL)))
def test_every_shell_line_exits_0(here, block):
    cwd, env = here
    for words in _commands(SHELL[block]):
        _run(words, cwd, env)
    if "superopt export sort3.s -o sort3.h" in SHELL[block]:   # the C++ block includes that header
        (cwd / "main.cpp").write_text(next(text for lang, text in BLOCKS if lang == "cpp"))
        _run(["g++", "-O2", "-o", "main", "main.cpp"], cwd, env)
        shown = subprocess.run(["./main"], cwd=cwd, capture_output=True, text=True, check=True).stdout
        assert shown.split() == ["-1", "2", "3"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_python_block_runs(here):
    cwd, env = here
    _run([sys.executable, "-c", next(text for lang, text in BLOCKS if lang == "python")], cwd, env)
