"""Verified kernels as source people can paste: C/C++ inline asm, a gas `.S` file, an Intel listing.

A kernel is written as a System V function (array pointer in %rdi, length in %esi). Inlined
into someone else's code it cannot keep those registers: the compiler decides where `a`
lives and which registers are free. So the C and C++ forms turn every register family the
kernel touches into a named extended-asm operand (`%k[rax]` for %eax, `%q[rdi]` for %rdi):
arguments become inputs, everything else early-clobber scratch outputs, and the compiler
picks the registers. Families an instruction needs by name (%cl as a shift count, %rax for
cltq) keep their register through a constraint letter. Labels get `%=` so that each inlined
copy has its own, `ret` becomes a jump to the end of the block, and saves of callee-saved
registers (push at entry, pop before ret) are dropped because the compiler now does that.

The values form (fixed-size sorts) goes further: the elements themselves are operands, the
kernel's loads and stores become C assignments around the block, and the compiler may keep
the array in registers; the block touches no memory and is not volatile.

The gas and Intel forms keep the kernel as written, a complete function for the linker.

This module renders the four formats; superopt.emit.inline builds the extended-asm
statement (and the values form) and superopt.emit.usage the register usage it rests on.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from superopt.version import __version__
from superopt.check.verify import Verdict, verify
from superopt.emit.inline import element_values, inline_asm, inline_body, label_names
from superopt.emit.usage import RegisterUsage, body, register_usage
from superopt.errors import InputError, SuperoptError
from superopt.tasks.base import Task
from superopt.x86.assembler import assemble, needs_implicit_ret
from superopt.x86.isa import Label, Program, format_att, format_intel, instruction_count

__all__ = ["FORMATS", "ExportRefused", "RegisterUsage", "body", "check_request", "element_values", "export",
           "function_name", "inline_asm", "register_usage", "verdict_summary"]

FORMATS = ("cpp", "c", "gas", "intel")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# C and C++ keywords: identifiers that still cannot name a function.
_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if inline
    int long register restrict return short signed sizeof static struct switch typedef union unsigned
    void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn
    _Static_assert _Thread_local alignas alignof and and_eq asm bitand bitor bool catch char8_t
    char16_t char32_t class compl concept const_cast consteval constexpr constinit co_await co_return
    co_yield decltype delete dynamic_cast explicit export false friend mutable namespace new noexcept
    not not_eq nullptr operator or or_eq private protected public reinterpret_cast requires
    static_assert static_cast template this thread_local throw true try typeid typename using virtual
    wchar_t xor xor_eq""".split())


class ExportRefused(SuperoptError):
    """The kernel does not pass verify, so there is nothing trustworthy to export."""
    exit_code = 1


def _without_function_label(program: Program) -> Program:
    """`program` without its function label when no branch targets it: the symbol (or the
    start of the asm block) already marks the entry."""
    referenced = {o.name for ins in program.instrs for o in ins.operands if isinstance(o, Label)}
    if program.name not in program.labels or program.name in referenced:
        return program
    return replace(program, labels={k: v for k, v in program.labels.items() if k != program.name})


def _comment_lines(program: Program, task: Task, format: str, name: str, verdict: Verdict,
                   values: bool = False) -> list[str]:
    bench_key = "bench" if program.header.get("bench") else "latency"  # `search --objective latency`
    bench = program.header.get(bench_key)
    source = program.path or "<input>"
    # command arguments that reproduce it: --task when the file's header does not name the task
    spec = task.spec if task.kind == "function" else task.name
    args = source if task.name == program.task else "--task %s %s" % (spec, source)
    lines = [
        "%s: %s." % (name, task.description),
        "Task %s, %d instructions (x86-64, not counting ret), from %s." % (
            task.name, instruction_count(program), source),
        "Verified: %s." % verdict_summary(verdict),
        "Bench: %s." % (bench if bench else "not measured (superopt bench %s)" % args),
        "Produced by superopt %s: superopt export --format %s%s%s %s" % (
            __version__, format, "" if name == function_name(program, task) else " --name " + name,
            " --values" if values else "", args),
    ]
    # the file's own header comment as written (provenance), less what the lines above say;
    # an indented line continues the one before, and _wrap rewraps them together
    paragraphs: list[list] = []
    for key, text in program.comment:
        if text[:1].isspace() and paragraphs:
            paragraphs[-1][1] += " " + text.strip()
        else:
            paragraphs.append([key, text])
    lines += ["  " + text for key, text in paragraphs if key not in ("task", bench_key)]
    return lines


