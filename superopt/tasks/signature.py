"""Signatures of function tasks, from the text a user writes or from the compiler.

`parse(text)` reads a prototype (`--signature "uint32_t f(uint32_t, int8_t)"` or a
`# signature:` header) with pycparser, behind a preamble of typedefs for the accepted type
names, so no preprocessor is needed. A C file's functions come from the DWARF of its compiled
object (`from_dwarf`): the compiler is the parser of record. pycparser on the preprocessed
file was measured and refused: it parses gcc 12's <stdint.h> and <stdbool.h>, but not
<stddef.h> (`__attribute__` at stddef.h:425, which size_t needs) nor <stdlib.h>.

Accepted: int8_t..uint64_t, char, signed/unsigned char, short, int, unsigned, long, long long
(and their unsigned forms), size_t, ssize_t, ptrdiff_t, intptr_t, uintptr_t, bool/_Bool; up
to six arguments and an integer return. Anything else is refused in one line (`Refused`, an
InputError) naming the reason: floating point, pointers, structs and unions, enums, arrays,
varargs, a void return, more than six arguments.
"""
from __future__ import annotations

from pycparser import c_ast, c_parser

from superopt.errors import InputError
from superopt.tasks.function import MAX_PARAMS, CType, Param, Signature

# typedef name -> (width, signed): the fixed-width and library names a prototype may use
NAMED = {"int8_t": (8, True), "uint8_t": (8, False), "int16_t": (16, True), "uint16_t": (16, False),
         "int32_t": (32, True), "uint32_t": (32, False), "int64_t": (64, True), "uint64_t": (64, False),
         "size_t": (64, False), "ssize_t": (64, True), "ptrdiff_t": (64, True), "intptr_t": (64, True),
         "uintptr_t": (64, False), "bool": (8, False), "_Bool": (8, False)}
_BUILTIN_WIDTH = {"char": 8, "short": 16, "int": 32, "long": 64}
_PREAMBLE = "".join("typedef %s %s;\n" % ("_Bool" if w == 8 and not s and n == "bool" else
                                          "%s %s" % ("signed" if s else "unsigned",
                                                     {8: "char", 16: "short", 32: "int", 64: "long"}[w]), n)
                    for n, (w, s) in NAMED.items() if n != "_Bool")
_FLOATS = {"float", "double", "_Complex", "__float128", "_Float128"}


class Refused(InputError):
    """A function superopt cannot take as a task (the reason names why)."""


def named_type(name: str) -> CType:
    width, signed = NAMED[name]
    return CType(name, width, signed)


def builtin_type(words: list[str], where: tuple) -> CType:
    """A C type from its keywords (`unsigned long int`, `char`, `_Bool`) or a NAMED typedef."""
    if len(words) == 1 and words[0] in NAMED:
        return named_type(words[0])
    text = " ".join(words)
    if set(words) & _FLOATS:
        raise Refused("%s is floating point: function tasks take integer types only" % text, *where)
    if "void" in words:
        raise Refused("void: a function task takes and returns integers", *where)
    unknown = [w for w in words if w not in _BUILTIN_WIDTH and w not in ("signed", "unsigned")]
    if unknown:
        raise Refused("unsupported type %s (integer types only: int8_t..uint64_t, int, long, size_t, bool, "
                      "char types)" % text, *where)
    kind = [w for w in words if w in _BUILTIN_WIDTH]
    width = 64 if kind.count("long") >= 1 else _BUILTIN_WIDTH[kind[0]] if kind else 32
    signed = "unsigned" not in words       # plain char is signed on x86-64
    return CType(text, width, signed)


def parse(text: str, path: str | None = None, line: int | None = None) -> Signature:
    """A prototype `ret name(type [name], ...)` as a Signature (see the module docstring)."""
    where = (path or "--signature", line)
    source = text.strip().rstrip(";") + ";"
    try:
        ast = c_parser.CParser().parse(_PREAMBLE + source, filename="<signature>")
    except c_parser.ParseError as exc:
        at = str(exc).split(": ", 1)[-1]
        raise InputError("cannot parse the signature %r (%s); write it as a C prototype, e.g. "
                         "\"uint32_t f(uint32_t x, int8_t y)\"" % (text.strip(), at), *where) from None
    decls = ast.ext[len(NAMED) - 1:]
    if len(decls) != 1 or not isinstance(decls[0], c_ast.Decl) or not isinstance(decls[0].type, c_ast.FuncDecl):
        raise InputError("the signature %r is not one function prototype" % text.strip(), *where)
    func = decls[0].type
    ret = _ast_type(func.type, "the return type", where)
    params = []
    for k, p in enumerate(func.args.params if func.args else []):
        if isinstance(p, c_ast.EllipsisParam):
            raise Refused("varargs (...): a function task has fixed integer arguments", *where)
        if isinstance(p.type, c_ast.TypeDecl) and isinstance(p.type.type, c_ast.IdentifierType) \
                and p.type.type.names == ["void"] and len(func.args.params) == 1 and not p.name:
            break                                 # f(void)
        params.append((p.name, _ast_type(p.type, "argument %d" % (k + 1), where)))
    return make(decls[0].name, ret, params, where)


def make(name: str, ret: CType | None, params: list[tuple[str | None, CType]], where: tuple) -> Signature:
    """A Signature, refusing a void return or more than six arguments; unnamed arguments are
    called a, b, c, ... (a name already taken gets a suffix)."""
    if ret is None:
        raise Refused("%s returns void: a function task returns an integer" % name, *where)
    if len(params) > MAX_PARAMS:
        raise Refused("%s takes %d arguments: at most %d (the register arguments of System V)"
                      % (name, len(params), MAX_PARAMS), *where)
    taken = {n for n, _ in params if n}
    out = []
    for k, (pname, ctype) in enumerate(params):
        if not pname:
            pname = "abcdef"[k]
            while pname in taken:
                pname += "_"
            taken.add(pname)
        out.append(Param(pname, ctype))
    return Signature(name, ret, tuple(out))


