"""What each instruction computes, written once over a small backend interface.

`step(backend, state, ins)` is the meaning of every straight-line opcode of x86/isa.py (the
general ISA): the numpy backend (game/values.py, the search's value evaluator) and the z3
backend (check/smt.py, the proofs) run this same code, so they agree by construction. The
pieces: x86/backend.py (the `Backend` protocol, `Unmodelled`), x86/lazyflags.py (flags
kept as the last flag-setting operation, QEMU-style), x86/machine.py (the `State`, operand
access by the table's write rule, the memory model). Everything a caller needs is exported
here.

Which flags an instruction writes and which it leaves undefined is the semantics table's
(`flags_written`, `flags_undefined`); what the defined ones hold is here. Results the ISA
leaves undefined (bsf/bsr of 0) are the backend's `undefined`. Control flow (jumps, ret) is
the caller's: `step` refuses it.
"""
from __future__ import annotations

from superopt.x86.backend import Backend, Bool, Unmodelled, Value
from superopt.x86.isa import BRANCHES, Imm, Instr, Mem, Reg
from superopt.x86.lazyflags import Lazy, condition, flag
from superopt.x86.machine import State, Work, register
from superopt.x86.semantics import TABLE

__all__ = ["Backend", "Bool", "Value", "Unmodelled", "Lazy", "State", "Work", "step",
           "condition", "flag", "register"]


def step(be: Backend, state: State, ins: Instr) -> State:
    """The state after the straight-line instruction `ins`."""
    if ins.op in BRANCHES or ins.op == "ret":
        raise ValueError("control flow is the caller's: %s" % ins.att())
    handler = _HANDLERS.get(ins.op)
    if handler is None:
        raise Unmodelled("%s is not modelled" % ins.att())
    work = Work(be, state, ins)
    handler(work, ins, ins.width)
    return work.done()


def _mov(x: Work, ins, w):
    dst, src = ins.operands
    x.write(dst, w, x.read(src, w))
    if isinstance(dst, Reg) and isinstance(src, Reg) and w == 64 and src.family in x.state.pointers:
        x.point(dst.family, x.state.pointers[src.family])


def _extend(x: Work, ins, w):
    dst, src = ins.operands
    value = x.read(src, src.width)
    x.write(dst, w, (x.be.zext if ins.op == "movzx" else x.be.sext)(src.width, value, w))


_OPERATION = {"add": "add", "sub": "sub", "and": "and_", "or": "or_", "xor": "xor", "test": "and_"}


def _binary(kind):
    def run(x: Work, ins, w):
        be = x.be
        dst, src = ins.operands
        a, b = x.read(dst, w), x.read(src, w)
        if kind in ("adc", "sbb"):
            cin = flag(be, x.state.flags, "CF")
            one = be.ite(w, cin, be.const(w, 1), be.const(w, 0))
            op = be.add if kind == "adc" else be.sub
            res = op(w, op(w, a, b), one)
            lazy = Lazy(kind, w, a, b, res, extra=cin)
        else:
            res = getattr(be, _OPERATION[ins.op])(w, a, b)
            lazy = Lazy(kind, w, a, b, res)
        if ins.op not in ("cmp", "test"):
            x.write(dst, w, res)
            moved = x.state.pointers.get(getattr(dst, "family", None))
            if moved and w == 64 and isinstance(src, Imm) and ins.op in ("add", "sub"):
                x.point(dst.family, (moved[0], moved[1] + (src.value if ins.op == "add" else -src.value)))
        x.set_flags(lazy)
    return run


def _cmp(x: Work, ins, w):   # keeps only the operands: conditions compare them directly
    x.set_flags(Lazy("sub", w, x.read(ins.operands[0], w), x.read(ins.operands[1], w)))