def verdict_summary(verdict: Verdict, detail: bool = True) -> str:
    """One line saying what verify checked and what it found (briefly, without `detail`)."""
    if verdict.passed and verdict.strength:
        return "PASS, %s%s" % (verdict.label, " in the Unicorn emulator against the task's reference (%s)"
                                % verdict.proof_reason if detail else "")
    if verdict.passed:
        kind = "a proof" if verdict.proof else "a test, not a proof"
        if not detail:
            return "PASS, " + kind
        return "PASS, %s: %d weak orderings and %d random inputs in the Unicorn emulator (%s)" % (
            kind, verdict.proof_inputs, verdict.random_inputs, verdict.proof_reason)
    parts = []
    for v in verdict.violations:
        where = " at line %d (%s)" % (v.line, v.text) if v.line else " at %s" % v.text if v.text else ""
        parts.append("%s: %s%s" % (v.rule, v.detail, where))
    example = verdict.counterexample
    if example and "call" in example:
        parts.append(example["call"])
    elif example:
        parts.append("input %s%s, expected %s%s" % (
            example["input"], " (n=%d)" % example["length"] if verdict.task.startswith("var") else "",
            example["expected"], ", got %s" % example["got"] if example["got"] is not None else ""))
    return "FAIL, " + "; ".join(parts)


def _wrap(lines: list[str]) -> list[str]:
    """Comment lines wrapped at 88 columns, continuation lines indented."""
    return [part for line in lines
            for part in textwrap.wrap(line, 88, subsequent_indent="    ", break_on_hyphens=False) or [""]]


def _block_comment(lines: list[str]) -> list[str]:
    """A /* */ comment (valid in C, C++ and gas); header text cannot end it early."""
    return ["/*"] + [(" * " + line.replace("*/", "* /")).rstrip() for line in _wrap(lines)] + [" */"]


def _c_source(program: Program, task: Task, name: str, cpp: bool, verdict: Verdict, values: bool) -> str:
    asm = inline_asm(program, task, values)
    comment = _comment_lines(program, task, "cpp" if cpp else "c", name, verdict, values)
    if values:
        comment += ["", "GNU C inline asm for x86-64 (tested with GCC), values form: the elements go in and",
                    "out as register operands (the kernel's loads and stores are left to the compiler,",
                    "which may keep the array in registers); scratch registers are early-clobber",
                    "outputs. It inlines anywhere."]
    else:
        comment += ["", "GNU C inline asm for x86-64 (tested with GCC): the compiler chooses every register",
                    "(the %s input operands, scratch registers are early-clobber" %
                    ("arguments are" if task.kind == "function" else "%s pointer is an" % (
                        "buffer" if task.kind == "buffer" else "array")),
                    "outputs), so it inlines anywhere."]
    if len(body(program)) < len(program):
        comment.append("The kernel's saves of callee-saved registers are left out: the compiler keeps them.")
    guard = "SUPEROPT_%s_H" % name.upper()
    includes = ["#include <stdint.h>"]
    if task.kind == "function":
        includes += [] if cpp else ["#include <stdbool.h>"]
        params = str(task.signature).split("(", 1)[1]
        ret = task.signature.ret.name
        ret = "bool" if ret == "_Bool" and cpp else ret
    elif task.kind == "buffer":
        params, ret = task.signature.split("(", 1)[1], task.ret.name
        if task.struct:   # the pair form's return type, once however many headers declare it
            type_guard = "SUPEROPT_%s" % ret.upper()
            includes += ["", "#ifndef " + type_guard, "#define " + type_guard, task.struct, "#endif"]
    else:
        params, ret = task.signature.split("(", 1)[1], "void"
    out = _block_comment(comment) + [
           "#ifndef " + guard, "#define " + guard, "", *includes, "",
           "%s %s %s(%s" % ("inline" if cpp else "static inline", ret, name, params), "{"]
    out += ["    (void)%s;" % p for p in asm.unused]
    out += ["    " + d for d in asm.declarations]
    out.append("    __asm__%s(" % (" __volatile__" if asm.volatile else ""))
    out += ['        "%s\\n\\t"' % line for line in asm.template]

    def operands(items):
        return ", ".join('[%s] "%s" (%s)' % item for item in items)

    out += [("        : " + part).rstrip() for part in (
        operands(asm.outputs), operands(asm.inputs), ", ".join('"%s"' % c for c in asm.clobbers))]
    out[-1] += ");"
    out += ["    " + statement for statement in asm.after]
    out += ["}", "", "#endif /* %s */" % guard, ""]
    return "\n".join(out)


