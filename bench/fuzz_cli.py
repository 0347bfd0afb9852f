"""The CLI fuzz suite's long profile: every hypothesis property of tests/test_fuzz_cli.py
with many more examples, round after round (fresh random cases each) until the time is up.

    .venv/bin/python bench/fuzz_cli.py --examples 500 --seconds 1800

Prints, per property, the commands run and the first failure (hypothesis's shrunk case),
then a total; exit code 1 when any property failed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

import pytest


def _properties(module):
    """(name, call) for every hypothesis test, one per parametrized command."""
    for name in dir(module):
        test = getattr(module, name)
        if not (name.startswith("test_") and hasattr(test, "hypothesis")):
            continue
        marks = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            yield name, test
            continue
        argname, values = marks[0].args
        for value in values:
            yield "%s[%s]" % (name, value), (lambda t=test, a=argname, v=value: t(**{a: v}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200, help="hypothesis examples per property per round")
    parser.add_argument("--seconds", type=float, default=0, help="keep running rounds for this long (0: one round)")
    args = parser.parse_args()
    os.environ["SUPEROPT_FUZZ_EXAMPLES"] = str(args.examples)   # read when the module is imported
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "tests"))
    os.chdir(root)
    import conftest  # noqa: F401  (the suite's hypothesis profile)
    import test_fuzz_cli as suite

    properties = list(_properties(suite))
    cases = {name: 0 for name, _ in properties}
    failures: dict[str, str] = {}
    deadline = time.monotonic() + args.seconds
    rounds = 0
    while True:
        rounds += 1
        for name, run in properties:
            if name in failures:
                continue
            before = suite.CASES[0]
            try:
                run()
            except (Exception, pytest.fail.Exception) as exc:   # a property failed: keep its shrunk case
                failures[name] = "".join(traceback.format_exception_only(exc)).strip()
            cases[name] += suite.CASES[0] - before
        if time.monotonic() >= deadline or len(failures) == len(properties):
            break
    width = max(map(len, cases))
    for name, count in cases.items():
        print("%-*s %7d cases  %s" % (width, name, count, "FAIL" if name in failures else "ok"))
    for name, text in failures.items():
        print("\n%s:\n%s" % (name, text[:3000]))
    print("\n%d rounds, %d cases, %d of %d properties failed" % (rounds, sum(cases.values()), len(failures),
                                                                  len(properties)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
