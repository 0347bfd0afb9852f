"""The library API: load, verify, search, bench and export, the same calls the CLI and the
bench/ scripts make.

Every function takes a task as a name ("sort3") or a Task, and a kernel as a Program or the
path of an assembly file; with no task, a kernel's `# task:` header names it. Every error a
caller can cause is a SuperoptError with a one-line message (never a KeyError).
"""
from __future__ import annotations

import os
import re
from typing import Callable, Iterable

from superopt.agents.base import BRANCH_DEFAULT_AGENT, DEFAULT_AGENT, FUNCTION_DEFAULT_AGENT, SearchOptions, SearchResult, SearchStats
from superopt.check.verdict import PROVE_TIMEOUT as DEFAULT_PROVE_TIMEOUT
from superopt.check.verify import DEFAULT_RANDOM, STEP_LIMIT, Verdict
from superopt.check.verify import verify as _verify
from superopt.errors import InputError, SuperoptError
from superopt.tasks.base import Task
from superopt.tasks.lengths import describe as describe_lengths, with_lengths
from superopt.tasks import registry
from superopt.x86.functions import select, split_path
from superopt.x86.isa import Program
from superopt.x86.parser import NO_TASK
from superopt.x86.sources import parse_file

Kernel = Program | str | os.PathLike
_TASK_COMMENT = re.compile(r"\btask:\s*([A-Za-z0-9_]+)")


SPEC_SUFFIXES = (".c",)
ASM_SUFFIXES = (".s", ".S", ".asm")


def get_task(task: Task | str, signature: str | None = None, cc: str = "gcc") -> Task:
    """A task: a Task is its own; a built-in name (`sort3`); `FILE.c` or `FILE.c:NAME` (the
    C function compiled by `cc` is the spec); `FILE.s` or `FILE.s:NAME` with `signature` (a C
    prototype) or a `# signature:` header (the given program's behaviour is the spec)."""
    if not isinstance(task, str) or task in registry.TASKS:
        return registry.get_task(task)
    path, name = split_path(task)
    if path.endswith(SPEC_SUFFIXES):
        from superopt.tasks.csource import c_task
        if signature is not None:
            raise InputError("--signature is for an assembly spec: a C file's signature is its own", path)
        return c_task(path, name, cc)
    if path.endswith(ASM_SUFFIXES):
        return _assembly_task(path, name, signature)
    raise registry.UnknownTask("unknown task %r (known: %s; or FILE.c[:NAME], or FILE.s[:NAME] with --signature)"
                               % (task, ", ".join(registry.TASKS)))


def _assembly_task(path: str, name: str | None, signature: str | None) -> Task:
    from superopt.tasks.reference import assembly_task
    from superopt.tasks.signature import parse
    program = parse_file(path)
    text = signature if signature is not None else program.header.get("signature")
    if text is None:
        raise InputError("an assembly file as the task needs its signature: --signature \"uint32_t f(uint32_t x)\" "
                         "or a '# signature:' header", path)
    sig = parse(text, path if signature is None else None)
    return assembly_task(select(program, name, sig.name), sig)


def load(path: str | os.PathLike, task: Task | str | None = None) -> Program:
    """Parse a kernel file (assembly in AT&T or Intel syntax, objdump -d text, an ELF object
    or executable: superopt.x86.sources) into a Program: of a file with several functions,
    the one `FILE:NAME` names, else the task's (`task`, else the file's header; see
    superopt.x86.functions)."""
    path, function = split_path(path)
    name = None if task is None else task if isinstance(task, str) else task.name
    program = parse_file(path, function, name)
    return select(program, function, program.task if task is None else name)


