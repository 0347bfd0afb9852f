# Found 2026-12-08 01:05-01:15 UTC by: superopt search varsort5 --workers 1 --time-limit 600 --out asm/varsort5_found.s (splice agent; load average ~13-17; 17,263 networks in the 600 s budget; in a probe run of the agent the 53 came at 14.6 s, 7th network)
# task: varsort5
# isa: alphadev
# length: 53
# agent: splice
# seed: 0
# workers: 1
# time: 600.07 s
# programs explored: 17263
# optimal: not proven
	.text
	.globl	varsort5
varsort5:
	cmpl $2, %esi
	jl .L0
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	je .L1
	cmpl %ecx, %eax
	movl %eax, %r10d
	cmovg %ecx, %eax
	cmovg %r10d, %ecx
	movl 8(%rdi), %edx
	cmpl $3, %esi
	je .L2
	movl 12(%rdi), %r8d
	cmpl %r8d, %edx
	movl %edx, %r10d
	cmovg %r8d, %edx
	cmovg %r10d, %r8d
	cmpl %edx, %eax
	movl %eax, %r10d
	cmovg %edx, %eax
	cmovg %r10d, %edx
	cmpl %r8d, %ecx
	movl %ecx, %r10d
	cmovg %r8d, %ecx
	cmovg %r10d, %r8d
	cmpl %edx, %ecx
	movl %ecx, %r10d
	cmovg %edx, %ecx
	cmovg %r10d, %edx
	cmpl $4, %esi
	je .L3
	movl 16(%rdi), %r9d
	cmpl %r9d, %r8d
	movl %r8d, %r10d
	cmovg %r9d, %r8d
	cmovg %r10d, %r9d
	movl %r9d, 16(%rdi)
.L3:
	cmpl %r8d, %edx
	movl %edx, %r10d
	cmovg %r8d, %edx
	cmovg %r10d, %r8d
	movl %r8d, 12(%rdi)
.L2:
	cmpl %edx, %ecx
	movl %ecx, %r10d
	cmovg %edx, %ecx
	cmovg %r10d, %edx
	movl %edx, 8(%rdi)
.L1:
	cmpl %ecx, %eax
	movl %eax, %r10d
	cmovg %ecx, %eax
	cmovg %r10d, %ecx
	movl %eax, (%rdi)
	movl %ecx, 4(%rdi)
.L0:
	ret
