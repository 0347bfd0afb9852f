"""Reading AT&T assembly as people and compilers write it into the instruction form.
After `.intel_syntax [no]prefix` (until `.att_syntax`) statements are Intel syntax: their
operands are superopt.x86.intel's, the mnemonic table, sizes and checks are this module's.

Accepted: one or more statements per line (`;` separates them), `#` and `/* ... */`
comments (as `superopt export --format gas` and gcc's .S files write them), named
labels, `.L` labels and GNU numeric local labels (`1:` with `jmp 1b` / `jle 2f`, given
unique internal names `.L<n>_<k>`), an optional function label, gcc's directives (ignored:
alignment changes layout, not meaning; the contents of non-code sections are skipped),
size suffixes wherever an operand fixes the size (gcc's `cmovl` is cmov-if-less).
`endbr64`, which gcc -fcf-protection (Debian's and Ubuntu's default) puts at every
function's entry, marks a valid indirect-branch target and does nothing else: it is
dropped, like a directive. gcc's `rep bsf` (its ctz without -mbmi) is read as bsf: the
prefix makes it tzcnt on CPUs with BMI1, and only what both give may be relied on. Bare
shifts and rotates (`shll %eax`, `rolb %al`) count 1; `imull $7, %eax` is `imull $7, %eax,
%eax`. A UTF-8 byte order mark is ignored.
Leading `# key: value` comment lines form the program's header (`# task: sort3`; two
different tasks there are an error); all the leading comment lines are also kept as
written (provenance that export carries along).

A body need not end in `ret`: the Program holds exactly the instructions written, and the
assembler appends an implicit `ret` when execution can run past the last one.

Every problem in the text raises InputError naming the file, line, text and reason.
"""
from __future__ import annotations

import re

from superopt.x86 import intel
from superopt.x86.assembler import problem
from superopt.x86.files import read_input
from superopt.x86.functions import entries, select
from superopt.errors import InputError
from superopt.x86.operands import SYMBOL, ParseProblem, operand, split_operands
from superopt.x86.isa import CONDITION_ALIASES, PTR, Imm, Instr, Mem, Program, Reg
from superopt.tasks.base import Task
from superopt.tasks.registry import get_task

_SUFFIX_WIDTH = {"b": 8, "w": 16, "l": 32, "q": 64}
# AT&T mnemonic (without size suffix) -> opcode of the instruction form
_PLAIN = {m: m for m in ("mov", "cmp", "test", "xchg", "add", "sub", "and", "or", "xor", "not", "neg",
                         "inc", "dec", "lea", "shl", "shr", "sar", "adc", "sbb", "push", "pop",
                         "nop", "ret", "call", "jmp", "imul", "mul", "rol", "ror", "bt", "bsf", "bsr",
                         "popcnt", "lzcnt", "tzcnt", "andn", "blsr", "blsi", "blsmsk", "bzhi",
                         "shlx", "shrx", "sarx", "rorx", "pdep", "pext")}
_PLAIN.update({"sal": "shl", "movabs": "mov"})
# mnemonics that take no suffix: -> opcode
_EXACT = {"cltq": "cltq", "cdqe": "cltq", "cltd": "cltd", "cdq": "cltd", "cqto": "cqto", "cqo": "cqto",
          "rdtsc": "rdtsc", "rdpmc": "rdpmc", "lfence": "lfence"}
_SIGN_EXTEND_WIDTH = {"cltq": 64, "cltd": 32, "cqto": 64}
_COUNTED = frozenset({"shl", "shr", "sar", "rol", "ror"})  # count last; the width is the first operand's
# AT&T extension moves: movz/movs + source suffix + destination suffix
_EXTEND = {("movz" if z else "movs") + s + d: ("movzx" if z else "movsx", _SUFFIX_WIDTH[s], _SUFFIX_WIDTH[d])
           for z in (True, False) for s in "bwl" for d in "wlq"
           if _SUFFIX_WIDTH[s] < _SUFFIX_WIDTH[d] and not (z and s == "l")}
