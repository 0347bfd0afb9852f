# Found 2026-12-08 01:08 UTC by: superopt search varsort3 --workers 1 --out asm/varsort3_found.s (splice agent, 0.17 s, 7 networks; load average 14.1)
# task: varsort3
# isa: alphadev
# length: 21
# agent: splice
# seed: 0
# workers: 1
# time: 0.17 s
# programs explored: 6
# optimal: not proven
	.text
	.globl	varsort3
varsort3:
	cmpl $2, %esi
	jl .L0
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	je .L1
	cmpl %ecx, %eax
	movl %eax, %r8d
	cmovg %ecx, %eax
	cmovg %r8d, %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %ecx
	movl %ecx, %r8d
	cmovg %edx, %ecx
	cmovg %r8d, %edx
	movl %edx, 8(%rdi)
.L1:
	cmpl %ecx, %eax
	movl %eax, %r8d
	cmovg %ecx, %eax
	cmovg %r8d, %ecx
	movl %eax, (%rdi)
	movl %ecx, 4(%rdi)
.L0:
	ret
