"""superopt: a native-execution superoptimizer for x86-64 kernels (AlphaDev's assembly game on a CPU).

The library in one import (the CLI calls the same functions):

    program = superopt.load("asm/sort3.s")
    superopt.verify(program, "sort3").passed
    result = superopt.search("sort3", agent="enum")
    superopt.bench([result.program, program], "sort3", runs=100).results
    superopt.export(result.program, "sort3", format="cpp")
    superopt.verify("f.s", "f.c").label     # a function task: "tested (N inputs)"
"""
from superopt.version import __version__

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.api import bench, export, get_task, load, resolve, search, verify
from superopt.check.verify import Verdict, Violation
from superopt.errors import InputError, SuperoptError
from superopt.tasks.base import Task
from superopt.tasks.registry import TASKS
from superopt.x86.isa import Instr, Program

__all__ = ["load", "verify", "search", "bench", "export", "resolve", "get_task", "TASKS", "Task",
           "Program", "Instr", "Verdict", "Violation", "SearchOptions", "SearchResult", "SearchStats",
           "SuperoptError", "InputError", "__version__"]