_CONDITIONAL_PREFIXES = (("cmov", "cmov"), ("set", "set"), ("j", "j"))
_NO_WIDTH = frozenset({"nop", "ret", "rdtsc", "rdpmc", "lfence", "j", "jmp", "call"})

_IGNORED_DIRECTIVES = frozenset({
    ".globl", ".global", ".local", ".weak", ".hidden", ".protected", ".internal", ".type", ".size",
    ".p2align", ".align", ".balign", ".ident", ".file", ".loc", ".code64", ".addrsig",
    ".addrsig_sym", ".sleb128", ".uleb128", ".end",
})
_DATA_DIRECTIVES = frozenset({
    ".byte", ".short", ".word", ".hword", ".value", ".int", ".long", ".quad", ".octa", ".ascii",
    ".asciz", ".string", ".zero", ".skip", ".space", ".fill", ".float", ".double", ".single",
    ".incbin", ".dc", ".ds",
})
_LABEL_DEF = re.compile(r"(%s|\d+):" % SYMBOL)
_COMMENT = re.compile(r"\s*#\s?(.*?)\s*\Z")
_HEADER = re.compile(r"\s*([A-Za-z][\w -]*?)\s*:\s*(.*?)\s*\Z")
_DIRECTIVE = re.compile(r"(\.[\w.$]*)\s*(.*)", re.S)


def _input_error(reason: str, path, line: int, text: str) -> InputError:
    """An InputError quoting at most the first 100 characters of the offending line."""
    text = text.strip()
    return InputError(reason, path, line, text if len(text) <= 100 else text[:100] + "...")


def decode(data: bytes, path) -> str:
    """Assembly text from a file's bytes: UTF-8 (else an error naming the line), with the
    line ends text mode reads (\r\n and \r end lines too)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raw = data[data.rfind(b"\n", 0, exc.start) + 1:].split(b"\n", 1)[0].decode("utf-8", "backslashreplace")
        raise _input_error("not UTF-8 text (byte %#04x)" % data[exc.start], path, line, raw) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_file(path) -> Program:
    """Read and parse an assembly file (AT&T or Intel; files.read_input says what is refused)."""
    path = str(path)
    return parse_text(decode(read_input(path), path), path)


NO_TASK = "no task given: use --task or a '# task: NAME' header"


def load(path, task: str | None = None) -> tuple[Program, Task]:
    """Parse `path` and resolve its task: `task` wins, else the file's `# task:` header; of
    a file with several functions, the task's (superopt.x86.functions)."""
    program = parse_file(path)
    name = task or program.task
    if not name:
        raise InputError(NO_TASK, str(path))
    try:
        return select(program, task=name), get_task(name)
    except KeyError as exc:
        raise InputError(exc.args[0], str(path)) from None


def parse_text(text: str, path: str | None = None) -> Program:
    """Parse assembly text (AT&T, or Intel after `.intel_syntax`; see the module docstring)
    into a Program."""
    header, comment, statements, declared = _split(_blank_block_comments(text.removeprefix("\ufeff"), path), path)
    named = {s[2] for s in statements if s[0] == "label" and not s[2].isdigit()}
    numeric = _number_labels(statements, named)

    instrs, lines, labels, first_line = [], [], {}, {}
    name = None
    for pos, (kind, line, payload, raw) in enumerate(statements):
        if kind == "label":
            label = numeric.get(pos, payload)
            if label in labels and not payload.isdigit():
                raise _input_error("label %s is already defined on line %d" % (label, first_line[label]),
                                 path, line, raw)
            labels[label], first_line[label] = len(instrs), line
            if name is None and not payload.isdigit() and not payload.startswith(".L"):
                name = payload
            continue
        try:
            ins = _instruction(payload, lambda n, d: _resolve(numeric, statements, pos, n, d), kind)
            reason = problem(ins)
        except ParseProblem as exc:
            reason = str(exc)
        if reason:
            raise _input_error(reason, path, line, raw)
        instrs.append(ins)
        lines.append(line)
    for ins, line in zip(instrs, lines):
        if ins.op in ("j", "jmp") and ins.operands[0].name not in labels:
            raise _input_error("undefined label %s" % ins.operands[0].name, path, line, _lines(text)[line - 1])
    if not instrs:
        raise InputError("no instructions found", path)
    return Program(instrs, labels, lines, name, header.get("task"), header, comment, path,
                   entries(instrs, labels, declared))


