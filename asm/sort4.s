# task: sort4
# Human benchmark: the optimal 5-comparator sorting network for 4 elements,
# comparators (0,1) (2,3) (0,2) (1,3) (1,2).
# 4 loads, 4 stores, 4 instructions per comparator (cmp, mov, cmovg, cmovg), branchless;
# 28 instructions plus ret.
	.text
	.globl	sort4
sort4:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %esi
	cmpl %ecx, %eax
	movl %ecx, %r8d
	cmovg %eax, %r8d
	cmovg %ecx, %eax
	cmpl %esi, %edx
	movl %esi, %ecx
	cmovg %edx, %ecx
	cmovg %esi, %edx
	cmpl %edx, %eax
	movl %edx, %esi
	cmovg %eax, %esi
	cmovg %edx, %eax
	cmpl %ecx, %r8d
	movl %ecx, %edx
	cmovg %r8d, %edx
	cmovg %ecx, %r8d
	cmpl %esi, %r8d
	movl %esi, %ecx
	cmovg %r8d, %ecx
	cmovg %esi, %r8d
	movl %eax, 0(%rdi)
	movl %r8d, 4(%rdi)
	movl %ecx, 8(%rdi)
	movl %edx, 12(%rdi)
	ret
