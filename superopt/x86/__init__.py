"""x86-64 as superopt sees it: the instruction form (isa), what each instruction does (semantics),
AT&T/Intel text in (parser) and machine code out (assembler, checked by Capstone)."""