def _lines(text: str) -> list[str]:
    """Lines as editors number them (str.splitlines also breaks at form feeds and such)."""
    return text.split("\n")


def _blank_block_comments(text: str, path) -> str:
    """`text` with every `/* ... */` comment turned into spaces (its newlines kept, so line
    numbers stay right); `/*` inside quotes or after `#` is not one."""
    if "/*" not in text:
        return text
    out, i, quoted, line_comment = [], 0, False, False
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            quoted = line_comment = False
        elif not line_comment and ch == '"':
            quoted = not quoted
        elif not quoted and ch == "#":
            line_comment = True
        elif not (quoted or line_comment) and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise _input_error("/* comment not closed", path, line, _lines(text)[line - 1])
            out.append(re.sub(r"[^\n]", " ", text[i:end + 2]))
            i = end + 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split(text: str, path):
    """The header, the leading comment lines as (header key or None, text), the code
    section's statements in order: ("label", line, name, raw) and (syntax, line, text, raw) for
    instructions, syntax "att" or one of intel.SYNTAXES,
    and the symbols declared as functions."""
    header: dict[str, str] = {}
    declared: dict[str, bool] = {}  # symbols .globl (True) or .type @function (False) names
    header_line: dict[str, int] = {}  # where each key first appears
    comment: list[tuple[str | None, str]] = []
    in_header = True
    statements = []
    section, previous, stack = ".text", ".text", []
    syntax = "att"  # of the instructions: "att" or one of intel.SYNTAXES
    for number, raw in enumerate(_lines(text), 1):
        if in_header:
            m = _COMMENT.match(raw)
            if m:
                item = _HEADER.match(m.group(1))
                key = item.group(1).lower() if item else None
                if key == "task" and header.get(key, item.group(2)) != item.group(2):
                    raise _input_error("conflicting '# task:' headers: line %d says %s, this line %s"
                                       % (header_line[key], header[key], item.group(2)), path, number, raw)
                if item:
                    header[key] = item.group(2)
                    header_line.setdefault(key, number)
                comment.append((key, m.group(1)))
                continue
        code = _strip_comment(raw)
        if not code.strip():
            continue
        in_header = False
        for stmt in _split_outside_quotes(code, ";"):
            stmt = stmt.strip()
            while True:
                m = _LABEL_DEF.match(stmt)
                if not m:
                    break
                if _is_code(section):
                    statements.append(("label", number, m.group(1), raw))
                stmt = stmt[m.end():].strip()
            if not stmt:
                continue
            if stmt.startswith("."):
                directive, args = _DIRECTIVE.match(stmt).groups()
                directive = directive.lower()
                if directive in (".text", ".data", ".bss", ".section", ".pushsection"):
                    named_section = directive in (".section", ".pushsection")
                    if directive == ".pushsection":
                        stack.append(section)
                    previous, section = section, (args.split(",")[0].strip() or "?") if named_section else directive
                elif directive == ".popsection":
                    if not stack:
                        raise _input_error(".popsection without .pushsection", path, number, raw)
                    previous, section = section, stack.pop()
                elif directive == ".previous":
                    previous, section = section, previous
                elif directive in _DATA_DIRECTIVES:
                    if _is_code(section):
                        raise _input_error("data directive %s inside code is not supported" % directive,
                                         path, number, raw)
                elif directive in (".intel_syntax", ".att_syntax"):
                    mode = args.strip().lower() or "prefix"  # GNU as: registers with %
                    if mode not in ("prefix", "noprefix") or directive == ".att_syntax" and mode == "noprefix":
                        raise _input_error("%s %s is not supported" % (directive, mode), path, number, raw)
                    syntax = "att" if directive == ".att_syntax" else "intel prefix" if mode == "prefix" else "intel"
                elif directive in (".globl", ".global"):
                    declared.update((symbol.strip(), True) for symbol in args.split(","))
                elif directive == ".type" and args.replace(" ", "").endswith(("@function", "%function")):
                    declared.setdefault(args.split(",")[0].strip(), False)
                elif directive.startswith(".cfi_") or directive in _IGNORED_DIRECTIVES:
                    pass
                elif _is_code(section):
                    raise _input_error("unknown directive %s" % directive, path, number, raw)
                continue
            if not _is_code(section):
                raise _input_error("instruction outside the code section (%s)" % section, path, number, raw)
            if stmt.lower() != "endbr64":  # a branch-target marker, no operation
                statements.append((syntax, number, stmt, raw))
    return header, comment, statements, declared


