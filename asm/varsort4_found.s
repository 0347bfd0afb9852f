# Found 2026-12-08 00:56 UTC by: superopt search varsort4 --workers 1 --out asm/varsort4_found.s (splice agent; load average 21.95; every network of 5 and 6 comparators tried; with --target-length 37 it stops after 12 networks, 2.3 s)
# task: varsort4
# isa: alphadev
# length: 37
# agent: splice
# seed: 0
# workers: 1
# time: 26.77 s
# programs explored: 408
# optimal: not proven
	.text
	.globl	varsort4
varsort4:
	cmpl $2, %esi
	jl .L0
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	je .L1
	cmpl %ecx, %eax
	movl %eax, %r9d
	cmovg %ecx, %eax
	cmovg %r9d, %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %eax
	movl %eax, %r9d
	cmovg %edx, %eax
	cmovg %r9d, %edx
	cmpl %edx, %ecx
	movl %ecx, %r9d
	cmovg %edx, %ecx
	cmovg %r9d, %edx
	cmpl $3, %esi
	je .L2
	movl 12(%rdi), %r8d
	cmpl %r8d, %edx
	movl %edx, %r9d
	cmovg %r8d, %edx
	cmovg %r9d, %r8d
	movl %r8d, 12(%rdi)
.L2:
	cmpl %edx, %ecx
	movl %ecx, %r9d
	cmovg %edx, %ecx
	cmovg %r9d, %edx
	movl %edx, 8(%rdi)
.L1:
	cmpl %ecx, %eax
	movl %eax, %r9d
	cmovg %ecx, %eax
	cmovg %r9d, %ecx
	movl %eax, (%rdi)
	movl %ecx, 4(%rdi)
.L0:
	ret
