# task: sort6
# Compiled by the rewrite agent on 2026-12-08: superopt search sort6 --agent rewrite --param networks=known
#   --param polish=0 (seed 0; 72 s wall, 5 s CPU, load ~15): the 12-comparator network with AlphaDev's saving,
#   57 instructions (AlphaDev's released sort6 length; the network: 60), proven over all weak orderings.
# isa: alphadev
# length: 57
# agent: rewrite
# seed: 0
# time: 71.61 s
# programs explored: 5032
# optimal: not proven
	.text
	.globl	sort6
sort6:
	movl 4(%rdi), %eax
	movl 8(%rdi), %ecx
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	movl (%rdi), %esi
	cmpl %edx, %esi
	movl %esi, %r8d
	cmovg %edx, %r8d
	cmovg %esi, %edx
	cmpl %esi, %eax
	cmovl %eax, %esi
	cmovg %eax, %r8d
	movl 16(%rdi), %r9d
	movl 20(%rdi), %r10d
	cmpl %r10d, %r9d
	movl %r10d, %r11d
	cmovg %r9d, %r11d
	cmovg %r10d, %r9d
	movl 12(%rdi), %eax
	cmpl %r11d, %eax
	movl %eax, %r10d
	cmovg %r11d, %r10d
	cmovg %eax, %r11d
	cmpl %eax, %r9d
	cmovl %r9d, %eax
	cmovg %r9d, %r10d
	cmpl %eax, %esi
	movl %eax, %r9d
	cmovg %esi, %r9d
	cmovg %eax, %esi
	movl %esi, (%rdi)
	cmpl %r11d, %edx
	movl %edx, %esi
	cmovg %r11d, %esi
	cmovg %edx, %r11d
	movl %r11d, 20(%rdi)
	cmpl %r10d, %r8d
	movl %r10d, %edx
	cmovg %r8d, %edx
	cmovg %r10d, %r8d
	cmpl %edx, %esi
	movl %esi, %eax
	cmovg %edx, %eax
	cmovg %esi, %edx
	movl %edx, 16(%rdi)
	cmpl %r9d, %r8d
	movl %r9d, %edx
	cmovg %r8d, %edx
	cmovg %r9d, %r8d
	movl %r8d, 4(%rdi)
	cmpl %edx, %eax
	cmovl %eax, %edx
	cmovge %eax, %r9d
	movl %edx, 8(%rdi)
	movl %r9d, 12(%rdi)
	ret
