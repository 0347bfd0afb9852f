# task: sort3
# Human benchmark: the optimal 3-comparator sorting network for 3 elements,
# comparators (0,2) (0,1) (1,2).
# 3 loads, 3 stores, 4 instructions per comparator (cmp, mov, cmovg, cmovg), branchless;
# 18 instructions plus ret.
	.text
	.globl	sort3
sort3:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %eax
	movl %edx, %esi
	cmovg %eax, %esi
	cmovg %edx, %eax
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	cmpl %esi, %edx
	movl %esi, %ecx
	cmovg %edx, %ecx
	cmovg %esi, %edx
	movl %eax, 0(%rdi)
	movl %edx, 4(%rdi)
	movl %ecx, 8(%rdi)
	ret
