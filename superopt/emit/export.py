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
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field, replace

from superopt.version import __version__
from superopt.x86.assembler import assemble, needs_implicit_ret
from superopt.errors import InputError, SuperoptError
from superopt.x86.isa import FAMILIES, Instr, Label, Mem, Program, Reg, format_att, format_intel, instruction_count
from superopt.tasks.base import Task
from superopt.check.verify import Verdict, verify

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


def accesses(ins: Instr) -> tuple[set[str], set[str]]:
    """(families read, families written) by one instruction; address registers are read."""
    reads, writes = set(), set()
    zero_idiom = ins.op in ("xor", "sub") and ins.operands[0] == ins.operands[1]
    for k, op in enumerate(ins.operands):
        if isinstance(op, Reg):
            dest = k == 0 and ins.op not in _READ_ONLY
            if not dest or ins.op not in _WRITE_ONLY and not zero_idiom:
                reads.add(op.family)
            if dest or ins.op == "xchg":
                writes.add(op.family)
        elif isinstance(op, Mem):
            reads.update(reg for reg in (op.base, op.index) if reg)
    if ins.op == "cltq":
        reads.add("rax")
        writes.add("rax")
    return reads, writes


def register_usage(program: Program) -> RegisterUsage:
    """Read/write sets per register family, flags, memory and stack use of `program`."""
    use = RegisterUsage()
    for i, ins in enumerate(program.instrs):
        if ins.op in _HARNESS_ONLY:
            raise _input(program, i, "%s is for superopt's timing harness, not a kernel" % ins.op)
        reads, writes = accesses(ins)
        use.reads |= reads
        use.writes |= writes
        for op in ins.operands:
            if isinstance(op, Reg) and op.family == "rsp":
                raise _input(program, i, "uses %rsp as a value; only push/pop and rsp-based "
                                           "addresses can be exported")
            if isinstance(op, Mem):
                use.memory |= ins.op != "lea"
                if "rsp" in (op.base, op.index):
                    if op.disp >= 0 or op.index == "rsp":
                        raise _input(program, i, "reads or writes the caller's stack frame")
                    use.stack = True
        if ins.op in ("push", "pop"):
            use.memory = use.stack = True
        if ins.op in ("shl", "shr", "sar") and isinstance(ins.operands[1], Reg):
            use.pinned["rcx"] = "shift count in %cl"
        if ins.op == "cltq":
            use.pinned["rax"] = "cltq sign-extends %eax into %rax"
        use.flags |= ins.op in _WRITES_FLAGS
    return use


def _input(program: Program, index: int, reason: str) -> InputError:
    """Why instruction `index` cannot be exported, naming its file and line."""
    line = program.lines[index] if index < len(program.lines) else None
    return InputError("cannot export: " + reason, program.path, line, program.instrs[index].att())


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
    return _without(program, drop)


def _without_function_label(program: Program) -> Program:
    """`program` without its function label when no branch targets it: the symbol (or the
    start of the asm block) already marks the entry."""
    referenced = {o.name for ins in program.instrs for o in ins.operands if isinstance(o, Label)}
    if program.name not in program.labels or program.name in referenced:
        return program
    return replace(program, labels={k: v for k, v in program.labels.items() if k != program.name})


