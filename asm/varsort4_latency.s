# Found 2026-12-08 03:01 UTC by: superopt search varsort4 --agent dispatch --objective latency --lengths uniform --workers 1 --out asm/varsort4_latency.s (at baab9cb; 3.4 s of search, 512 proven dispatch programs, each screened natively, 16 timed side by side; 115 s wall with the timing; load average 3.2-4.0). 0.949x the human asm/varsort4.s's cycles at uniform lengths (bench/bench_varsort.py, docs/results.md)
# task: varsort4
# isa: alphadev
# length: 59
# agent: dispatch
# seed: 0
# workers: 1
# time: 3.44 s
# programs explored: 512
# optimal: not proven
# lengths: uniform over n = 0..4, drawn per call
# latency: 10.06 cycles (fastest of 16 correct programs measured natively side by side, the fastest of 512 after a quick screen)
	.text
	.globl	varsort4
varsort4:
	cmpl $3, %esi
	je .L0
	jg .L1
	cmpl $1, %esi
	jle .L2
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %eax, %r9d
	cmovg %ecx, %eax
	cmovg %r9d, %ecx
	movl %eax, (%rdi)
	movl %ecx, 4(%rdi)
	ret
.L2:
	ret
.L1:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %eax, %r9d
	cmovg %ecx, %eax
	cmovg %r9d, %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %r8d
	cmpl %r8d, %edx
	movl %edx, %r9d
	cmovg %r8d, %edx
	cmovg %r9d, %r8d
	cmpl %edx, %eax
	movl %eax, %r9d
	cmovg %edx, %eax
	cmovg %r9d, %edx
	movl %eax, (%rdi)
	cmpl %r8d, %ecx
	movl %ecx, %r9d
	cmovg %r8d, %ecx
	cmovg %r9d, %r8d
	movl %r8d, 12(%rdi)
	cmpl %edx, %ecx
	movl %ecx, %r9d
	cmovg %edx, %ecx
	cmovg %r9d, %edx
	movl %ecx, 4(%rdi)
	movl %edx, 8(%rdi)
	ret
.L0:
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %ecx
	movl %ecx, %r9d
	cmovg %edx, %ecx
	cmovg %r9d, %edx
	movl (%rdi), %eax
	cmpl %ecx, %eax
	movl %eax, %r9d
	cmovg %ecx, %eax
	cmovg %r9d, %ecx
	movl %eax, (%rdi)
	cmpl %edx, %ecx
	movl %ecx, %r9d
	cmovg %edx, %ecx
	cmovg %r9d, %edx
	movl %ecx, 4(%rdi)
	movl %edx, 8(%rdi)
	ret
