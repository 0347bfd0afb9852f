# task: varsort4
# Human benchmark: branch on n (in %esi), then run the optimal sorting network for that length
# (n = 0 and 1 return at once). Branchless within each network. 60 instructions plus the rets.
	.text
	.globl	varsort4
varsort4:
	cmpl $4, %esi
	je .Lsort4
	cmpl $3, %esi
	je .Lsort3
	cmpl $2, %esi
	je .Lsort2
	ret
.Lsort4:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %r8d
	cmpl %ecx, %eax
	movl %ecx, %r9d
	cmovg %eax, %r9d
	cmovg %ecx, %eax
	cmpl %r8d, %edx
	movl %r8d, %ecx
	cmovg %edx, %ecx
	cmovg %r8d, %edx
	cmpl %edx, %eax
	movl %edx, %r8d
	cmovg %eax, %r8d
	cmovg %edx, %eax
	cmpl %ecx, %r9d
	movl %ecx, %edx
	cmovg %r9d, %edx
	cmovg %ecx, %r9d
	cmpl %r8d, %r9d
	movl %r8d, %ecx
	cmovg %r9d, %ecx
	cmovg %r8d, %r9d
	movl %eax, 0(%rdi)
	movl %r9d, 4(%rdi)
	movl %ecx, 8(%rdi)
	movl %edx, 12(%rdi)
	ret
.Lsort3:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %eax
	movl %edx, %r8d
	cmovg %eax, %r8d
	cmovg %edx, %eax
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	cmpl %r8d, %edx
	movl %r8d, %ecx
	cmovg %edx, %ecx
	cmovg %r8d, %edx
	movl %eax, 0(%rdi)
	movl %edx, 4(%rdi)
	movl %ecx, 8(%rdi)
	ret
.Lsort2:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	movl %eax, 0(%rdi)
	movl %edx, 4(%rdi)
	ret
