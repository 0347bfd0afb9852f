# task: sort5
# isa: alphadev
# length: 43
# agent: stochastic
# seed: 0
# workers: 2
# time: 1.65 s
# programs explored: 121931
# optimal: not proven
	.text
	.globl	sort5
sort5:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl %ecx, %r9d
	movl 12(%rdi), %esi
	cmpl %ecx, %eax
	movl 8(%rdi), %edx
	cmovg %eax, %r9d
	movl 16(%rdi), %r8d
	cmovge %ecx, %eax
	movl 16(%rdi), %ecx
	cmpl %ecx, %esi
	cmovg %esi, %ecx
	cmovge %r8d, %esi
	cmovg %ecx, %r8d
	cmpl %r8d, %edx
	cmovle %edx, %ecx
	cmovg %edx, %r8d
	cmpl %esi, %edx
	cmovge %esi, %edx
	cmovle %esi, %ecx
	movl %r9d, %esi
	cmpl %r8d, %esi
	cmovle %r8d, %esi
	cmovg %r8d, %r9d
	cmpl %ecx, %eax
	cmovg %eax, %r8d
	cmovle %ecx, %r8d
	cmovle %eax, %ecx
	movl %esi, 16(%rdi)
	cmpl %edx, %eax
	cmovg %edx, %eax
	cmovle %edx, %ecx
	cmpl %r8d, %r9d
	cmovle %r8d, %edx
	movl %eax, (%rdi)
	cmovle %r9d, %r8d
	cmovge %r9d, %edx
	movl %edx, 12(%rdi)
	cmpl %ecx, %r8d
	cmovge %ecx, %r9d
	movl %r9d, 4(%rdi)
	cmovl %ecx, %r8d
	movl %r8d, 8(%rdi)
	ret
