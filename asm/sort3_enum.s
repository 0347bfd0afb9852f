# task: sort3
# isa: alphadev
# length: 17
# agent: enum
# seed: 0
# workers: 1
# time: 57.14 s
# programs explored: 3148326
# optimal: proven
	.text
	.globl	sort3
sort3:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl %eax, %esi
	cmpl %ecx, %eax
	cmovl %ecx, %eax
	cmovl %esi, %ecx
	movl %eax, %esi
	cmpl %edx, %eax
	cmovl %edx, %eax
	movl %eax, 8(%rdi)
	cmovg %edx, %esi
	cmpl %edx, %ecx
	cmovl %ecx, %edx
	movl %edx, (%rdi)
	cmovl %esi, %ecx
	movl %ecx, 4(%rdi)
	ret
