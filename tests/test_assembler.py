"""The assembler: operand rules, Keystone's quirks, branch encoding, and the round trip
instruction -> AT&T text -> parser -> Keystone -> Capstone -> the same operands."""
import pytest
from hypothesis import given, settings, strategies as st

from superopt.x86.assembler import assemble, check, encode, problem
from superopt.x86.decode import disassemble
from superopt.errors import AssemblyError
from superopt.x86.isa import CONDITIONS, FAMILIES, Imm, Instr, Label, Mem, Program, Reg, format_att
from superopt.x86.parser import parse_text

INDEX_FAMILIES = [f for f in FAMILIES if f != "rsp"]
families = st.sampled_from(FAMILIES)
conditions = st.sampled_from(CONDITIONS)


def regs(*widths):
    return st.builds(Reg, families, st.sampled_from(widths))


@st.composite
def mems(draw, width):
    base = draw(st.none() | families)
    index = draw(st.none() | st.sampled_from(INDEX_FAMILIES))
    if base is None and index is None:
        base = draw(families)
    scale = draw(st.sampled_from((1, 2, 4, 8))) if index else 1
    disp = draw(st.sampled_from((0,)) | st.integers(-128, 127) | st.integers(-2 ** 31, 2 ** 31 - 1))
    return Mem(width, base, index, scale, disp)


def imms(width, full64=False):
    if width == 64 and not full64:
        return st.builds(Imm, st.integers(-2 ** 31, 2 ** 31 - 1))
    return st.builds(Imm, st.integers(-2 ** (width - 1), 2 ** width - 1) | st.sampled_from((0, 1, -1, 12)))


@st.composite
def instructions(draw):
    """Any instruction of the supported set (branches aside), in every operand form."""
    op = draw(st.sampled_from(["mov", "add", "sub", "and", "or", "xor", "cmp", "adc", "sbb", "test",
                               "xchg", "not", "neg", "inc", "dec", "shl", "shr", "sar", "lea", "cmov",
                               "set", "movzx", "movsx", "push", "pop", "cltq", "nop", "ret", "call",
                               "rdtsc", "rdpmc", "lfence"]))
    w = draw(st.sampled_from((8, 16, 32, 64)))
    if op in ("nop", "ret", "rdtsc", "rdpmc", "lfence"):
        return Instr(op)
    if op == "cltq":
        return Instr(op, (), None, 64)
    if op == "call":
        return Instr(op, (draw(regs(64) | mems(64)),))
    if op in ("push", "pop"):
        opnd = draw(regs(64) | mems(64) | (imms(64) if op == "push" else regs(64)))
        return Instr(op, (opnd,), None, 64)
    if op in ("not", "neg", "inc", "dec"):
        return Instr(op, (draw(regs(w) | mems(w)),), None, w)
    if op in ("shl", "shr", "sar"):
        count = draw(st.just(Reg("rcx", 8)) | st.builds(Imm, st.integers(0, 255)))
        return Instr(op, (draw(regs(w) | mems(w)), count), None, w)
    if op == "set":
        return Instr(op, (draw(regs(8) | mems(8)),), draw(conditions), 8)
    w = max(w, 16) if op in ("lea", "cmov", "movzx", "movsx") else w
    if op == "lea":
        return Instr(op, (draw(regs(w)), draw(mems(w))), None, w)
    if op == "cmov":
        return Instr(op, (draw(regs(w)), draw(regs(w) | mems(w))), draw(conditions), w)
    if op in ("movzx", "movsx"):
        src_w = draw(st.sampled_from([s for s in ((8, 16) if op == "movzx" else (8, 16, 32))
                                      if s < w and (s != 32 or w == 64)]))
        return Instr(op, (draw(regs(w)), draw(regs(src_w) | mems(src_w))), None, w)
    form = draw(st.sampled_from(("RR", "RM", "MR") if op == "xchg" else ("RR", "RM", "MR", "RI", "MI")))
    dst = draw(regs(w) if form[0] == "R" else mems(w))
    src = draw(regs(w) if form[1] == "R" else mems(w) if form[1] == "M" else
               imms(w, full64=(op == "mov" and form == "RI")))
    return Instr(op, (dst, src), None, w)


def address(m: Mem):
    """A memory operand as the address it computes (an assembler may write [rax*1] as [rax])."""
    terms = {}
    for reg, coef in ((m.base, 1), (m.index, m.scale)):
        if reg:
            terms[reg] = terms.get(reg, 0) + coef
    return terms, m.disp


