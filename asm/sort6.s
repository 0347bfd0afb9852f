# task: sort6
# Human benchmark: the optimal 12-comparator sorting network for 6 elements,
# comparators (1,2) (4,5) (0,2) (3,5) (0,1) (3,4) (2,5) (0,3) (1,4) (2,4) (1,3) (2,3).
# 6 loads, 6 stores, 4 instructions per comparator (cmp, mov, cmovg, cmovg), branchless;
# 60 instructions plus ret.
	.text
	.globl	sort6
sort6:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %esi
	movl 16(%rdi), %r8d
	movl 20(%rdi), %r9d
	cmpl %edx, %ecx
	movl %edx, %r10d
	cmovg %ecx, %r10d
	cmovg %edx, %ecx
	cmpl %r9d, %r8d
	movl %r9d, %edx
	cmovg %r8d, %edx
	cmovg %r9d, %r8d
	cmpl %r10d, %eax
	movl %r10d, %r9d
	cmovg %eax, %r9d
	cmovg %r10d, %eax
	cmpl %edx, %esi
	movl %edx, %r10d
	cmovg %esi, %r10d
	cmovg %edx, %esi
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	cmpl %r8d, %esi
	movl %r8d, %ecx
	cmovg %esi, %ecx
	cmovg %r8d, %esi
	cmpl %r10d, %r9d
	movl %r10d, %r8d
	cmovg %r9d, %r8d
	cmovg %r10d, %r9d
	cmpl %esi, %eax
	movl %esi, %r10d
	cmovg %eax, %r10d
	cmovg %esi, %eax
	cmpl %ecx, %edx
	movl %ecx, %esi
	cmovg %edx, %esi
	cmovg %ecx, %edx
	cmpl %esi, %r9d
	movl %esi, %ecx
	cmovg %r9d, %ecx
	cmovg %esi, %r9d
	cmpl %r10d, %edx
	movl %r10d, %esi
	cmovg %edx, %esi
	cmovg %r10d, %edx
	cmpl %esi, %r9d
	movl %esi, %r10d
	cmovg %r9d, %r10d
	cmovg %esi, %r9d
	movl %eax, 0(%rdi)
	movl %edx, 4(%rdi)
	movl %r9d, 8(%rdi)
	movl %r10d, 12(%rdi)
	movl %ecx, 16(%rdi)
	movl %r8d, 20(%rdi)
	ret
