# task: varint32
# signature: uint32_t varint32(const uint8_t *p)
# length: 12 (asm/varint32_found.s behind a 1-byte fast path: one branch)
# found: hand-derived, 2026-12-08; not in the search's space (it branches)
# idea: a byte without bit 7 is the whole varint (its value); anything longer takes the branchless 9
# checked: superopt verify asm/varint32_fastpath.s (SMT: both paths proven equal to the plain loop)
# needs: bmi1 bmi2
	.text
	.globl	varint32
varint32:
	movzbl	(%rdi), %eax
	testb	%al, %al
	jns	1f
	movl	(%rdi), %eax
	movzbl	4(%rdi), %ecx
	shlq	$32, %rcx
	orq	%rcx, %rax
	movl	$0x80808080, %esi
	andn	%esi, %eax, %edx
	blsmsk	%rdx, %rdx
	andn	%rdx, %rsi, %rdx
	pext	%rdx, %rax, %rax
1:
	ret
