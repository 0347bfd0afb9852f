# task: sort3
# isa: alphadev
# length: 17
# agent: enum
# seed: 0
# workers: 2
# time: 1.21 s
# programs explored: 64527
# optimal: proven
	.text
	.globl	sort3
sort3:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmpl %ecx, %eax
	movl %eax, %esi
	cmovl %ecx, %eax
	cmovl %esi, %ecx
	cmpl %edx, %eax
	movl %eax, %esi
	cmovl %edx, %eax
	movl %eax, 8(%rdi)
	cmovg %edx, %esi
	cmpl %edx, %ecx
	cmovl %ecx, %edx
	movl %edx, (%rdi)
	cmovl %esi, %ecx
	movl %ecx, 4(%rdi)
	ret