def _is_code(section: str) -> bool:
    return section.startswith(".text")


def _strip_comment(line: str) -> str:
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, start, quoted = [], 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _number_labels(statements, named: set[str]) -> dict[int, str]:
    """Unique internal names for numeric label definitions, by statement position."""
    out, seen = {}, {}
    for pos, (kind, _, payload, _) in enumerate(statements):
        if kind == "label" and payload.isdigit():
            k = seen.get(payload, 0)
            seen[payload] = k + 1
            prefix = ".L"
            while prefix + "%s_%d" % (payload, k) in named:
                prefix += "_"
            out[pos] = prefix + "%s_%d" % (payload, k)
    return out


def _resolve(numeric: dict[int, str], statements, pos: int, number: str, direction: str) -> str:
    """The internal name of the numeric label `number` nearest before (b) or after (f)."""
    order = range(pos - 1, -1, -1) if direction == "b" else range(pos + 1, len(statements))
    for p in order:
        if statements[p][0] == "label" and statements[p][2] == number:
            return numeric[p]
    raise ParseProblem("no '%s:' label %s this line" % (number, "before" if direction == "b" else "after"))


def _mnemonic(word: str):
    """(opcode, condition, suffix width, source width for extension moves)."""
    if word in _EXACT:
        return _EXACT[word], None, None, None
    if word in ("retq", "callq"):
        return word[:-1], None, None, None
    if word in _EXTEND:
        op, src, dst = _EXTEND[word]
        return op, None, dst, src
    if word in ("movzx", "movsx", "movsxd"):
        return word[:5], None, None, 32 if word == "movsxd" else None
    if word in _PLAIN:
        return _PLAIN[word], None, None, None
    if word[:-1] in _PLAIN and word[-1] in _SUFFIX_WIDTH:
        return _PLAIN[word[:-1]], None, _SUFFIX_WIDTH[word[-1]], None
    for prefix, op in _CONDITIONAL_PREFIXES:
        if word.startswith(prefix):
            rest = word[len(prefix):]
            if rest in CONDITION_ALIASES:
                return op, CONDITION_ALIASES[rest], None, None
            if op != "j" and rest[:-1] in CONDITION_ALIASES and rest[-1:] in _SUFFIX_WIDTH:
                return op, CONDITION_ALIASES[rest[:-1]], _SUFFIX_WIDTH[rest[-1]], None
    if word in ("rep", "repz", "repe", "repnz", "repne", "lock", "data16", "rex", "rex.w", "notrack", "bnd"):
        raise ParseProblem("instruction prefixes are not supported")
    raise ParseProblem("unknown instruction %r" % word)


