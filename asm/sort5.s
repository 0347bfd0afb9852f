# task: sort5
# Human benchmark: the optimal 9-comparator sorting network for 5 elements,
# comparators (0,1) (3,4) (2,4) (2,3) (1,4) (0,3) (0,2) (1,3) (1,2).
# 5 loads, 5 stores, 4 instructions per comparator (cmp, mov, cmovg, cmovg), branchless;
# 46 instructions plus ret.
	.text
	.globl	sort5
sort5:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %esi
	movl 16(%rdi), %r8d
	cmpl %ecx, %eax
	movl %ecx, %r9d
	cmovg %eax, %r9d
	cmovg %ecx, %eax
	cmpl %r8d, %esi
	movl %r8d, %ecx
	cmovg %esi, %ecx
	cmovg %r8d, %esi
	cmpl %ecx, %edx
	movl %ecx, %r8d
	cmovg %edx, %r8d
	cmovg %ecx, %edx
	cmpl %esi, %edx
	movl %esi, %ecx
	cmovg %edx, %ecx
	cmovg %esi, %edx
	cmpl %r8d, %r9d
	movl %r8d, %esi
	cmovg %r9d, %esi
	cmovg %r8d, %r9d
	cmpl %ecx, %eax
	movl %ecx, %r8d
	cmovg %eax, %r8d
	cmovg %ecx, %eax
	cmpl %edx, %eax
	movl %edx, %ecx
	cmovg %eax, %ecx
	cmovg %edx, %eax
	cmpl %r8d, %r9d
	movl %r8d, %edx
	cmovg %r9d, %edx
	cmovg %r8d, %r9d
	cmpl %ecx, %r9d
	movl %ecx, %r8d
	cmovg %r9d, %r8d
	cmovg %ecx, %r9d
	movl %eax, 0(%rdi)
	movl %r9d, 4(%rdi)
	movl %r8d, 8(%rdi)
	movl %edx, 12(%rdi)
	movl %esi, 16(%rdi)
	ret
