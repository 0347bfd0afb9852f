# task: sort3
# isa: extended
# length: 15
# agent: enum
# seed: 0
# workers: 1
# time: 7.42 s
# programs explored: 468112
# optimal: proven
	.text
	.globl	sort3
sort3:
	movl (%rdi), %eax
	cmpl 4(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmovl %ecx, %eax
	cmovl (%rdi), %ecx
	cmpl %edx, %eax
	cmovg %eax, %edx
	cmovg 8(%rdi), %eax
	cmpl %ecx, %eax
	cmovl %ecx, %eax
	movl %eax, 4(%rdi)
	cmovl 8(%rdi), %ecx
	movl %ecx, (%rdi)
	movl %edx, 8(%rdi)
	ret