def resolve(program: Kernel, task: Task | str | None = None, signature: str | None = None,
            cc: str = "gcc") -> tuple[Program, Task]:
    """(the Program, its Task): `task` (see get_task) wins, else the program's `# task:`
    header; of a program with several functions, the task's."""
    name = task if task is not None else None
    if not isinstance(program, Program):
        if name is None or not isinstance(name, str) or name in registry.TASKS:
            program = load(program, task)
        else:
            path, function = split_path(program)
            program = parse_file(path, function)
            if function is not None:
                program = select(program, function)
    name = name if name is not None else program.task
    if name is None:
        raise InputError(NO_TASK, program.path)
    try:
        the_task = get_task(name, signature, cc)
    except InputError:
        raise
    except SuperoptError as exc:
        raise InputError(str(exc), program.path) from None
    return select(program, task=the_task.name), the_task


def verify(program: Kernel, task: Task | str | None = None, *, random_count: int = DEFAULT_RANDOM, seed: int = 0,
           step_limit: int = STEP_LIMIT, native: bool = False, signature: str | None = None,
           cc: str = "gcc", prove_timeout: float | None = DEFAULT_PROVE_TIMEOUT) -> Verdict:
    """Run the kernel in Unicorn on every proof input plus `random_count` random ones and
    check every rule of the contract; `.passed`, `.violations`. A function task (FILE.c[:NAME],
    FILE.s with `signature`) runs its edge, random and counterexample inputs. A pass the
    weak orderings do not cover is then proven by SMT within `prove_timeout` seconds (None:
    no attempt), or refuted with a counterexample. `.label` says how strong the pass is
    ("proven (SMT, z3, 0.07 s)", "proven (all weak orderings)", "tested (N inputs): why"),
    `.proven` whether it is a proof."""
    program, the_task = resolve(program, task, signature, cc)
    verdict = _verify(program, the_task, random_count=random_count, seed=seed, step_limit=step_limit, native=native)
    if prove_timeout is not None and verdict.passed and not verdict.proof:
        from superopt.check.prove import attach   # z3 and bitwuzla load only when a proof is due
        attach(verdict, program, the_task, prove_timeout)
    return verdict


def search(task: Task | str, agent: str | None = None, *, workers: int | None = None,
           time_limit: float | None = None, seed: int = 0, objective: str = "length",
           target_length: int | None = None, steps: int | None = None, all_optimal: bool = False,
           init: Kernel | None = None, isa: str | None = None, max_length: int | None = None,
           no_prune: Iterable[str] = (), params: dict | None = None,
           report: Callable[[SearchStats], None] | None = None,
           should_stop: Callable[[], bool] | None = None, signature: str | None = None,
           cc: str = "gcc", ops: Iterable[str] | None = None,
           constants: Iterable[int | str] | None = None) -> SearchResult:
    """Search for a short (objective "length") or fast ("latency") correct kernel with one
    agent ("enum", "stochastic" or "alphadev"; the default: alphadev for the sort tasks,
    stochastic for function tasks): `.program`, `.length`, `.optimal`. A sort task plays the
    assembly game over `isa` (alphadev, extended); a function task (`FILE.c[:NAME]`, `FILE.s`
    with `signature`) the value game over the general ISA, warm-started from gcc -O2's code,
    each result checked in Unicorn and by an SMT proof. The program is re-verified in Unicorn
    before it is returned; Ctrl-C stops the search and returns its best. `ops` and `constants`
    restrict a function or buffer task's space to those opcodes and exactly those immediates
    (superopt.game.space.Restriction)."""
    from superopt.driver import run_search, search_game
    from superopt.game.space import restriction
    the_task = get_task(task, signature, cc)
    if agent is None:
        agent = FUNCTION_DEFAULT_AGENT if the_task.kind in ("function", "buffer") else \
            BRANCH_DEFAULT_AGENT if getattr(the_task, "variable", False) else DEFAULT_AGENT
    if init is not None:
        init, _ = resolve(init, the_task)
    game = search_game(the_task, isa=isa, max_length=max_length, no_prune=no_prune, init=init,
                       restrict=restriction(ops, constants))
    options = SearchOptions(time_limit=time_limit, seed=seed, workers=workers or os.cpu_count() or 1,
                            all_optimal=all_optimal, init=init, target_length=target_length, steps=steps,
                            objective=objective, params=dict(params or {}))
    return run_search(game, agent, options, report=report, should_stop=should_stop)


