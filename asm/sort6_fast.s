# task: sort6
# Found by the rewrite agent on 2026-12-08: superopt search sort6 --agent rewrite --param networks=known
#   --param chain=150000 --objective latency --time-limit 1300 --workers 1 (seed 0; 1,251 s wall, 148 s CPU, load
#   15-20): the fastest of the 4 tied 57s compiled from the known 12-comparator networks (the chain found no 56).
#   57 instructions, AlphaDev's released sort6 length, proven over all weak orderings; faster than the network
#   where the shorter asm/sort6_best.s (56) is slower.
# isa: alphadev
# length: 57
# agent: rewrite
# seed: 0
# workers: 1
# time: 1250.67 s
# programs explored: 702516
# optimal: not proven
# latency: 9.89 cycles (fastest of 4 correct programs measured natively side by side)
	.text
	.globl	sort6
sort6:
	movl 12(%rdi), %eax
	movl 16(%rdi), %ecx
	cmpl %ecx, %eax
	movl %eax, %edx
	cmovg %ecx, %edx
	cmovg %eax, %ecx
	movl 20(%rdi), %esi
	cmpl %esi, %edx
	movl %esi, %r8d
	cmovg %edx, %r8d
	cmovg %esi, %edx
	cmpl %esi, %ecx
	cmovl %ecx, %r8d
	cmovg %ecx, %esi
	movl (%rdi), %r9d
	movl 4(%rdi), %r10d
	cmpl %r10d, %r9d
	movl %r9d, %r11d
	cmovg %r10d, %r11d
	cmovg %r9d, %r10d
	movl 8(%rdi), %ecx
	cmpl %ecx, %r11d
	movl %ecx, %r9d
	cmovg %r11d, %r9d
	cmovg %ecx, %r11d
	cmpl %ecx, %r10d
	cmovl %r10d, %r9d
	cmovg %r10d, %ecx
	cmpl %esi, %ecx
	movl %ecx, %r10d
	cmovg %esi, %r10d
	cmovg %ecx, %esi
	movl %esi, 20(%rdi)
	cmpl %r8d, %r9d
	movl %r9d, %ecx
	cmovg %r8d, %ecx
	cmovg %r9d, %r8d
	cmpl %r8d, %r10d
	movl %r10d, %esi
	cmovg %r8d, %esi
	cmovg %r10d, %r8d
	movl %r8d, 16(%rdi)
	cmpl %edx, %r11d
	movl %r11d, %r10d
	cmovg %edx, %r10d
	cmovg %r11d, %edx
	movl %r10d, (%rdi)
	cmpl %edx, %ecx
	movl %edx, %r8d
	cmovg %ecx, %r8d
	cmovg %edx, %ecx
	movl %ecx, 4(%rdi)
	cmpl %edx, %esi
	cmovl %esi, %r8d
	cmovg %esi, %edx
	movl %r8d, 8(%rdi)
	movl %edx, 12(%rdi)
	ret