def same_operand(want, got, bits):
    if isinstance(want, Imm):
        return isinstance(got, Imm) and (got.value - want.value) % (1 << bits) == 0
    if isinstance(want, Mem):
        return isinstance(got, Mem) and address(want) == address(got)
    return want == got


@pytest.mark.slow
@settings(max_examples=600)
@given(instructions())
def test_round_trip_att_parse_assemble_disassemble(ins):
    assert problem(ins) is None, (ins, problem(ins))
    text = format_att(ins)
    assert parse_text(text).instrs == [ins], text
    code = encode(ins)
    decoded = disassemble(code)
    assert len(decoded) == 1 and decoded[0].size == len(code)
    got = decoded[0].operands
    if ins.op == "xchg" and ins.operands == (Reg("rax", ins.width),) * 2 and ins.width in (16, 64):
        assert decoded[0].mnemonic == "nop"  # (48) 90 / 66 90: xchg of rax or ax with itself
        return
    assert len(got) == len(ins.operands), (text, decoded[0].intel)
    bits = ins.width or 64
    pairs = list(zip(ins.operands, got))
    if not all(same_operand(w, g, bits) for w, g in pairs):
        assert ins.op in ("xchg", "test"), (text, decoded[0].intel)
        assert all(same_operand(w, g, bits) for w, g in zip(reversed(ins.operands), got))
    for w, g in pairs:
        if isinstance(w, Mem) and ins.op != "lea":
            assert g.width == w.width, (text, decoded[0].intel)


def test_decimal_numbers_are_not_read_as_hex():
    # Keystone reads bare numbers as hexadecimal: 12 must encode 12, not 0x12.
    program = parse_text("movl 12(%rdi), %eax\naddl $10, %eax\nmovl %eax, -20(%rsp)\n")
    code = assemble(program).code
    assert code == bytes.fromhex("8b470c" "83c00a" "894424ec" "c3")  # + implicit ret
    decoded = disassemble(code)
    assert decoded[0].operands[1].disp == 12 and decoded[1].operands[1] == Imm(10)
    assert decoded[2].operands[0].disp == -20


@st.composite
def branchy_programs(draw):
    body = draw(st.lists(instructions().filter(lambda i: i.op != "ret"), min_size=1, max_size=60))
    n_labels = draw(st.integers(1, 4))
    labels = {"L%d" % k: draw(st.integers(0, len(body))) for k in range(n_labels)}
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(body)))
        target = Label(draw(st.sampled_from(sorted(labels))))
        jump = Instr("jmp", (target,)) if draw(st.booleans()) else Instr("j", (target,), draw(conditions))
        body.insert(at, jump)
        labels = {k: v + (v > at) for k, v in labels.items()}
    return Program(body, labels)


@pytest.mark.slow
@settings(max_examples=60)
@given(branchy_programs())
def test_branches_reach_their_labels(program):
    out = assemble(program, base=0x1000)
    decoded = disassemble(out.code, 0x1000)
    assert [d.address - 0x1000 for d in decoded[:len(program)]] == out.offsets
    assert [d.size for d in decoded[:len(program)]] == out.sizes
    for ins, d in zip(program.instrs, decoded):
        if ins.op in ("j", "jmp"):
            target = out.label_offsets[ins.operands[0].name]
            assert d.operands == (Imm(0x1000 + target),)
            assert d.mnemonic == ins.mnemonic
            assert d.size == (2 if -128 <= target - (d.address - 0x1000 + 2) <= 127 else 5 if ins.op == "jmp" else 6)
    assert out.implicit_ret == (len(decoded) == len(program) + 1)


def test_long_branches_are_relaxed_to_rel32():
    far = [Instr("mov", (Reg("rax", 64), Imm(0x123456789)), None, 64)] * 20  # 10 bytes each
    program = Program([Instr("j", (Label("end"),), "l")] + far + [Instr("jmp", (Label("top"),)), Instr("ret")],
                      {"top": 0, "end": 22})
    out = assemble(program)
    assert out.sizes[0] == 6 and out.sizes[21] == 5
    decoded = disassemble(out.code)
    assert decoded[0].mnemonic == "jl" and decoded[0].operands == (Imm(out.label_offsets["end"]),)
    assert decoded[21].operands == (Imm(0),)
    assert not out.implicit_ret