def _unary(x: Work, ins, w):
    be, dst = x.be, ins.operands[0]
    a = x.read(dst, w)
    if ins.op == "not":
        x.write(dst, w, be.not_(w, a))
        return
    if ins.op == "neg":
        lazy = Lazy("sub", w, be.const(w, 0), a, be.neg(w, a))
    else:
        one = be.const(w, 1)
        lazy = Lazy("add" if ins.op == "inc" else "sub", w, a, one,
                    (be.add if ins.op == "inc" else be.sub)(w, a, one))
    x.write(dst, w, lazy.res)
    x.set_flags(lazy)


def _cmov(x: Work, ins, w):
    dst, src = ins.operands
    x.write(dst, w, x.be.ite(w, x.cond(), x.read(src, w), x.read(dst, w)))


def _set(x: Work, ins, w):
    be = x.be
    x.write(ins.operands[0], 8, be.ite(8, x.cond(), be.const(8, 1), be.const(8, 0)))


def _xchg(x: Work, ins, w):
    a, b = ins.operands
    va, vb = x.read(a, w), x.read(b, w)
    x.write(a, w, vb)
    x.write(b, w, va)


def _lea(x: Work, ins, w):
    be = x.be
    dst, m = ins.operands
    addr = be.const(64, m.disp)
    if m.base:
        addr = be.add(64, x.reg(m.base), addr)
    if m.index:
        addr = be.add(64, addr, be.mul(64, x.reg(m.index), be.const(64, m.scale)))
    x.write(dst, w, addr if w == 64 else be.extract(addr, w - 1, 0))
    if w == 64 and m.base in x.state.pointers and not m.index:
        region, offset = x.state.pointers[m.base]
        x.point(dst.family, (region, offset + m.disp))


def _count(x: Work, ins, w, op) -> tuple[Value, Bool | None]:
    """A shift or rotate count, masked to 5 bits (6 at 64) as a w-bit value, and for a count
    in a register the condition "it is 0" (an immediate 0 is the table's: no flag)."""
    be, bits = x.be, 63 if w == 64 else 31
    if isinstance(op, Imm):
        return be.const(w, op.value & bits), None
    n = be.and_(8, x.read(op, 8), be.const(8, bits))
    return be.zext(8, n, w) if w > 8 else n, be.eq(8, n, be.const(8, 0))


def _shift(x: Work, ins, w):
    be = x.be
    dst, count = ins.operands
    a = x.read(dst, w)
    n, zero = _count(x, ins, w, count)
    res = {"shl": be.shl, "shr": be.lshr, "sar": be.ashr}[ins.op](w, a, n)
    x.write(dst, w, res)
    x.set_flags(Lazy(ins.op, w, a, n, res, keep=zero, prev=x.state.flags if zero is not None else None))


def _push(x: Work, ins, w):
    value = x.read(ins.operands[0], 64)
    rsp = x.pointers.get("rsp")
    x.set_reg("rsp", 64, x.be.sub(64, x.reg("rsp"), x.be.const(64, 8)))
    if rsp is None:
        raise Unmodelled("%s: %%rsp holds no address the model knows" % ins.att())
    x.point("rsp", (rsp[0], rsp[1] - 8))
    x.store(Mem(64, "rsp"), value)


def _pop(x: Work, ins, w):
    value = x.load(Mem(64, "rsp"))
    rsp = x.pointers["rsp"]
    x.set_reg("rsp", 64, x.be.add(64, x.reg("rsp"), x.be.const(64, 8)))
    x.point("rsp", (rsp[0], rsp[1] + 8))
    dst = ins.operands[0]
    if isinstance(dst, Mem):   # the address is formed after %rsp moves
        x.store(dst, value)
    else:
        x.write(dst, 64, value)


def _sign(x: Work, ins, w):
    be = x.be
    if ins.op == "cltq":
        x.set_reg("rax", 64, be.sext(32, x.reg("rax", 32), 64))
    elif ins.op == "cltd":
        x.set_reg("rdx", 32, be.ashr(32, x.reg("rax", 32), be.const(32, 31)))
    else:   # cqto
        x.set_reg("rdx", 64, be.ashr(64, x.reg("rax"), be.const(64, 63)))


