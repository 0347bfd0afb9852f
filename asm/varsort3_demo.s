# task: varsort3
# asm/varsort3_found.s (splice agent, 21 instructions) with %edx and %r8d swapped, so that it keeps
# the branch game's register_order rule (a fresh register is the lowest free one) and can be a
# demonstration for `superopt train varsort3 --demos` (renamed by hand, 2026-12-08).
# length: 21
	.text
	.globl	varsort3
varsort3:
	cmpl $2, %esi
	jl .L0
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	je .L1
	cmpl %ecx, %eax
	movl %eax, %edx
	cmovg %ecx, %eax
	cmovg %edx, %ecx
	movl 8(%rdi), %r8d
	cmpl %r8d, %ecx
	movl %ecx, %edx
	cmovg %r8d, %ecx
	cmovg %edx, %r8d
	movl %r8d, 8(%rdi)
.L1:
	cmpl %ecx, %eax
	movl %eax, %edx
	cmovg %ecx, %eax
	cmovg %edx, %ecx
	movl %eax, (%rdi)
	movl %ecx, 4(%rdi)
.L0:
	ret