HARNESSES = ("call", "inline")


def bench(programs: Iterable[Kernel], task: Task | str | None = None, *, runs: int = 1000,
          inputs_per_run: int = 10000, mode: str = "latency", counter: str = "auto",
          distribution: str = "random", seed: int = 0, quantile: float = 0.05, timeout: float = 120.0,
          names: list[str] | None = None, progress: Callable[[int, int], None] | None = None,
          signature: str | None = None, cc: str = "gcc", harness: str = "call", values: bool = False,
          loop_dir: str | None = None, lengths: str | None = None):
    """Time kernels natively, interleaved, after each passes verify (C/C++ files are compiled
    with -O2 and checked natively first): a BenchReport whose `.results` hold, per program,
    the quantile `.value` with its CI and the `.ratio` to the first program.

    `harness` "call" calls each kernel out of line from superopt's machine-code loop (the
    harness's overhead subtracted); "inline" inlines the exported C++ header (`values`: its
    values form) and the C/C++ files into a loop compiled by the system compiler, and
    reports whole loop iterations (superopt.emit.inline_bench; `loop_dir` keeps its sources).
    `lengths`: a variable sort's or varint task's length distribution (superopt.tasks.lengths;
    default uniform), drawn per call."""
    from superopt.measure.timing import measure
    from superopt.run.baseline import compile_baseline, is_c_source
    if harness not in HARNESSES:
        raise SuperoptError("unknown harness %r (choose from %s)" % (harness, ", ".join(HARNESSES)))
    if harness == "call" and (values or loop_dir):
        raise SuperoptError("--values and --loop-dir are for the inline harness (--harness inline)")
    programs = list(programs)
    task = get_task(task, signature, cc) if task is not None else None
    if task is not None and task.kind == "buffer":   # kernels only: bench/bench_varint.py adds gcc's loops
        the_task = with_lengths(task, lengths)
        report = measure([resolve(p, the_task)[0] for p in programs], the_task, runs=runs,
                         inputs_per_run=inputs_per_run, mode=mode, counter=counter, distribution=distribution,
                         seed=seed, quantile=quantile, names=names, timeout=timeout, progress=progress)
        report.lengths = describe_lengths(the_task)
        return report
    if task is not None and task.kind == "function":
        return _bench_function(programs, task, runs=runs, inputs_per_run=inputs_per_run, mode=mode,
                               counter=counter, distribution=distribution, seed=seed, quantile=quantile,
                               timeout=timeout, names=names, progress=progress, harness=harness,
                               values=values, loop_dir=loop_dir)
    sources = [str(p) for p in programs if not isinstance(p, Program) and is_c_source(str(p))]
    kernels = {i: resolve(p, task) for i, p in enumerate(programs)
               if isinstance(p, Program) or not is_c_source(str(p))}
    tasks = {t.name for _, t in kernels.values()}
    if len(tasks) > 1:
        raise SuperoptError("the files are for different tasks (%s): bench compares kernels for one task, "
                            "or give --task" % ", ".join(sorted(tasks)))
    if task is None:
        task = tasks.pop() if tasks else _task_from_comment(sources)
    the_task = with_lengths(get_task(task), lengths)
    if harness == "inline":
        from superopt.emit.inline_bench import bench_inline
        items = [kernels[i][0] if i in kernels else str(p) for i, p in enumerate(programs)]
        report = bench_inline(items, the_task, names or _names(programs, items), runs=runs,
                              inputs_per_run=inputs_per_run, mode=mode, distribution=distribution, seed=seed,
                              quantile=quantile, values=values, progress=progress, timeout=timeout, keep=loop_dir)
    else:
        items = [kernels[i][0] if i in kernels else compile_baseline(str(p), the_task) for i, p in enumerate(programs)]
        report = measure(items, the_task, runs=runs, inputs_per_run=inputs_per_run, mode=mode, counter=counter,
                         distribution=distribution, seed=seed, quantile=quantile,
                         names=names or _names(programs, items), timeout=timeout, progress=progress)
    report.lengths = describe_lengths(the_task)
    return report