def test_implicit_ret_only_when_execution_can_fall_off_the_end():
    mov = Instr("mov", (Reg("rax", 64), Reg("rdi", 64)), None, 64)
    assert assemble([mov]).code == bytes.fromhex("4889f8c3")
    assert assemble([mov]).implicit_ret
    assert not assemble([mov, Instr("ret")]).implicit_ret
    jump_to_end = Program([Instr("j", (Label("out"),), "e"), Instr("ret")], {"out": 2})
    out = assemble(jump_to_end)
    assert out.implicit_ret and out.label_offsets["out"] == 3 and out.code.endswith(b"\xc3\xc3")


def test_harness_opcodes_encode():
    code = assemble([Instr("lfence"), Instr("rdtsc"), Instr("call", (Reg("rax", 64),)), Instr("rdpmc"),
                     Instr("ret")]).code
    assert code == bytes.fromhex("0faee8" "0f31" "ffd0" "0f33" "c3")


@pytest.mark.parametrize("ins,reason", [
    (Instr("mov", (Mem(32, "rdi"), Mem(32, "rsi")), None, 32), "two memory operands"),
    (Instr("mov", (Reg("rax", 64), Reg("rbx", 32)), None, 64), "operand size mismatch"),
    (Instr("add", (Reg("rax", 64), Imm(2 ** 31)), None, 64), "does not fit"),
    (Instr("mov", (Reg("rax", 8), Imm(256)), None, 8), "does not fit"),
    (Instr("mov", (Reg("rax", 32),), None, 32), "takes 2 operands"),
    (Instr("cmov", (Reg("rax", 32), Reg("rbx", 32)), "zz", 32), "unknown condition"),
    (Instr("cmov", (Reg("rax", 8), Reg("rbx", 8)), "l", 8), "16-, 32- or 64-bit"),
    (Instr("cmov", (Mem(32, "rdi"), Reg("rbx", 32)), "l", 32), "cannot take"),
    (Instr("mov", (Reg("rax", 32), Reg("rbx", 32)), "l", 32), "takes no condition"),
    (Instr("set", (Reg("rax", 32),), "l", 8), "8-bit operand"),
    (Instr("shl", (Reg("rax", 32), Reg("rdx", 8)), None, 32), "%cl"),
    (Instr("shl", (Reg("rax", 32), Imm(256)), None, 32), "0..255"),
    (Instr("movzx", (Reg("rax", 64), Reg("rbx", 32)), None, 64), "cannot extend"),
    (Instr("movsx", (Reg("rax", 32), Reg("rbx", 32)), None, 32), "cannot extend"),
    (Instr("push", (Reg("rax", 32),), None, 64), "64-bit operand"),
    (Instr("lea", (Reg("rax", 8), Mem(8, "rdi")), None, 8), "lea needs"),
    (Instr("j", (Reg("rax", 64),), "l"), "needs a label"),
    (Instr("call", (Reg("rax", 32),)), "call needs"),
    (Instr("ret", (Imm(8),)), "takes no operands"),
    (Instr("ret", (), None, 64), "no operand size"),
    (Instr("mov", (Reg("rax", 32), Mem(32, None, "rsp")), None, 32), "cannot be an index"),
    (Instr("mov", (Reg("rax", 32), Mem(32, "rdi", None, 4)), None, 32), "needs an index"),
    (Instr("mov", (Reg("rax", 32), Mem(32)), None, 32), "absolute"),
    (Instr("mov", (Reg("rax", 32), Mem(32, "rdi", disp=2 ** 31)), None, 32), "32 bits"),
    (Instr("mov", (Reg("rax", 32), Mem(32, "rdi", "rsi", 3)), None, 32), "scale"),
    (Instr("mov", (Reg("rax", 32), Reg("rbx", 32)), None, 12), "operand size must be"),
    (Instr("mov", (Reg("rax", 12), Reg("rbx", 12)), None, 12), "no such register"),
    (Instr("mov", (Reg("xmm0", 32), Reg("rbx", 32)), None, 32), "no such register"),
    (Instr("div", (Reg("rax", 32),), None, 32), "unknown instruction"),
    (Instr("mov", (Reg("rax", 32), "ebx"), None, 32), "not an operand"),
])
def test_problem_names_the_reason_and_check_raises(ins, reason):
    assert reason in problem(ins)
    with pytest.raises(AssemblyError, match=reason.replace("%", "")):
        check(ins)
    with pytest.raises(AssemblyError):
        assemble([ins])


