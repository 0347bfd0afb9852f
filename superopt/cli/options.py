"""Option types the commands share: bounds on what a number may be, so that a hostile value is
a one-line usage error before any work, never a traceback from deep inside (the fuzz suite);
and the options that name a task."""
from __future__ import annotations

import math

import click

MAX_WORKERS = 1024       # processes on one machine
MAX_LENGTH = 1000        # instructions in a game (sort8's network is 94)
MAX_RANDOM = 10_000_000  # random verify inputs (sort8: 320 MB of arrays)
MAX_SIMULATIONS = 100_000
MAX_GAMES = 1024


class Seconds(click.FloatRange):
    """A positive, finite number of seconds (click's FloatRange lets nan and inf through)."""
    name = "seconds"

    def __init__(self):
        super().__init__(min=0, min_open=True)

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail("%s is not a finite number of seconds" % value, param, ctx)
        return number


TASK_HELP = ("Task: a name (default: the file's '# task:' header; see `superopt tasks`), FILE.c or FILE.c:NAME "
             "(that C function is the spec), or FILE.s[:NAME] with --signature or a '# signature:' header "
             "(that program's behaviour is the spec).")


def spec_options(command):
    """--signature and --cc: how a FILE.s or FILE.c given as --task becomes a task."""
    command = click.option("--cc", default="gcc", show_default=True, help="The compiler of a C task.")(command)
    return click.option("--signature", help="The C prototype of an assembly spec given as --task, e.g. "
                                            "\"uint32_t f(uint32_t x, int8_t y)\".")(command)
