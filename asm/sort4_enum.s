# task: sort4
# Found by enum on 2026-12-02: superopt search sort4 --agent enum --workers 1 (384 s, 8,558,843 programs
#   explored). 28 instructions, optimal within the alphadev instruction set and its default pruning rules,
#   which for sort4 include the heuristic compared_select cut (not optimality-preserving).
	.text
	.globl	sort4
sort4:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %esi
	movl %eax, %r8d
	cmpl %ecx, %eax
	cmovl %ecx, %eax
	cmovl %r8d, %ecx
	cmpl %esi, %edx
	movl %edx, %r8d
	cmovl %esi, %edx
	cmovl %r8d, %esi
	cmpl %edx, %eax
	movl %eax, %r8d
	cmovl %edx, %eax
	movl %eax, 12(%rdi)
	movl %ecx, %eax
	cmovl %r8d, %edx
	cmpl %esi, %eax
	cmovg %esi, %eax
	movl %eax, (%rdi)
	movl %edx, %eax
	cmovl %esi, %ecx
	cmpl %ecx, %eax
	cmovl %ecx, %eax
	movl %eax, 8(%rdi)
	cmovl %edx, %ecx
	movl %ecx, 4(%rdi)
	ret
