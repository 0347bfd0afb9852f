# task: sort8
# Human benchmark: the optimal 19-comparator sorting network for 8 elements,
# comparators (0,2) (1,3) (4,6) (5,7) (0,4) (1,5) (2,6) (3,7) (0,1) (2,3) (4,5) (6,7) (2,4) (3,5) (1,4) (3,6) (1,2) (3,4) (5,6).
# 8 loads, 8 stores, 4 instructions per comparator (cmp, mov, cmovg, cmovg), branchless;
# 94 instructions plus ret, push/pop %rbx included (8 values + a temporary + the pointer need 10 registers).
	.text
	.globl	sort8
sort8:
	pushq	%rbx
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %esi
	movl 16(%rdi), %r8d
	movl 20(%rdi), %r9d
	movl 24(%rdi), %r10d
	movl 28(%rdi), %r11d
	cmpl %edx, %eax
	movl %edx, %ebx
	cmovg %eax, %ebx
	cmovg %edx, %eax
	cmpl %esi, %ecx
	movl %esi, %edx
	cmovg %ecx, %edx
	cmovg %esi, %ecx
	cmpl %r10d, %r8d
	movl %r10d, %esi
	cmovg %r8d, %esi
	cmovg %r10d, %r8d
	cmpl %r11d, %r9d
	movl %r11d, %r10d
	cmovg %r9d, %r10d
	cmovg %r11d, %r9d
	cmpl %r8d, %eax
	movl %r8d, %r11d
	cmovg %eax, %r11d
	cmovg %r8d, %eax
	cmpl %r9d, %ecx
	movl %r9d, %r8d
	cmovg %ecx, %r8d
	cmovg %r9d, %ecx
	cmpl %esi, %ebx
	movl %esi, %r9d
	cmovg %ebx, %r9d
	cmovg %esi, %ebx
	cmpl %r10d, %edx
	movl %r10d, %esi
	cmovg %edx, %esi
	cmovg %r10d, %edx
	cmpl %ecx, %eax
	movl %ecx, %r10d
	cmovg %eax, %r10d
	cmovg %ecx, %eax
	cmpl %edx, %ebx
	movl %edx, %ecx
	cmovg %ebx, %ecx
	cmovg %edx, %ebx
	cmpl %r8d, %r11d
	movl %r8d, %edx
	cmovg %r11d, %edx
	cmovg %r8d, %r11d
	cmpl %esi, %r9d
	movl %esi, %r8d
	cmovg %r9d, %r8d
	cmovg %esi, %r9d
	cmpl %r11d, %ebx
	movl %r11d, %esi
	cmovg %ebx, %esi
	cmovg %r11d, %ebx
	cmpl %edx, %ecx
	movl %edx, %r11d
	cmovg %ecx, %r11d
	cmovg %edx, %ecx
	cmpl %esi, %r10d
	movl %esi, %edx
	cmovg %r10d, %edx
	cmovg %esi, %r10d
	cmpl %r9d, %ecx
	movl %r9d, %esi
	cmovg %ecx, %esi
	cmovg %r9d, %ecx
	cmpl %ebx, %r10d
	movl %ebx, %r9d
	cmovg %r10d, %r9d
	cmovg %ebx, %r10d
	cmpl %edx, %ecx
	movl %edx, %ebx
	cmovg %ecx, %ebx
	cmovg %edx, %ecx
	cmpl %esi, %r11d
	movl %esi, %edx
	cmovg %r11d, %edx
	cmovg %esi, %r11d
	movl %eax, 0(%rdi)
	movl %r10d, 4(%rdi)
	movl %r9d, 8(%rdi)
	movl %ecx, 12(%rdi)
	movl %ebx, 16(%rdi)
	movl %r11d, 20(%rdi)
	movl %edx, 24(%rdi)
	movl %r8d, 28(%rdi)
	popq	%rbx
	ret
