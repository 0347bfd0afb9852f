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
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field, replace

from superopt import __version__
from superopt.assembler import assemble, needs_implicit_ret
from superopt.errors import InputError, SuperoptError
from superopt.isa import FAMILIES, Instr, Label, Mem, Program, Reg, format_att, format_intel
from superopt.tasks import Task
from superopt.verify import Verdict, verify

FORMATS = ("cpp", "c", "gas", "intel")

# Operand-size modifiers of GCC's x86 extended asm.
_MODIFIER = {8: "b", 16: "w", 32: "k", 64: "q"}
# Single-register constraint letters, for families an instruction names implicitly.
_CONSTRAINT = {"rax": "a", "rbx": "b", "rcx": "c", "rdx": "d", "rsi": "S", "rdi": "D"}
# Instructions that only write their first operand; every other instruction with operands
# also reads it (cmov keeps it when the condition fails; 8/16-bit writes merge).
_WRITE_ONLY = frozenset({"mov", "movzx", "movsx", "lea", "set", "pop"})
_READ_ONLY = frozenset({"cmp", "test", "push", "j", "jmp"})
_WRITES_FLAGS = frozenset({"cmp", "test", "add", "sub", "and", "or", "xor", "neg", "inc", "dec",
                           "shl", "shr", "sar", "adc", "sbb"})
