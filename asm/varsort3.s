# task: varsort3
# Human benchmark: branch on n (in %esi), then run the optimal sorting network for that length
# (n = 0 and 1 return at once). Branchless within each network. 30 instructions plus the rets.
	.text
	.globl	varsort3
varsort3:
	cmpl $3, %esi
	je .Lsort3
	cmpl $2, %esi
	je .Lsort2
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
