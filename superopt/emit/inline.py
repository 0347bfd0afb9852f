"""A kernel as a GCC extended-asm statement: every register family a named operand, labels
made unique per inlined copy, ret a jump to the end (see superopt.emit.export), and the
values form's element loads and stores moved out of the block."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from superopt.emit.usage import body, input_error, register_usage, without
from superopt.errors import InputError
from superopt.tasks.base import Task
from superopt.x86 import semantics
from superopt.x86.isa import BRANCHES, Instr, Label, Mem, Program, Reg, format_att

# Operand-size modifiers of GCC's x86 extended asm.
_MODIFIER = {8: "b", 16: "w", 32: "k", 64: "q"}
# Single-register constraint letters, for families an instruction names implicitly.
_CONSTRAINT = {"rax": "a", "rbx": "b", "rcx": "c", "rdx": "d", "rsi": "S", "rdi": "D"}
_RED_ZONE = 128  # bytes below %rsp the compiler may use without moving %rsp (System V)


def label_names(labels, make) -> dict[str, str]:
    """Each label mapped to a safe, unique assembler name make(stem)."""
    names, taken = {}, set()
    for label in labels:
        stem = re.sub(r"[^A-Za-z0-9_]", "_", label.lstrip(".")) or "L"
        if stem.startswith("L") and label.startswith(".L"):
            stem = stem[1:] or "L"
        candidate, k = stem, 1
        while make(candidate) in taken:
            k += 1
            candidate = "%s_%d" % (stem, k)
        taken.add(make(candidate))
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
    if task.kind in ("function", "buffer"):
        raise InputError("the values form is for sort tasks: %s is a %s task, whose arguments are register "
                         "operands already" % (task.name, task.kind), program.path)
    if task.variable:
        raise InputError("the values form needs a fixed-size task: %s may only touch a[0..n)" % task.name,
                         program.path)
    instrs = program.instrs
    targets = {o.name for ins in instrs for o in ins.operands if isinstance(o, Label)}
    merges = [at for name, at in program.labels.items() if name in targets]
    jumps = [i for i, ins in enumerate(instrs) if ins.op in BRANCHES]
    entry_end = min(jumps + merges, default=len(instrs))
    exit_start = max([i + 1 for i in jumps] + merges, default=0)
    values = ElementValues({}, {}, set())
    seen: set[str] = set()  # families accessed so far
    need = "the values form needs "
    for i, ins in enumerate(instrs):
        if ins.op == "ret" and i != len(instrs) - 1:
            raise input_error(program, i, need + "no ret before the end (it would skip the stores)")
        reads, writes = semantics.reads(ins), semantics.writes(ins)
        if "rdi" in writes or any(isinstance(o, Reg) and o.family == "rdi" for o in ins.operands):
            raise input_error(program, i, need + "%rdi only as the array's address")
        mems = [(k, o) for k, o in enumerate(ins.operands) if isinstance(o, Mem)]
        elements = [_element(o, task) for _, o in mems]
        if ins.op == "lea" or None in elements:
            raise input_error(program, i, need + "every memory access to be an element disp(%%rdi), "
                                            "0 <= disp < %d" % (4 * task.n))
        written = bool(semantics.stores(ins))
        dest = ins.operands[0] if ins.operands else None
        if written:
            src = ins.operands[1] if len(ins.operands) > 1 else None
            if ins.op != "mov" or i < exit_start or not (isinstance(src, Reg) and src.width == 32) \
                    or elements[0] in values.stores:
                raise input_error(program, i, need + "each element stored at most once, by movl from a register, "
                                                "after the last branch")
            values.stores[elements[0]] = src.family
            values.drop.add(i)
        elif elements and any(k in values.stores for k in elements):
            raise input_error(program, i, need + "no element read after it is stored")
        elif elements and i < entry_end and ins.op == "mov" and isinstance(dest, Reg) and dest.width == 32 \
                and dest.family not in seen:
            values.loads[dest.family] = elements[0]
            values.drop.add(i)
        stored = set(values.stores.values())
        if stored & writes:
            raise input_error(program, i, need + "registers left alone once stored (%%%s changes after its store)"
                         % sorted(stored & writes)[0])
        seen |= reads | writes
    return values


def inline_body(program: Program) -> Program:
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
    program = inline_body(program)
    register_usage(program)  # refuses what cannot be exported, before anything else
    elements = element_values(program, task) if values else None
    if elements:
        program = without(program, elements.drop)
    use = register_usage(program)
    function, buffer = task.kind == "function", task.kind == "buffer"
    pointer = "p" if buffer else "a"   # the buffer's name in the signature, or the array's
    if function:
        params = {a.family: p.name for a, p in zip(task.entry[0], task.signature.params)}
        args = params
    else:
        args = {} if values else {"rdi": "a", "rsi": "n"} if task.variable else {"rdi": pointer}
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
            value = (argument_value(task, fam) if function else pointer if fam == "rdi" else "(uint64_t)(uint32_t)n")
            if fam in use.writes:  # the kernel moves or reuses its argument: give it a copy
                declarations.append(("const uint8_t *rdi = p;" if buffer else "int32_t *rdi = a;")
                                    if fam == "rdi" and not function else
                                    "uint64_t %s = %s;" % (fam, value))
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
    # "_" before %= (a number): ".L3%=" in the 77th asm block would be ".L377", which gcc's
    # own local labels (.L<digits>) or ".L37%=" in the 7th block may also be
    labels = label_names([*program.labels, _END], lambda stem: ".L%s_%%=" % stem.rstrip("_"))

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
    if function or buffer:
        ret = task.signature.ret if function else task.ret
        after = ["return (%s)%srax;" % (ret.name, "(uint8_t)" if ret.is_bool else "")]
        if buffer and task.pair:   # the struct System V returns in %rax, field by field (C and C++ alike)
            after = ["%s r = {(uint%d_t)rax, (uint32_t)(rax >> 32)};" % (ret.name, task.width), "return r;"]
    memory = use.memory and not elements  # the values form reads operands, not memory
    if memory and buffer:   # the buffer is read, never written: an input operand for all of it
        inputs.append(("buffer", "m", "*(const uint8_t (*)[%d])p" % task.size))
        memory = False
    elif memory and not function:
        # a[0..n) is all the memory a sort kernel may touch: an operand that says so, not a
        # "memory" clobber, after which the compiler reloads every object it keeps in memory
        # (a std::vector's pointers, in a loop over one)
        outputs.append(("array", "+m", "*(int32_t (*)[%d])a" % task.n))
        memory = False
    clobbers = (["cc"] if use.flags else []) + (["memory"] if memory else [])
    unused = [param for fam, param in args.items() if fam not in use.families]
    pure = bool(elements) or (function and not use.memory and not use.stack)
    return Inline(template, outputs, inputs, clobbers, declarations, unused, after, volatile=not pure)


def argument_value(task: Task, family: str) -> str:
    """A function task's argument as the 64-bit register value the entry rule gives it: its
    type's bits extended to 32 bits (8- and 16-bit ones per signedness), zero above."""
    arg, param = next((a, p) for a, p in zip(task.entry[0], task.signature.params) if a.family == family)
    if arg.defined == 64:
        return "(uint64_t)%s" % param.name
    if arg.type.width == 32:
        return "(uint64_t)(uint32_t)%s" % param.name
    return "(uint64_t)(uint32_t)(%s)%s" % ("int32_t" if arg.type.signed else "uint32_t", param.name)
