# Found 2026-12-08 01:00 UTC by: superopt search varsort4 --objective latency --lengths uniform --time-limit 300 --workers 1 --out asm/varsort4_latency.s (splice agent: the fastest under uniform lengths of 326 correct layouts, screened natively, 16 timed side by side; load average ~20)
# task: varsort4
# isa: alphadev
# length: 37
# agent: splice
# seed: 0
# workers: 1
# time: 29.33 s
# programs explored: 408
# optimal: not proven
# lengths: uniform over n = 0..4, drawn per call
# latency: 7.27 cycles (fastest of 16 correct programs measured natively side by side, the fastest of 326 after a quick screen)
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
	cmpl $3, %esi
	je .L2
	cmpl %ecx, %eax
	movl %eax, %r9d
	cmovg %ecx, %eax
	cmovg %r9d, %ecx
	movl 12(%rdi), %r8d
	cmpl %r8d, %edx
	movl %edx, %r9d
	cmovg %r8d, %edx
	cmovg %r9d, %r8d
	movl %r8d, 12(%rdi)
	cmpl %edx, %ecx
	movl %ecx, %r9d
	cmovg %edx, %ecx
	cmovg %r9d, %edx
.L2:
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