def test_assembly_errors_name_the_source_line():
    program = parse_text("movl (%rdi), %eax\njle .L9\n.L9:\nret\n", "k.s")
    program.instrs[0] = Instr("mov", (Reg("rax", 32), Reg("rbx", 64)), None, 32)  # built, not parsed
    with pytest.raises(AssemblyError, match=r"k\.s:1: .*operand size mismatch"):
        assemble(program)
    program = Program([Instr("j", (Label("nowhere"),), "l")])
    with pytest.raises(AssemblyError, match="undefined label nowhere"):
        assemble(program)
    with pytest.raises(AssemblyError, match="points at instruction 5"):
        assemble(Program([Instr("ret")], {"x": 5}))


def test_encodings_are_cached_and_offsets_index_back():
    program = parse_text("movl (%rdi), %eax\ncmpl 4(%rdi), %eax\ncmovg 4(%rdi), %eax\nret\n")
    first = assemble(program)
    assert assemble(program).code == first.code
    assert first.index_at(0) == 0 and first.index_at(first.offsets[2] + 1) == 2
    assert first.index_at(len(first.code)) is None


def test_cli_show_lists_instructions_and_reports_bad_files(tmp_path):
    import json

    from click.testing import CliRunner

    from superopt.cli import main
    good = tmp_path / "k.s"
    good.write_text("# task: sort3\nsort3:\n\tmovl 12(%rdi), %eax\n1:\tcmpl %eax, %ecx\n\tjle 1b\n\tret\n")
    runner = CliRunner()
    result = runner.invoke(main, ["show", str(good)])
    assert result.exit_code == 0, result.output
    assert "cmpl %eax, %ecx" in result.output and "cmp ecx, eax" in result.output
    assert "8b 47 0c" in result.output and "3 instructions (not counting ret), 8 bytes of code" in result.output
    data = json.loads(runner.invoke(main, ["show", str(good), "--json"]).output)
    assert data["instructions"] == 3 and data["code_bytes"] == 8 and data["task"] == "sort3"
    assert data["listing"][0]["att"] == "movl 12(%rdi), %eax"
    assert data["listing"][0]["intel"] == data["listing"][0]["decoded"] == "mov eax, dword ptr [rdi + 0xc]"
    assert [r["bytes"] for r in data["listing"]] == ["8b 47 0c", "39 c1", "7e fc", "c3"]
    assert data["listing"][2]["decoded"] == "jle 3" and data["listing"][1]["line"] == 4
    bad = tmp_path / "bad.s"
    bad.write_text("sort3:\n\tmovl (%rdi), %eax\n\tfrob %eax\n")
    result = runner.invoke(main, ["show", str(bad)])
    assert result.exit_code == 2 and "bad.s:3: unknown instruction 'frob': frob %eax\n" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    for path, reason in ((tmp_path / "none.s", "no such file"), (tmp_path, "is a directory")):
        result = runner.invoke(main, ["show", str(path)])
        assert result.exit_code == 2 and result.output == "error: %s: %s\n" % (path, reason + ", not an assembly file"
                                                                               * (path == tmp_path))


class _FakeKeystone:
    def __init__(self, result=None, error=None):
        self.result, self.error = result, error

    def asm(self, text, address):
        if self.error:
            raise self.error
        return self.result


@pytest.mark.parametrize("fake,message", [
    (_FakeKeystone((None, 0)), "Keystone produced no code"),
    (_FakeKeystone(error=__import__("keystone").KsError(1)), "Keystone cannot assemble"),
    (_FakeKeystone(([0x89, 0xc8], 1)), "encoded as 89 c8, which decodes as mov eax, ecx"),  # wrong way round
    (_FakeKeystone(([0x89, 0xc1, 0x90], 1)), "encoded as 89 c1 90, which decodes as mov ecx, eax; nop"),  # trailing byte
])
def test_keystone_failures_and_wrong_encodings_are_caught(monkeypatch, fake, message):
    from superopt.x86 import assembler
    monkeypatch.setattr(assembler, "_ks", fake)
    ins = Instr("mov", (Reg("rcx", 32), Reg("rax", 32)), None, 32)
    assembler.clear_cache()
    try:
        program = parse_text("movl %eax, %ecx\n", "k.s")
        with pytest.raises(AssemblyError, match="k.s:1: movl %eax, %ecx: " + message):
            assemble(program)
        assert ins not in assembler._encodings  # a bad encoding is never cached
    finally:
        assembler.clear_cache()
