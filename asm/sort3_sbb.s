# task: sort3
# proof: smt (arithmetic: the weak-ordering argument does not cover it)
# An arithmetic sort3 (written for the SMT proofs, issue 19): the sorting network (0,2) (0,1)
# (1,2) with each comparator as a borrow mask and an xor swap: cmp; sbb r, r (all ones when
# the pair is out of order, unsigned); the masked xor of the pair swaps it. Flipping the sign
# bit first maps signed order onto unsigned order. sbb r8d, r8d reads r8 but its result
# (-CF) does not depend on it. The weak-ordering argument does not cover it; SMT proves it.
# 33 instructions plus ret.
	.text
	.globl	sort3
sort3:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	xorl $0x80000000, %eax
	xorl $0x80000000, %ecx
	xorl $0x80000000, %edx
	cmpl %eax, %edx
	sbbl %r8d, %r8d
	movl %eax, %r9d
	xorl %edx, %r9d
	andl %r8d, %r9d
	xorl %r9d, %eax
	xorl %r9d, %edx
	cmpl %eax, %ecx
	sbbl %r8d, %r8d
	movl %eax, %r9d
	xorl %ecx, %r9d
	andl %r8d, %r9d
	xorl %r9d, %eax
	xorl %r9d, %ecx
	cmpl %ecx, %edx
	sbbl %r8d, %r8d
	movl %ecx, %r9d
	xorl %edx, %r9d
	andl %r8d, %r9d
	xorl %r9d, %ecx
	xorl %r9d, %edx
	xorl $0x80000000, %eax
	xorl $0x80000000, %ecx
	xorl $0x80000000, %edx
	movl %eax, 0(%rdi)
	movl %ecx, 4(%rdi)
	movl %edx, 8(%rdi)
	ret
