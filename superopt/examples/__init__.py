"""The example kernels (asm/*.s) and C baselines (bench/baselines, bench/hackers) the package
ships, so that the README's commands run outside the checkout.

Git holds each file once, in the checkout's asm/ and bench/ folders; superopt/examples/asm,
baselines and hackers are symlinks to those folders, which the checkout's editable install
reads through and a wheel's package data copies (pyproject.toml). `copy` lays files out as the
checkout does (DIR/asm/sort3.s, DIR/bench/hackers/p01.c), so the paths in the README and in the
kernels' headers hold in DIR.
"""
from __future__ import annotations

import filecmp
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from superopt.errors import SuperoptError

HERE = Path(__file__).resolve().parent
# folder in the package -> (its path in a checkout, the files it ships)
FOLDERS = {"asm": ("asm", "*.s"), "baselines": ("bench/baselines", "*"), "hackers": ("bench/hackers", "*.c")}


@dataclass(frozen=True)
class Example:
    name: str          # the file's name (sort3.s, p01.c), unique across the folders
    file: str          # its path in a checkout (asm/sort3.s), and in a copy's directory
    task: str | None   # its `task:` header (a C file's is in its first comment), else None
    description: str   # its first comment line
    source: Path       # where the package has it

    def to_json(self) -> dict:
        return {"name": self.name, "file": self.file, "task": self.task, "description": self.description}


def examples() -> list[Example]:
    """Every shipped example, kernels first, in name order within each folder."""
    found = []
    for folder, (checkout, pattern) in FOLDERS.items():
        for path in sorted((HERE / folder).glob(pattern)):
            if path.is_file():
                task, description = _summary(path.read_text(errors="replace"))
                found.append(Example(path.name, "%s/%s" % (checkout, path.name), task, description, path))
    return found


def _summary(text: str) -> tuple[str | None, str]:
    """(task, description) from a file's leading comment: `# ...` lines or a `/* ... */` block."""
    text = text.lstrip()
    if text.startswith("/*"):
        comment = [line.strip().lstrip("*").strip() for line in text[2:].split("*/", 1)[0].splitlines()]
    else:
        comment = [line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip().startswith("#")]
    comment = [c for c in comment if c]
    task = next((m.group(1) for c in comment for m in [re.match(r"task:\s*(\w+)", c)] if m), None)
    rest = [c for c in (re.sub(r"^task:\s*\w+\.?\s*", "", c) for c in comment) if c]
    prose = [c for c in rest if not re.match(r"[a-z][a-z ]*: ", c)]   # (a search's header is `key: value`)
    return task, prose[0] if prose else ", ".join(rest[:3])


def find(names: list[str]) -> list[Example]:
    """The examples named by file name (sort3.s) or checkout path (asm/sort3.s); an unknown name
    is refused (exit 2) with the list's command."""
    by_name = {key: e for e in examples() for key in (e.name, e.file)}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SuperoptError("no example named %s (see `superopt examples`)" % ", ".join(map(repr, unknown)))
    return [by_name[n] for n in names]


def copy(chosen: list[Example], directory: str, force: bool = False) -> list[str]:
    """Copy `chosen` into `directory` as laid out in a checkout; returns the paths written.
    Refuses (exit 2, before copying anything) a missing directory, or a different file already
    at a destination unless `force`; an identical one is left as it is."""
    if not os.path.isdir(directory):
        raise SuperoptError("%s: not a directory" % directory)
    targets = [(e, os.path.join(directory, e.file)) for e in chosen]
    clash = [t for e, t in targets if os.path.exists(t) and not (os.path.isfile(t) and filecmp.cmp(e.source, t, False))]
    if clash and not force:
        raise SuperoptError("%s: exists and differs from the example; refusing to overwrite it (--force does)"
                            % clash[0])
    written = []
    for example, target in targets:
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not (os.path.isfile(target) and filecmp.cmp(example.source, target, False)):
                shutil.copyfile(example.source, target)
        except OSError as exc:
            raise SuperoptError("%s: cannot write: %s" % (target, exc.strerror or exc)) from None
        written.append(target)
    return written
