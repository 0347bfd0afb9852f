# Found 2026-12-08 01:08 UTC by: superopt search varsort4 --workers 1 --out asm/varsort4_found.s (splice agent; load average 14.1; 414 networks in 14.6 s, this 37 from the first, an insertion-shaped one: (0,1),(1,2),(0,1),(2,3),(1,2),(0,1))
# task: varsort4
# isa: alphadev
# length: 37
# agent: splice
# seed: 0
# workers: 1
# time: 14.56 s
# programs explored: 414
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
	cmpl %edx, %ecx
	movl %ecx, %r9d
	cmovg %edx, %ecx
	cmovg %r9d, %edx
	cmpl %ecx, %eax
	movl %eax, %r9d
	cmovg %ecx, %eax
	cmovg %r9d, %ecx
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