_HARNESS_ONLY = frozenset({"call", "rdtsc", "rdpmc", "lfence"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RED_ZONE = 128  # bytes below %rsp the compiler may use without moving %rsp (System V)


class ExportRefused(SuperoptError):
    """The kernel does not pass verify, so there is nothing trustworthy to export."""
    exit_code = 1


@dataclass
class RegisterUsage:
    """Which register families a kernel reads and writes, and which it needs by name."""
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    pinned: dict[str, str] = field(default_factory=dict)  # family -> why it cannot be renamed
    flags: bool = False    # writes the flags: "cc" clobber
    memory: bool = False   # reads or writes memory: "memory" clobber
    stack: bool = False    # uses %rsp (push/pop or rsp-based addresses)

    @property
    def families(self) -> list[str]:
        """Every family used except %rsp, in hardware order."""
        return [f for f in FAMILIES if f != "rsp" and (f in self.reads or f in self.writes)]


def register_usage(program: Program) -> RegisterUsage:
    """Read/write sets per register family, flags, memory and stack use of `program`."""
    use = RegisterUsage()
    for ins in program.instrs:
        if ins.op in _HARNESS_ONLY:
            raise _input(program, ins, "%s is for superopt's timing harness, not a kernel" % ins.op)
        zero_idiom = ins.op in ("xor", "sub") and ins.operands[0] == ins.operands[1]
        for k, op in enumerate(ins.operands):
            if isinstance(op, Reg):
                if op.family == "rsp":
                    raise _input(program, ins, "uses %rsp as a value; only push/pop and rsp-based "
                                               "addresses can be exported")
                dest = k == 0 and ins.op not in _READ_ONLY
                if not dest or ins.op not in _WRITE_ONLY and not zero_idiom:
                    use.reads.add(op.family)
                if dest or ins.op == "xchg":
                    use.writes.add(op.family)
            elif isinstance(op, Mem):
                for reg in (op.base, op.index):
                    if reg:
                        use.reads.add(reg)
                use.memory |= ins.op != "lea"
                if "rsp" in (op.base, op.index):
                    if op.disp >= 0 or op.index == "rsp":
                        raise _input(program, ins, "reads or writes the caller's stack frame")
                    use.stack = True
        if ins.op in ("push", "pop"):
            use.memory = use.stack = True
        if ins.op in ("shl", "shr", "sar") and isinstance(ins.operands[1], Reg):
            use.pinned["rcx"] = "shift count in %cl"
        if ins.op == "cltq":
            use.reads.add("rax")
            use.writes.add("rax")
            use.pinned["rax"] = "cltq sign-extends %eax into %rax"
        use.flags |= ins.op in _WRITES_FLAGS
    return use


def _input(program: Program, ins: Instr, reason: str) -> InputError:
    index = program.instrs.index(ins)
    line = program.lines[index] if index < len(program.lines) else None
    return InputError("cannot export: " + reason, program.path, line, ins.att())


def body(program: Program) -> Program:
    """The program without its callee-saved register saves, when they follow the usual
    pattern: pushes of 64-bit registers at entry, popped in reverse before every `ret` (and
    before the end, if execution can fall off it), and no other push or pop. Inline asm needs
    no saves: the compiler preserves whatever it must around the block. Otherwise the
    program comes back unchanged."""
    instrs = program.instrs
    saved = []
    while len(saved) < len(instrs) and instrs[len(saved)].op == "push" \
            and isinstance(instrs[len(saved)].operands[0], Reg) and instrs[len(saved)].operands[0].width == 64:
        saved.append(instrs[len(saved)].operands[0])
    if not saved:
        return program
    epilogue = [("pop", (reg,)) for reg in reversed(saved)]
    exits = [i for i, ins in enumerate(instrs) if ins.op == "ret"]
    if instrs[-1].op not in ("ret", "jmp"):
        exits.append(len(instrs))
    drop = set(range(len(saved)))
    for end in exits:
        start = end - len(epilogue)
        if start < len(saved) or [(ins.op, ins.operands) for ins in instrs[start:end]] != epilogue:
            return program
        drop.update(range(start, end))
    if any(ins.op in ("push", "pop") for i, ins in enumerate(instrs) if i not in drop):
        return program
    keep = [i for i in range(len(instrs)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
    # a label on a dropped instruction now marks the next kept one
    relabel = {name: next((new_index[j] for j in range(at, len(instrs)) if j in new_index), len(keep))
               for name, at in program.labels.items()}
    return replace(program, instrs=[instrs[i] for i in keep], labels=relabel,
                   lines=[program.lines[i] for i in keep] if len(program.lines) == len(instrs) else [])


def _label_names(labels, make) -> dict[str, str]:
    """Each label mapped to a safe, unique assembler name make(stem)."""
    names, taken = {}, set()
    for label in labels:
        stem = re.sub(r"[^A-Za-z0-9_]", "_", label.lstrip(".")) or "L"
        if stem.startswith("L") and label.startswith(".L"):
            stem = stem[1:] or "L"
        candidate, k = stem, 1
        while candidate in taken:
            k += 1
            candidate = "%s_%d" % (stem, k)
        taken.add(candidate)
        names[label] = make(candidate)
    return names


@dataclass
class Inline:
    """An extended-asm statement: template lines and operand lists, before C syntax."""
    template: list[str]
    outputs: list[tuple[str, str, str]]   # (symbolic name, constraint, C lvalue)
    inputs: list[tuple[str, str, str]]    # (symbolic name, constraint, C expression)
    clobbers: list[str]
    declarations: list[str]               # C declarations of the output variables
    unused: list[str]                     # parameters the kernel never reads


_END = "<ret>"  # the end of the asm block, where a `ret` jumps to (no label can be named so)


def inline_asm(program: Program, task: Task) -> Inline:
    """The kernel as a GCC extended-asm statement (see the module docstring)."""
    program = body(program)
    use = register_usage(program)
    args = {"rdi": "a", "rsi": "n"} if task.variable else {"rdi": "a"}
    outputs, inputs, declarations, scratch = [], [], [], []
    for fam in use.families:
        letter = _CONSTRAINT.get(fam, "r") if fam in use.pinned else "r"
        if fam in args:
            value = "a" if fam == "rdi" else "(uint64_t)(uint32_t)n"
            if fam in use.writes:  # the kernel moves or reuses its argument: give it a copy
                declarations.append(("int32_t *%s = a;" if fam == "rdi" else "uint64_t %s = " + value + ";") % fam)
                outputs.append((fam, "+" + letter, fam))
            else:
                inputs.append((fam, letter, value))
        else:
            scratch.append(fam)
            outputs.append((fam, "=&" + letter, fam))
    if scratch:
        declarations.insert(0, "uint64_t %s;" % ", ".join(scratch))
    # a final ret is simply the end of the block; any other needs a jump there
    needs_end = any(ins.op == "ret" for ins in program.instrs[:-1])
    labels = _label_names([*program.labels, _END], lambda stem: ".L%s%%=" % stem)

    def operand_ref(match: re.Match) -> str:
        reg = Reg.named(match.group(1))
        return "%%%s[%s]" % (_MODIFIER[reg.width], reg.family)

    template = ["lea -%d(%%%%rsp), %%%%rsp" % _RED_ZONE] if use.stack else []
    for i, ins in enumerate(program.instrs + [None]):
        template += [labels[name] + ":" for name in program.labels_at(i)]
        if ins is None or (ins.op == "ret" and i == len(program.instrs) - 1):
            continue
        if ins.op == "ret":
            ins = Instr("jmp", (Label(_END),))
        text = format_att(ins, labels)
        template.append(re.sub(r"%(\w+)", lambda m: operand_ref(m) if m.group(1) != "rsp" else "%%rsp", text))
    if needs_end:
        template.append(labels[_END] + ":")
    if use.stack:
        template.append("lea %d(%%%%rsp), %%%%rsp" % _RED_ZONE)
    clobbers = (["cc"] if use.flags else []) + (["memory"] if use.memory else [])
    unused = [param for fam, param in args.items() if fam not in use.families]
    return Inline(template, outputs, inputs, clobbers, declarations, unused)


def instruction_count(program: Program) -> int:
    """Instructions as superopt and AlphaDev count them: loads and stores in, `ret` out."""
    return sum(ins.op != "ret" for ins in program.instrs)


def _comment_lines(program: Program, task: Task, format: str, name: str, verdict) -> list[str]:
    header = dict(program.header)
    bench = header.pop("bench", None)
    header.pop("task", None)
    source = program.path or "<input>"
    lines = [
        "%s: %s." % (name, task.description),
        "Task %s, %d instructions (x86-64, not counting ret), from %s." % (task.name, instruction_count(program), source),
        "Verified: %s." % verdict_summary(verdict),
        "Bench: %s." % (bench if bench else "not measured (superopt bench %s)" % source),
        "Produced by superopt %s: superopt export --format %s%s %s" % (
            __version__, format, "" if name == function_name(program, task) else " --name " + name, source),
    ]
    lines += ["  %s: %s" % item for item in header.items()]
    return lines


def verdict_summary(verdict: Verdict, detail: bool = True) -> str:
    """One line saying what verify checked and what it found (briefly, without `detail`)."""
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
    if example:
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


def _c_source(program: Program, task: Task, name: str, cpp: bool, verdict) -> str:
    asm = inline_asm(program, task)
    comment = _comment_lines(program, task, "cpp" if cpp else "c", name, verdict)
    comment += ["", "Inline asm: the compiler chooses every register (the array pointer is an input",
                "operand, scratch registers are early-clobber outputs), so it inlines anywhere."]
    if len(body(program)) < len(program):
        comment.append("The kernel's saves of callee-saved registers are left out: the compiler keeps them.")
    guard = "SUPEROPT_%s_H" % name.upper()
    params = task.signature.split("(", 1)[1]
    out = _block_comment(comment) + [
           "#ifndef " + guard, "#define " + guard, "", "#include <stdint.h>", "",
           "%s void %s(%s" % ("inline" if cpp else "static inline", name, params), "{"]
    out += ["    (void)%s;" % p for p in asm.unused]
    out += ["    " + d for d in asm.declarations]
    out.append("    __asm__ __volatile__(")
    out += ['        "%s\\n\\t"' % line for line in asm.template]

    def operands(items):
        return ", ".join('[%s] "%s" (%s)' % item for item in items)

    out.append("        : " + operands(asm.outputs))
    out.append("        : " + operands(asm.inputs))
    out.append("        : " + ", ".join('"%s"' % c for c in asm.clobbers) + ");")
    out += ["}", "", "#endif /* %s */" % guard, ""]
    return "\n".join(out)


def _gas_source(program: Program, task: Task, name: str, verdict) -> str:
    labels = _label_names(program.labels, lambda stem: ".L%s_%s" % (name, stem))
    comment = _comment_lines(program, task, "gas", name, verdict)
    comment.append("C prototype: %s" % task.signature.replace(task.name + "(", name + "(", 1))
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


def _intel_listing(program: Program, task: Task, name: str, verdict) -> str:
    """Intel syntax with each instruction's offset and bytes (from superopt's assembler,
    which checked them with Capstone); gas accepts the text as it is."""
    code = assemble(program)
    labels = _label_names(program.labels, lambda stem: ".L%s_%s" % (name, stem))
    comment = _comment_lines(program, task, "intel", name, verdict)
    comment.append("Code size: %d bytes%s." % (len(code.code), ", with the ret appended" if code.implicit_ret else ""))
    out = ["# " + line if line else "#" for line in _wrap(comment)]
    out += ["\t.intel_syntax noprefix", "\t.text", "\t.globl\t" + name, name + ":"]
    rows = [(format_intel(replace(ins, operands=tuple(Label(labels[o.name]) if isinstance(o, Label) else o
                                                       for o in ins.operands))), start, code.code[start:start + size])
            for ins, start, size in zip(program.instrs, code.offsets, code.sizes)]
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


def export(program: Program, task: Task, format: str = "cpp", name: str | None = None,
           verdict=None) -> str:
    """The verified kernel as source text in `format` (cpp, c, gas or intel).

    `verdict` is the result of superopt.verify.verify(program, task); it is computed when
    not given. A kernel that fails it is refused (ExportRefused, exit code 1): exported code
    gets pasted and trusted, so only verified kernels leave superopt."""
    if format not in FORMATS:
        raise InputError("unknown export format %r (known: %s)" % (format, ", ".join(FORMATS)))
    name = function_name(program, task, name)
    if not _IDENTIFIER.match(name):
        raise InputError("function name %r is not a C identifier" % name)
    if verdict is None:
        verdict = verify(program, task)
    if not verdict.passed:
        raise ExportRefused("%s: refusing to export, the kernel fails verify for %s: %s"
                            % (program.path or "<input>", task.name, verdict_summary(verdict)))
    referenced = {o.name for ins in program.instrs for o in ins.operands if isinstance(o, Label)}
    if program.name in program.labels and program.name not in referenced:
        # the function's own label: the symbol (or the asm block) already marks the start
        program = replace(program, labels={k: v for k, v in program.labels.items() if k != program.name})
    if format in ("cpp", "c"):
        return _c_source(program, task, name, format == "cpp", verdict)
    if format == "gas":
        return _gas_source(program, task, name, verdict)
    return _intel_listing(program, task, name, verdict)
