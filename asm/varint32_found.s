# task: varint32
# signature: uint32_t varint32(const uint8_t *p)
# length: 9 (gcc -O2 of the plain loop: 14 with a loop; gcc -O3: 29; AlphaDev's branchless decoder: 27)
# found: hand-derived (not by a search: see docs/results.md "VarInt"), 2026-12-08
# idea: x = bytes 0..4; c = the continuation bits of bytes 0..3 that are clear; blsmsk(c) keeps the bytes up
#   to the terminating one (all five when c = 0); pext gathers their 7-bit payloads
# checked: proven (SMT, bitwuzla, 0.3 s) equal to the plain loop on all 2^40 buffers, and verify's 10,590 inputs
#   in Unicorn (reads only p[0..5), no writes): superopt verify asm/varint32_found.s
# needs: bmi1 bmi2
	.text
	.globl	varint32
varint32:
	movl	(%rdi), %eax
	movzbl	4(%rdi), %ecx
	shlq	$32, %rcx
	orq	%rcx, %rax
	movl	$0x80808080, %esi
	andn	%esi, %eax, %edx
	blsmsk	%rdx, %rdx
	andn	%rdx, %rsi, %rdx
	pext	%rdx, %rax, %rax
	ret