def _widening(x: Work, ins, w, signed: bool):
    """mul/imul r/m: rdx:rax (ax at 8 bits) = rax * src; CF = OF = the high half matters."""
    be = x.be
    a, b = x.reg("rax", w), x.read(ins.operands[0], w)
    lo, hi = be.mul(w, a, b), (be.mulhs if signed else be.mulhu)(w, a, b)
    if w == 8:
        x.set_reg("rax", 16, be.or_(16, be.shl(16, be.zext(8, hi, 16), be.const(16, 8)), be.zext(8, lo, 16)))
    else:
        x.set_reg("rax", w, lo)
        x.set_reg("rdx", w, hi)
    fits = be.ashr(w, lo, be.const(w, w - 1)) if signed else be.const(w, 0)
    x.set_flags(Lazy("mul", w, res=lo, extra=be.not_b(be.eq(w, hi, fits))))


def _imul(x: Work, ins, w):
    if len(ins.operands) == 1:
        _widening(x, ins, w, signed=True)
        return
    be, ops = x.be, ins.operands
    a, b = (x.read(ops[0], w), x.read(ops[1], w)) if len(ops) == 2 else (x.read(ops[1], w), x.read(ops[2], w))
    lo = be.mul(w, a, b)
    x.write(ops[0], w, lo)
    fits = be.ashr(w, lo, be.const(w, w - 1))
    x.set_flags(Lazy("mul", w, res=lo, extra=be.not_b(be.eq(w, be.mulhs(w, a, b), fits))))


def _rotate(x: Work, ins, w):
    be = x.be
    dst, count = ins.operands
    a = x.read(dst, w)
    n, zero = _count(x, ins, w, count)
    k = be.and_(w, n, be.const(w, w - 1))   # the rotation itself is modulo the width
    if ins.op == "ror":
        k = be.and_(w, be.sub(w, be.const(w, w), k), be.const(w, w - 1))
    res = be.or_(w, be.shl(w, a, k), be.lshr(w, a, be.sub(w, be.const(w, w), k)))
    x.write(dst, w, res)
    x.set_flags(Lazy(ins.op, w, a, n, res, keep=zero, prev=x.state.flags if zero is not None else None))


def _bt(x: Work, ins, w):
    be = x.be
    base, offset = ins.operands
    if isinstance(base, Mem) and isinstance(offset, Reg):
        raise Unmodelled("%s: a bit string in memory is not modelled" % ins.att())
    n = be.const(w, offset.value % w) if isinstance(offset, Imm) else be.and_(w, x.read(offset, w), be.const(w, w - 1))
    bit = be.extract(be.lshr(w, x.read(base, w), n), 0, 0)
    x.set_flags(Lazy("bt", w, extra=be.eq(1, bit, be.const(1, 1))))


def _scan(x: Work, ins, w):
    """bsf/bsr: the index of the lowest/highest set bit; when the source is 0 the table's
    `undefined_if_zero` makes the whole written register undefined."""
    be = x.be
    dst, src = ins.operands
    a = x.read(src, w)
    zero = be.eq(w, a, be.const(w, 0))
    index = be.ctz(w, a) if ins.op == "bsf" else be.sub(w, be.const(w, w - 1), be.clz(w, a))
    if not TABLE[ins.op].undefined_if_zero:
        x.write(dst, w, index)
    elif w == 16:
        x.write(dst, w, be.ite(w, zero, be.undefined(w), index))
    else:   # at 32 bits the upper half is not cleared either when nothing is written
        x.write(dst, w, index)
        x.set_reg(dst.family, 64, be.ite(64, zero, be.undefined(64), x.reg(dst.family)))
    x.set_flags(Lazy("zero", w, a))


