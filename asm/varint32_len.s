# task: varint32_len
# signature: varint32_len_t varint32_len(const uint8_t *p)
# returns: typedef struct { uint32_t value; uint32_t length; } varint32_len_t; System V returns it in %rax, value | length << 32
# length: 14 (gcc -O2 of the plain loop: 19 with a loop; gcc -O3: 47)
# found: hand-derived (not by a search), 2026-12-08: varint32_found.s's decoder plus the length
# idea: c = the clear continuation bits of bytes 0..3; blsmsk(c) keeps the bytes up to the terminating one and
#   the mask 0xfffffff080808080 drops their continuation bits and every bit above the value's 32, so pext
#   leaves the value alone; tzcnt(c) is 8L - 1 for a varint of L <= 4 bytes and 32 for 5, so
#   L = (tzcnt(c) + 8) >> 3
# checked: superopt verify asm/varint32_len.s (proven by SMT equal to the loop on all 2^40 buffers)
# needs: bmi1 bmi2
	.text
	.globl	varint32_len
varint32_len:
	movl	(%rdi), %eax
	movzbl	4(%rdi), %ecx
	shlq	$32, %rcx
	orq	%rcx, %rax
	movabsq	$0xfffffff080808080, %rsi
	andn	%esi, %eax, %edx
	tzcntl	%edx, %ecx
	blsmsk	%rdx, %rdx
	andn	%rdx, %rsi, %rdx
	pext	%rdx, %rax, %rax
	addl	$8, %ecx
	shrl	$3, %ecx
	shlq	$32, %rcx
	orq	%rcx, %rax
	ret