def _gas_source(program: Program, task: Task, name: str, verdict: Verdict) -> str:
    labels = label_names(program.labels, lambda stem: ".L%s_%s" % (name, stem))
    comment = _comment_lines(program, task, "gas", name, verdict)
    comment.append('C prototype: %s%s; (in C++, declare it extern "C")'
                   % (getattr(task, "struct", None) and task.struct + " " or "",
                      str(task.signature).replace(task.name + "(", name + "(", 1)))
    out = _block_comment(comment) + [
           "\t.text", "\t.globl\t" + name, "\t.type\t%s, @function" % name, "\t.p2align 4", name + ":"]
    for i, ins in enumerate(program.instrs + [None]):
        out += [labels[label] + ":" for label in program.labels_at(i)]
        if ins is not None:
            out.append("\t" + format_att(ins, labels))
    if needs_implicit_ret(program):
        out.append("\tret")
    out += ["\t.size\t%s, .-%s" % (name, name), '\t.section\t.note.GNU-stack,"",@progbits', ""]
    return "\n".join(out)


def _intel_listing(program: Program, task: Task, name: str, verdict: Verdict) -> str:
    """Intel syntax with each instruction's offset and bytes (from superopt's assembler,
    which checked them with Capstone); gas accepts the text as it is, and superopt reads
    it back with its task (the one `# task:` line of a built-in task; the rest is a /* */
    comment)."""
    code = assemble(program)
    labels = label_names(program.labels, lambda stem: ".L%s_%s" % (name, stem))
    comment = _comment_lines(program, task, "intel", name, verdict)
    comment.append("Code size: %d bytes%s." % (len(code.code),
                                                ", with the ret appended" if code.implicit_ret else ""))
    # a header superopt reads back (a function task is named by its --task, in the comment), then prose
    out = ([] if task.kind == "function" else ["# task: " + task.name]) + _block_comment(comment)
    out += ["\t.intel_syntax noprefix", "\t.text", "\t.globl\t" + name, name + ":"]
    renamed = [replace(ins, operands=tuple(Label(labels[o.name]) if isinstance(o, Label) else o
                                           for o in ins.operands)) for ins in program.instrs]
    rows = [(format_intel(ins), start, code.code[start:start + size])
            for ins, start, size in zip(renamed, code.offsets, code.sizes)]
    if code.implicit_ret:
        end = code.offsets[-1] + code.sizes[-1] if program.instrs else 0
        rows.append(("ret", end, code.code[end:]))
    width = max((len(text) for text, _, _ in rows), default=0)
    for i, (text, start, raw) in enumerate(rows):
        out += [labels[label] + ":" for label in program.labels_at(i)]
        out.append("\t%s  # %04x: %s" % (text.ljust(width), start, raw.hex(" ")))
    return "\n".join(out) + "\n"


def function_name(program: Program, task: Task, name: str | None = None) -> str:
    """`name` if given, else the kernel's own function label, else the task's name."""
    if name:
        return name
    return program.name if program.name and _IDENTIFIER.match(program.name) else task.name


def check_request(program: Program, task: Task, format: str, name: str | None, values: bool) -> str:
    """The function name an export will use, after checking the options (InputError)."""
    if format not in FORMATS:
        raise InputError("unknown export format %r (known: %s)" % (format, ", ".join(FORMATS)), "--format")
    where = "--name" if name else program.path  # the name comes from the option or the file's label
    name = function_name(program, task, name)
    if not _IDENTIFIER.match(name) or name in _KEYWORDS:
        raise InputError("function name %r is not a C identifier (or is a C/C++ keyword)" % name, where)
    if values and format not in ("cpp", "c"):
        raise InputError("the values form is for the c and cpp formats, not %s" % format, "--values")
    if values:
        element_values(inline_body(program), task)
    return name


def export(program: Program, task: Task, format: str = "cpp", name: str | None = None,
           verdict: Verdict | None = None, values: bool = False) -> str:
    """The verified kernel as source text in `format` (cpp, c, gas or intel); `values`
    picks the values form of the C and C++ inline asm (see inline_asm).

    `verdict` is the result of superopt.check.verify.verify(program, task); it is computed when
    not given. A kernel that fails it is refused (ExportRefused, exit code 1): exported code
    gets pasted and trusted, so only verified kernels leave superopt."""
    name = check_request(program, task, format, name, values)
    if verdict is None:
        verdict = verify(program, task)
    if not verdict.passed:
        raise ExportRefused("%s: refusing to export, the kernel fails verify for %s: %s"
                            % (program.path or "<input>", task.name, verdict_summary(verdict)))
    program = _without_function_label(program)
    if format in ("cpp", "c"):
        return _c_source(program, task, name, format == "cpp", verdict, values)
    if format == "gas":
        return _gas_source(program, task, name, verdict)
    return _intel_listing(program, task, name, verdict)