def _count_bits(x: Work, ins, w):
    be = x.be
    dst, src = ins.operands
    a = x.read(src, w)
    res = {"popcnt": be.popcount, "lzcnt": be.clz, "tzcnt": be.ctz}[ins.op](w, a)
    x.write(dst, w, res)
    x.set_flags(Lazy("popcnt" if ins.op == "popcnt" else "lzcnt", w, a, res=res))


def _bmi(x: Work, ins, w):
    """andn, blsr, blsi, blsmsk, bzhi: SF and ZF from the result, flags per kind."""
    be, ops = x.be, ins.operands
    if ins.op == "andn":
        a = x.read(ops[1], w)
        res, lazy = be.and_(w, be.not_(w, a), x.read(ops[2], w)), "logic"
    elif ins.op == "bzhi":
        a, n = x.read(ops[1], w), be.extract(x.read(ops[2], w), 7, 0)
        keep = be.not_(w, be.shl(w, be.const(w, -1), be.zext(8, n, w) if w > 8 else n))
        res = be.and_(w, a, keep)
        x.write(ops[0], w, res)
        x.set_flags(Lazy("bzhi", w, a, res=res, extra=be.ult(8, be.const(8, w - 1), n)))
        return
    else:
        a = x.read(ops[1], w)
        one = be.const(w, 1)
        res = {"blsr": lambda: be.and_(w, a, be.sub(w, a, one)), "blsi": lambda: be.and_(w, a, be.neg(w, a)),
               "blsmsk": lambda: be.xor(w, a, be.sub(w, a, one))}[ins.op]()
        lazy = ins.op
    x.write(ops[0], w, res)
    x.set_flags(Lazy(lazy, w, a, res=res))


def _bmi2(x: Work, ins, w):
    """shlx/shrx/sarx/rorx/pdep/pext: no flag touched."""
    be = x.be
    dst, a, b = ins.operands
    va = x.read(a, w)
    if ins.op in ("pdep", "pext"):
        res = (be.pdep if ins.op == "pdep" else be.pext)(w, va, x.read(b, w))
    elif ins.op == "rorx":
        k = b.value & (w - 1)
        res = be.or_(w, be.lshr(w, va, be.const(w, k)), be.shl(w, va, be.const(w, (w - k) % w)))
    else:
        n = be.and_(w, x.read(b, w), be.const(w, w - 1))
        res = {"shlx": be.shl, "shrx": be.lshr, "sarx": be.ashr}[ins.op](w, va, n)
    x.write(dst, w, res)


_HANDLERS = {
    "mov": _mov, "movzx": _extend, "movsx": _extend, "cmp": _cmp, "test": _binary("logic"),
    "add": _binary("add"), "sub": _binary("sub"), "adc": _binary("adc"), "sbb": _binary("sbb"),
    "and": _binary("logic"), "or": _binary("logic"), "xor": _binary("logic"),
    "not": _unary, "neg": _unary, "inc": _unary, "dec": _unary,
    "cmov": _cmov, "set": _set, "xchg": _xchg, "lea": _lea,
    "shl": _shift, "shr": _shift, "sar": _shift, "push": _push, "pop": _pop,
    "cltq": _sign, "cltd": _sign, "cqto": _sign, "nop": lambda x, ins, w: None,
    "imul": _imul, "mul": lambda x, ins, w: _widening(x, ins, w, signed=False),
    "rol": _rotate, "ror": _rotate, "bt": _bt, "bsf": _scan, "bsr": _scan,
    "popcnt": _count_bits, "lzcnt": _count_bits, "tzcnt": _count_bits,
    "andn": _bmi, "blsr": _bmi, "blsi": _bmi, "blsmsk": _bmi, "bzhi": _bmi,
    "shlx": _bmi2, "shrx": _bmi2, "sarx": _bmi2, "rorx": _bmi2, "pdep": _bmi2, "pext": _bmi2,
}