def _instruction(stmt: str, resolve, syntax: str = "att") -> Instr:
    parts = stmt.split(None, 1)
    word = parts[0].lower()
    rest = parts[1].strip() if len(parts) > 1 else ""
    inner = rest.split(None, 1)
    if word in ("rep", "repz") and inner and (inner[0].lower() == "ret" or inner[0].lower().rstrip("wlq") == "bsf"):
        # old gcc's two-byte return; gcc's `rep bsf` for ctz (tzcnt's encoding, which CPUs
        # without BMI1 run as bsf): what the code may rely on on every CPU is bsf's
        word, rest = inner[0].lower(), inner[1].strip() if len(inner) > 1 else ""
    op, cond, suffix, src_width = _mnemonic(word)
    branch = op in ("j", "jmp", "call")
    if syntax != "att":
        if suffix is not None:
            raise ParseProblem("unknown instruction %r (Intel syntax has no size suffixes)" % word)
        operands = intel.operands(rest, branch, resolve, syntax)
    else:
        texts = split_operands(rest) if rest else []
        operands = [operand(t, branch, resolve) for t in reversed(texts)]  # Intel order
    if op in _NO_WIDTH or op in _SIGN_EXTEND_WIDTH:
        if suffix is not None and not (suffix == 64 and op in ("call", "jmp")):
            raise ParseProblem("%s takes no size suffix" % word[:-1])
        # indirect call targets are 64-bit; other memory operands here are errors that
        # problem() names by the operand count or kind, not by a missing access size
        operands = tuple(_sized(o, 64) for o in operands)
        return Instr(op, operands, cond, _SIGN_EXTEND_WIDTH.get(op))
    if op in ("movzx", "movsx"):
        return _extension(op, word, operands, suffix, src_width, syntax)
    if op in _COUNTED and len(operands) == 1:
        operands.append(Imm(1))  # `shll %eax` shifts by one
    if op == "imul" and len(operands) == 2 and isinstance(operands[1], Imm):
        operands.insert(1, operands[0])  # `imull $7, %eax` is imul eax, eax, 7
    sized = operands[:1] if op in _COUNTED else operands
    if op == "lea":
        sized = operands[:1]
    width = _width(word, suffix, sized)
    if width is None:
        if op in ("push", "pop"):
            width = 64
        elif op == "set":
            width = 8
        else:
            raise ParseProblem("operand size is ambiguous: " + _SIZE_HINT[syntax != "att"])
    return Instr(op, tuple(_sized(o, width) for o in operands), cond, width)


_SIZE_HINT = ("add a size suffix (b, w, l or q)", "add BYTE, WORD, DWORD or QWORD PTR")


def _sizer(o) -> str | None:
    """How an operand names its size (a register, an Intel PTR), None if it names none."""
    return "%" + o.name if isinstance(o, Reg) else "%s ptr" % PTR[o.width] if isinstance(o, Mem) and o.width else None


def _width(word: str, suffix: int | None, operands) -> int | None:
    """The operation size fixed by the suffix, the register operands and Intel's PTR sizes;
    they must agree."""
    width, source = suffix, ("suffix '%s'" % word[-1]) if suffix else None
    for o in operands:
        if _sizer(o):
            if width is None:
                width, source = o.width, _sizer(o)
            elif o.width != width:
                raise ParseProblem("operand size mismatch: %s is %d-bit but %s is %d-bit"
                             % (source, width, _sizer(o), o.width))
    return width


def _extension(op: str, word: str, operands, dst_width, src_width, syntax: str) -> Instr:
    if len(operands) != 2:
        raise ParseProblem("%s takes 2 operands, not %d" % (word, len(operands)))
    dst, src = operands
    if not isinstance(dst, Reg):
        raise ParseProblem("%s needs a register destination" % word)
    if dst_width is not None and dst.width != dst_width:
        raise ParseProblem("operand size mismatch: %s writes %d bits but %%%s is %d-bit" % (word, dst_width, dst.name, dst.width))
    if _sizer(src):
        if src_width is not None and src.width != src_width:
            raise ParseProblem("operand size mismatch: %s reads %d bits but %s is %d-bit"
                         % (word, src_width, _sizer(src), src.width))
        src_width = src.width
    elif src_width is None:
        raise ParseProblem("operand size is ambiguous: " + (
            "write movzbl, movzwl, movsbl, movslq ..." if syntax == "att" else "add BYTE or WORD PTR"))
    return Instr(op, (dst, _sized(src, src_width)), None, dst.width)


def _sized(o, width: int):
    return Mem(width, o.base, o.index, o.scale, o.disp) if isinstance(o, Mem) else o