def _without(program: Program, drop: set[int]) -> Program:
    """`program` with the instructions at indices `drop` left out; a label on a dropped
    instruction moves to the next kept one."""
    instrs = program.instrs
    keep = [i for i in range(len(instrs)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
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
    after: list[str] = field(default_factory=list)  # C statements after the block
    volatile: bool = True                 # False: a pure function of its operands


@dataclass
class ElementValues:
    """How a fixed-size kernel's loads and stores map onto element values (values form)."""
    loads: dict[str, int]    # family -> the element it holds on entry
    stores: dict[int, str]   # element -> the family holding its final value
    drop: set[int]           # indices of those loads and stores


def _element(op: Mem, task: Task) -> int | None:
    """k when `op` is the 32-bit array element a[k], k < n, addressed as disp(%rdi)."""
    if op.width == 32 and op.base == "rdi" and op.index is None and op.disp % 4 == 0 \
            and 0 <= op.disp < 4 * task.n:
        return op.disp // 4
    return None


def element_values(program: Program, task: Task) -> ElementValues:
    """The element loads and stores the values form replaces with operands.

    Loads `movl disp(%rdi), %reg` before the first branch or branch target, into a register
    not touched before, become "the register holds a[k] on entry"; stores `movl %reg,
    disp(%rdi)` after the last branch or branch target, each element at most once and from
    a register not changed afterwards, become "a[k] = that register" after the block. Any
    other access must read an element that has not been stored yet (it becomes an input).
    Whatever breaks these rules is an InputError saying which instruction and why."""
    if task.variable:
        raise InputError("the values form needs a fixed-size task: %s may only touch a[0..n)" % task.name,
                         program.path)
    instrs = program.instrs
    targets = {o.name for ins in instrs for o in ins.operands if isinstance(o, Label)}
    merges = [at for name, at in program.labels.items() if name in targets]
    jumps = [i for i, ins in enumerate(instrs) if ins.op in ("j", "jmp")]
    entry_end = min(jumps + merges, default=len(instrs))
    exit_start = max([i + 1 for i in jumps] + merges, default=0)
    values = ElementValues({}, {}, set())
    seen: set[str] = set()  # families accessed so far
    need = "the values form needs "
    for i, ins in enumerate(instrs):
        if ins.op == "ret" and i != len(instrs) - 1:
            raise _input(program, i, need + "no ret before the end (it would skip the stores)")
        reads, writes = accesses(ins)
        if "rdi" in writes or any(isinstance(o, Reg) and o.family == "rdi" for o in ins.operands):
            raise _input(program, i, need + "%rdi only as the array's address")
        mems = [(k, o) for k, o in enumerate(ins.operands) if isinstance(o, Mem)]
        elements = [_element(o, task) for _, o in mems]
        if ins.op == "lea" or None in elements:
            raise _input(program, i, need + "every memory access to be an element disp(%%rdi), "
                                            "0 <= disp < %d" % (4 * task.n))
        written = any(k == 0 and ins.op not in _READ_ONLY or ins.op == "xchg" for k, _ in mems)
        dest = ins.operands[0] if ins.operands else None
        if written:
            src = ins.operands[1] if len(ins.operands) > 1 else None
            if ins.op != "mov" or i < exit_start or not (isinstance(src, Reg) and src.width == 32) \
                    or elements[0] in values.stores:
                raise _input(program, i, need + "each element stored at most once, by movl from a register, "
                                                "after the last branch")
            values.stores[elements[0]] = src.family
            values.drop.add(i)
        elif elements and any(k in values.stores for k in elements):
            raise _input(program, i, need + "no element read after it is stored")
        elif elements and i < entry_end and ins.op == "mov" and isinstance(dest, Reg) and dest.width == 32 \
                and dest.family not in seen:
            values.loads[dest.family] = elements[0]
            values.drop.add(i)
        stored = set(values.stores.values())
        if stored & writes:
            raise _input(program, i, need + "registers left alone once stored (%%%s changes after its store)"
                         % sorted(stored & writes)[0])
        seen |= reads | writes
    return values


def _inline_body(program: Program) -> Program:
    """What goes into the asm block: the body without callee-saved saves (see body), and only
    the labels something jumps to."""
    referenced = {o.name for ins in program.instrs for o in ins.operands if isinstance(o, Label)}
    return body(replace(program, labels={k: v for k, v in program.labels.items() if k in referenced}))


_END = "<ret>"  # the end of the asm block, where a `ret` jumps to (no label can be named so)


def inline_asm(program: Program, task: Task, values: bool = False) -> Inline:
    """The kernel as a GCC extended-asm statement (see the module docstring).

    With `values`, for fixed-size kernels, the elements themselves are operands instead of
    the array pointer: the kernel's loads and stores leave the block (see element_values),
    so the compiler can keep the array in registers and the block touches no memory."""
    program = _inline_body(program)
    register_usage(program)  # refuses what cannot be exported, before anything else
    elements = element_values(program, task) if values else None
    if elements:
        program = _without(program, elements.drop)
    use = register_usage(program)
    args = {} if values else {"rdi": "a", "rsi": "n"} if task.variable else {"rdi": "a"}
    outputs, inputs, declarations, scratch = [], [], [], []
    # Every output is early-clobber, in-out ones too: the kernel writes registers before it
    # has read all its inputs, and without `&` the compiler may give an input the register
    # of an in-out operand it knows holds the same value (a[0] read in place and the
    # register loaded from a[0], in the values form).
    for fam in use.families:
        letter = _CONSTRAINT.get(fam, "r") if fam in use.pinned else "r"
        if elements and fam == "rdi":
            continue  # only the address of elements read in place, which become inputs
        if elements and fam in elements.loads:  # zero-extended, as the movl it replaces leaves it
            declarations.append("uint64_t %s = (uint32_t)a[%d];" % (fam, elements.loads[fam]))
            outputs.append((fam, "+&" + letter, fam))
        elif fam in args:
            value = "a" if fam == "rdi" else "(uint64_t)(uint32_t)n"
            if fam in use.writes:  # the kernel moves or reuses its argument: give it a copy
                declarations.append("int32_t *rdi = a;" if fam == "rdi" else "uint64_t rsi = %s;" % value)
                outputs.append((fam, "+&" + letter, fam))
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

    read_in_place = set()

    def element_ref(match: re.Match) -> str:  # values form: a[k] read in place -> its input
        k = int(match.group(1) or 0) // 4
        read_in_place.add(k)
        return "%%k[a%d]" % k

    template = ["lea -%d(%%%%rsp), %%%%rsp" % _RED_ZONE] if use.stack else []
    for i, ins in enumerate(program.instrs + [None]):
        template += [labels[name] + ":" for name in program.labels_at(i)]
        if ins is None or (ins.op == "ret" and i == len(program.instrs) - 1):
            continue
        if ins.op == "ret":
            ins = Instr("jmp", (Label(_END),))
        text = format_att(ins, labels)
        text = re.sub(r"%(\w+)", lambda m: operand_ref(m) if m.group(1) != "rsp" else "%%rsp", text)
        if elements:
            text = re.sub(r"(\d*)\(%q\[rdi\]\)", element_ref, text)
        template.append(text)
    if needs_end:
        template.append(labels[_END] + ":")
    if use.stack:
        template.append("lea %d(%%%%rsp), %%%%rsp" % _RED_ZONE)
    inputs += [("a%d" % k, "r", "a[%d]" % k) for k in sorted(read_in_place)]
    after = ["a[%d] = (int32_t)%s;" % item for item in sorted(elements.stores.items())] if elements else []
    memory = use.memory and not elements  # the values form reads operands, not memory
    clobbers = (["cc"] if use.flags else []) + (["memory"] if memory else [])
    unused = [param for fam, param in args.items() if fam not in use.families]
    return Inline(template, outputs, inputs, clobbers, declarations, unused, after, volatile=not elements)


def _comment_lines(program: Program, task: Task, format: str, name: str, verdict: Verdict,
                   values: bool = False) -> list[str]:
    bench_key = "bench" if program.header.get("bench") else "latency"  # `search --objective latency`
    bench = program.header.get(bench_key)
    source = program.path or "<input>"
    # command arguments that reproduce it: --task when the file's header does not name the task
    args = source if task.name == program.task else "--task %s %s" % (task.name, source)
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
                    "(the array pointer is an input operand, scratch registers are early-clobber",
                    "outputs), so it inlines anywhere."]
    if len(body(program)) < len(program):
        comment.append("The kernel's saves of callee-saved registers are left out: the compiler keeps them.")
    guard = "SUPEROPT_%s_H" % name.upper()
    params = task.signature.split("(", 1)[1]
    out = _block_comment(comment) + [
           "#ifndef " + guard, "#define " + guard, "", "#include <stdint.h>", "",
           "%s void %s(%s" % ("inline" if cpp else "static inline", name, params), "{"]
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
    labels = _label_names(program.labels, lambda stem: ".L%s_%s" % (name, stem))
    comment = _comment_lines(program, task, "gas", name, verdict)
    comment.append('C prototype: %s; (in C++, declare it extern "C")'
                   % task.signature.replace(task.name + "(", name + "(", 1))
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
    which checked them with Capstone); gas accepts the text as it is."""
    code = assemble(program)
    labels = _label_names(program.labels, lambda stem: ".L%s_%s" % (name, stem))
    comment = _comment_lines(program, task, "intel", name, verdict)
    comment.append("Code size: %d bytes%s." % (len(code.code),
                                                ", with the ret appended" if code.implicit_ret else ""))
    out = ["# " + line if line else "#" for line in _wrap(comment)]
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
        element_values(_inline_body(program), task)
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
