# task: varsort5
# Human benchmark: branch on n (in %esi), then run the optimal sorting network for that length
# (n = 0 and 1 return at once). Branchless within each network. 108 instructions plus the rets.
	.text
	.globl	varsort5
varsort5:
	cmpl $5, %esi
	je .Lsort5
	cmpl $4, %esi
	je .Lsort4
	cmpl $3, %esi
	je .Lsort3
	cmpl $2, %esi
	je .Lsort2
	ret
.Lsort5:
	movl 0(%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl 12(%rdi), %r8d
	movl 16(%rdi), %r9d
	cmpl %ecx, %eax
	movl %ecx, %r10d
	cmovg %eax, %r10d
	cmovg %ecx, %eax
	cmpl %r9d, %r8d
	movl %r9d, %ecx
	cmovg %r8d, %ecx
	cmovg %r9d, %r8d
	cmpl %ecx, %edx
	movl %ecx, %r9d
	cmovg %edx, %r9d
	cmovg %ecx, %edx
	cmpl %r8d, %edx
	movl %r8d, %ecx
	cmovg %edx, %ecx
	cmovg %r8d, %edx
	cmpl %r9d, %r10d
	movl %r9d, %r8d
	cmovg %r10d, %r8d
	cmovg %r9d, %r10d
	cmpl %ecx, %eax
	movl %ecx, %r9d
	cmovg %eax, %r9d
	cmovg %ecx, %eax
	cmpl %edx, %eax
	movl %edx, %ecx
	cmovg %eax, %ecx
	cmovg %edx, %eax
	cmpl %r9d, %r10d
	movl %r9d, %edx
	cmovg %r10d, %edx
	cmovg %r9d, %r10d
	cmpl %ecx, %r10d
	movl %ecx, %r9d
	cmovg %r10d, %r9d
	cmovg %ecx, %r10d
	movl %eax, 0(%rdi)
	movl %r10d, 4(%rdi)
	movl %r9d, 8(%rdi)
	movl %edx, 12(%rdi)
	movl %r8d, 16(%rdi)
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