def _ast_type(node, what: str, where: tuple) -> CType | None:
    if isinstance(node, c_ast.PtrDecl):
        raise Refused("%s is a pointer: function tasks take integers only (no memory)" % what, *where)
    if isinstance(node, c_ast.ArrayDecl):
        raise Refused("%s is an array: function tasks take integers only" % what, *where)
    if isinstance(node, c_ast.FuncDecl):
        raise Refused("%s is a function" % what, *where)
    inner = node.type
    if isinstance(inner, (c_ast.Struct, c_ast.Union)):
        raise Refused("%s is a %s: function tasks take integers only" % (what, type(inner).__name__.lower()), *where)
    if isinstance(inner, c_ast.Enum):
        raise Refused("%s is an enum: use an integer type" % what, *where)
    if inner.names == ["void"]:
        if what == "the return type":
            return None
        raise Refused("%s is void" % what, *where)
    return builtin_type(inner.names, where)


# DWARF base-type encodings (DWARF 5, 7.8)
_ATE_BOOLEAN, _ATE_FLOAT, _ATE_SIGNED, _ATE_SIGNED_CHAR, _ATE_UNSIGNED, _ATE_UNSIGNED_CHAR = 2, 4, 5, 6, 7, 8
_QUALIFIERS = ("DW_TAG_const_type", "DW_TAG_volatile_type", "DW_TAG_restrict_type", "DW_TAG_atomic_type")


def from_dwarf(dwarf, path: str) -> dict[str, tuple[int | None, Signature | Refused]]:
    """The C file's out-of-line functions from its object's DWARF (pyelftools DWARFInfo):
    name -> (declaration line, its Signature or why it is refused)."""
    found = {}
    for cu in dwarf.iter_CUs():
        for die in cu.iter_DIEs():
            if die.tag != "DW_TAG_subprogram" or "DW_AT_low_pc" not in die.attributes:
                continue
            origin = _origin(die)
            name = _attr(origin, "DW_AT_name")
            if name is None:
                continue
            line = _attr(origin, "DW_AT_decl_line")
            where = (path, line)
            try:
                found[name] = (line, _dwarf_signature(origin, name, where))
            except Refused as exc:
                found[name] = (line, exc)
    return found


def _origin(die):
    """The DIE that holds a function's name and types (an out-of-line copy of an inline
    function points to it)."""
    while "DW_AT_abstract_origin" in die.attributes or "DW_AT_specification" in die.attributes:
        key = "DW_AT_abstract_origin" if "DW_AT_abstract_origin" in die.attributes else "DW_AT_specification"
        die = die.get_DIE_from_attribute(key)
    return die


def _attr(die, name):
    value = die.attributes.get(name)
    if value is None:
        return None
    return value.value.decode("utf-8", "replace") if isinstance(value.value, bytes) else value.value


def _dwarf_signature(die, name: str, where: tuple) -> Signature:
    params = []
    for child in die.iter_children():
        if child.tag == "DW_TAG_unspecified_parameters":
            raise Refused("%s takes varargs (...): a function task has fixed integer arguments" % name, *where)
        if child.tag == "DW_TAG_formal_parameter":
            k = len(params) + 1
            params.append((_attr(child, "DW_AT_name"), _dwarf_type(child, "%s's argument %d" % (name, k), where)))
    ret = _dwarf_type(die, "%s's return type" % name, where) if "DW_AT_type" in die.attributes else None
    return make(name, ret, params, where)


def _dwarf_type(die, what: str, where: tuple) -> CType:
    """The type DW_AT_type of `die` names, as written (the outermost typedef's name) with its
    base type's width and signedness."""
    written = None
    t = die.get_DIE_from_attribute("DW_AT_type")
    while True:
        if t.tag in _QUALIFIERS and "DW_AT_type" in t.attributes:
            t = t.get_DIE_from_attribute("DW_AT_type")
        elif t.tag == "DW_TAG_typedef":
            written = written or _attr(t, "DW_AT_name")
            t = t.get_DIE_from_attribute("DW_AT_type")
        else:
            break
    kinds = {"DW_TAG_pointer_type": "a pointer", "DW_TAG_reference_type": "a reference",
             "DW_TAG_structure_type": "a struct", "DW_TAG_union_type": "a union", "DW_TAG_class_type": "a class",
             "DW_TAG_array_type": "an array", "DW_TAG_enumeration_type": "an enum",
             "DW_TAG_subroutine_type": "a function"}
    if t.tag in kinds:
        raise Refused("%s is %s: function tasks take integers only" % (what, kinds[t.tag]), *where)
    encoding, size = _attr(t, "DW_AT_encoding"), _attr(t, "DW_AT_byte_size")
    base = _attr(t, "DW_AT_name")
    if encoding == _ATE_FLOAT or encoding == 3:
        raise Refused("%s is floating point (%s): function tasks take integer types only" % (what, base), *where)
    if encoding not in (_ATE_BOOLEAN, _ATE_SIGNED, _ATE_SIGNED_CHAR, _ATE_UNSIGNED, _ATE_UNSIGNED_CHAR) or not size:
        raise Refused("%s has an unsupported type (%s)" % (what, base), *where)
    if size > 8:
        raise Refused("%s is %s, wider than 64 bits" % (what, base), *where)
    return CType(written or base, 8 * size, encoding in (_ATE_SIGNED, _ATE_SIGNED_CHAR))
