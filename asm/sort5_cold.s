# task: sort5
# isa: alphadev
# length: 42
# agent: stochastic
# seed: 0
# workers: 2
# time: 273.36 s
# programs explored: 916518
# optimal: not proven
# From scratch (no --init): the beam cold start (bound 46) and its enum polish gave the 42; 2026-12-03,
#   superopt search sort5 --agent stochastic --target-length 42 --param steps=1000000000 (other jobs shared the CPU).
	.text
	.globl	sort5
sort5:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl %eax, %edx
	cmpl %ecx, %eax
	cmovg %ecx, %eax
	cmovl %ecx, %edx
	movl 8(%rdi), %ecx
	movl 12(%rdi), %esi
	movl %ecx, %r8d
	cmpl %esi, %ecx
	cmovl %esi, %ecx
	cmovl %r8d, %esi
	movl 16(%rdi), %r8d
	movl %eax, %r9d
	cmpl %r8d, %eax
	cmovl %r8d, %eax
	cmovg %r8d, %r9d
	cmpl %edx, %eax
	cmovle %edx, %r8d
	cmovl %eax, %edx
	movl %esi, %eax
	cmpl %r9d, %eax
	cmovl %r9d, %eax
	cmovl %esi, %r9d
	movl %ecx, %esi
	cmpl %edx, %ecx
	cmovl %edx, %ecx
	cmovl %esi, %edx
	movl %r9d, (%rdi)
	cmpl %r8d, %ecx
	cmovg %r8d, %ecx
	cmovle %r8d, %esi
	movl %esi, 16(%rdi)
	cmpl %ecx, %eax
	cmovg %eax, %ecx
	movl %ecx, 12(%rdi)
	cmovle %eax, %r8d
	cmpl %r8d, %edx
	cmovg %edx, %r8d
	movl %r8d, 8(%rdi)
	cmovg %eax, %edx
	movl %edx, 4(%rdi)
	ret
