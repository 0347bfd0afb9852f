# task: sort7
# Human benchmark: the optimal 16-comparator sorting network for 7 elements,
# comparators (1,2) (3,4) (5,6) (0,2) (3,5) (4,6) (0,1) (4,5) (2,6) (0,4) (1,5) (0,3) (2,5) (1,3) (2,4) (2,3).
# 7 loads, 7 stores, 4 instructions per comparator (cmp, mov, cmovg, cmovg), branchless;
# 78 instructions plus ret.
	.text
	.globl	sort7
sort7:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %esi
	movl 16(%rdi), %r8d
	movl 20(%rdi), %r9d
	movl 24(%rdi), %r10d
	cmpl %edx, %ecx
	movl %edx, %r11d
	cmovg %ecx, %r11d
	cmovg %edx, %ecx
	cmpl %r8d, %esi
	movl %r8d, %edx
	cmovg %esi, %edx
	cmovg %r8d, %esi
	cmpl %r10d, %r9d
	movl %r10d, %r8d
	cmovg %r9d, %r8d
	cmovg %r10d, %r9d
	cmpl %r11d, %eax
	movl %r11d, %r10d
	cmovg %eax, %r10d
	cmovg %r11d, %eax
	cmpl %r9d, %esi
	movl %r9d, %r11d
	cmovg %esi, %r11d
	cmovg %r9d, %esi
	cmpl %r8d, %edx
	movl %r8d, %r9d
	cmovg %edx, %r9d
	cmovg %r8d, %edx
	cmpl %ecx, %eax
	movl %ecx, %r8d
	cmovg %eax, %r8d
	cmovg %ecx, %eax
	cmpl %r11d, %edx
	movl %r11d, %ecx
	cmovg %edx, %ecx
	cmovg %r11d, %edx
	cmpl %r9d, %r10d
	movl %r9d, %r11d
	cmovg %r10d, %r11d
	cmovg %r9d, %r10d
	cmpl %edx, %eax
	movl %edx, %r9d
	cmovg %eax, %r9d
	cmovg %edx, %eax
	cmpl %ecx, %r8d
	movl %ecx, %edx
	cmovg %r8d, %edx
	cmovg %ecx, %r8d
	cmpl %esi, %eax
	movl %esi, %ecx
	cmovg %eax, %ecx
	cmovg %esi, %eax
	cmpl %edx, %r10d
	movl %edx, %esi
	cmovg %r10d, %esi
	cmovg %edx, %r10d
	cmpl %ecx, %r8d
	movl %ecx, %edx
	cmovg %r8d, %edx
	cmovg %ecx, %r8d
	cmpl %r9d, %r10d
	movl %r9d, %ecx
	cmovg %r10d, %ecx
	cmovg %r9d, %r10d
	cmpl %edx, %r10d
	movl %edx, %r9d
	cmovg %r10d, %r9d
	cmovg %edx, %r10d
	movl %eax, 0(%rdi)
	movl %r8d, 4(%rdi)
	movl %r10d, 8(%rdi)
	movl %r9d, 12(%rdi)
	movl %ecx, 16(%rdi)
	movl %esi, 20(%rdi)
	movl %r11d, 24(%rdi)
	ret