def _names(programs: list, items: list) -> list[str]:
    return [p.path or p.name or "program %d" % i if isinstance(p, Program) else _source(str(p), items[i])
            for i, p in enumerate(programs)]


def _bench_function(programs: list, task: Task, *, names: list[str] | None, harness: str, values: bool,
                    loop_dir: str | None, **options):
    """bench on a function task: the kernels, then the C reference compiled at gcc -O2 and -O3
    as baselines (a C task's; each parsed from `gcc -S`, verified like the kernels), or with
    the inline harness the C reference itself inlined into the same loop."""
    from superopt.measure.timing import measure
    from superopt.tasks.csource import c_assembly
    if any(not isinstance(p, Program) and str(p).endswith(SPEC_SUFFIXES) for p in programs):
        raise SuperoptError("bench on a function task times kernels: give the C spec as --task, and its gcc -O2 "
                            "and -O3 code is added as baselines")
    if options["distribution"] != "random":
        raise SuperoptError("function tasks take random inputs only (--inputs random), not %s" % options["distribution"])
    items = [resolve(p, task)[0] for p in programs]
    names = list(names or [p.path or p.name or "program %d" % i if isinstance(p, Program) else str(p)
                           for i, p in enumerate(programs)])
    spec = task.spec.rsplit(":", 1)[0]
    if harness == "inline":
        from superopt.emit.inline_bench import bench_inline
        if spec.endswith(SPEC_SUFFIXES):
            items.append(spec)
            names.append("%s (the C spec)" % task.spec)
        options.pop("counter")
        return bench_inline(items, task, names, values=values, keep=loop_dir, **options)
    if spec.endswith(SPEC_SUFFIXES):
        for opt in (("-O2",), ("-O3",)):
            items.append(c_assembly(task, opt=opt))
            names.append("%s (%s %s)" % (task.spec, task.cc, opt[0]))
    return measure(items, task, names=names, **options)


def _source(path: str, program) -> str:
    """`path`, or `path:NAME` when the kernel is one function of several in the file."""
    several = isinstance(program, Program) and len(program.functions) > 1
    return "%s:%s" % (path, program.name) if several and not path.endswith(":" + program.name) else path


def _task_from_comment(sources: list[str]) -> str:
    """A C file's task from a `task: NAME` comment in its first lines."""
    for path in sources:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                head = "".join(f.readline() for _ in range(10))
        except OSError as exc:
            raise InputError("cannot read: %s" % (exc.strerror or exc), path) from None
        found = _TASK_COMMENT.search(head)
        if found:
            return found.group(1)
    raise InputError("no task given: use --task, an assembly file with a '# task:' header, "
                     "or a 'task: NAME' comment in the C file", sources[0] if sources else None)


def export(program: Kernel, task: Task | str | None = None, format: str = "cpp", *, name: str | None = None,
           values: bool = False, verdict: Verdict | None = None) -> str:
    """The kernel as source text: "cpp" (a C++ header, GNU inline asm), "c", "gas" (a .S
    file) or "intel" (a listing). A kernel that fails verify is refused (ExportRefused, a
    SuperoptError with exit code 1); pass `verdict` to reuse a verify you already ran."""
    from superopt.emit.export import check_request
    from superopt.emit.export import export as _export
    program, the_task = resolve(program, task)
    name = check_request(program, the_task, format, name, values)   # bad options fail before verify runs
    verdict = verdict or _verify(program, the_task)
    return _export(program, the_task, format, name, verdict, values)
