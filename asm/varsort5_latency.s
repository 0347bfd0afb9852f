# Found 2026-12-08 03:03 UTC by: superopt search varsort5 --agent dispatch --objective latency --lengths uniform --workers 1 --out asm/varsort5_latency.s (at baab9cb; 15.3 s of search, 512 proven dispatch programs, each screened natively, 16 timed side by side; 129 s wall with the timing; load average 3.3-4.0). 0.957x the human asm/varsort5.s's cycles at uniform lengths (bench/bench_varsort.py, docs/results.md)
# task: varsort5
# isa: alphadev
# length: 106
# agent: dispatch
# seed: 0
# workers: 1
# time: 15.28 s
# programs explored: 512
# optimal: not proven
# lengths: uniform over n = 0..5, drawn per call
# latency: 11.48 cycles (fastest of 16 correct programs measured natively side by side, the fastest of 512 after a quick screen)
	.text
	.globl	varsort5
varsort5:
	cmpl $2, %esi
	je .L0
	cmpl $4, %esi
	jne .L1
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl %ecx, %edx
	cmpl %ecx, %eax
	cmovge %eax, %ecx
	cmovge %edx, %eax
	movl 8(%rdi), %edx
	movl 12(%rdi), %r8d
	movl %edx, %r9d
	cmpl %edx, %r8d
	cmovg %r8d, %edx
	cmovge %r9d, %r8d
	movl %edx, %r9d
	cmpl %ecx, %edx
	cmovl %ecx, %r9d
	cmovge %ecx, %edx
	movl %r9d, 12(%rdi)
	cmpl %eax, %r8d
	movl %eax, %r9d
	cmovl %r8d, %eax
	cmovge %r8d, %r9d
	movl %eax, (%rdi)
	cmpl %edx, %r9d
	movl %edx, %r8d
	cmovl %r9d, %edx
	cmovge %r9d, %r8d
	movl %edx, 4(%rdi)
	movl %r8d, 8(%rdi)
	ret
.L1:
	jg .L2
	cmpl $1, %esi
	jg .L3
	ret
.L3:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmpl %ecx, %eax
	movl %eax, %r8d
	cmovl %ecx, %eax
	cmovl %r8d, %ecx
	cmpl %edx, %eax
	movl %eax, %r8d
	cmovl %edx, %eax
	movl %eax, 8(%rdi)
	cmovg %edx, %r8d
	cmpl %edx, %ecx
	cmovl %ecx, %edx
	movl %edx, (%rdi)
	cmovl %r8d, %ecx
	movl %ecx, 4(%rdi)
	ret
.L2:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %eax, %r10d
	cmovg %ecx, %eax
	cmovg %r10d, %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %eax
	movl %eax, %r10d
	cmovg %edx, %eax
	cmovg %r10d, %edx
	cmpl %edx, %ecx
	movl %ecx, %r10d
	cmovg %edx, %ecx
	cmovg %r10d, %edx
	movl 12(%rdi), %r8d
	movl 16(%rdi), %r9d
	cmpl %r9d, %r8d
	movl %r8d, %r10d
	cmovg %r9d, %r8d
	cmovg %r10d, %r9d
	cmpl %r8d, %eax
	movl %eax, %r10d
	cmovg %r8d, %eax
	cmovg %r10d, %r8d
	movl %eax, (%rdi)
	cmpl %r9d, %ecx
	movl %ecx, %r10d
	cmovg %r9d, %ecx
	cmovg %r10d, %r9d
	cmpl %r8d, %edx
	movl %edx, %r10d
	cmovg %r8d, %edx
	cmovg %r10d, %r8d
	cmpl %edx, %ecx
	movl %ecx, %r10d
	cmovg %edx, %ecx
	cmovg %r10d, %edx
	movl %ecx, 4(%rdi)
	movl %edx, 8(%rdi)
	cmpl %r9d, %r8d
	movl %r8d, %r10d
	cmovg %r9d, %r8d
	cmovg %r10d, %r9d
	movl %r8d, 12(%rdi)
	movl %r9d, 16(%rdi)
	ret
.L0:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %eax, %r10d
	cmovg %ecx, %eax
	cmovg %r10d, %ecx
	movl %eax, (%rdi)
	movl %ecx, 4(%rdi)
	ret
