# task: sort3
# For timing fidelity only: asm/sort3.s (comparators (0,2) (0,1) (1,2)) followed by a
# redundant fourth compare-exchange (0,1). Still correct and branchless, but the critical
# path to a[0] and a[1] is one compare-exchange step longer; the harness should see it.
# 22 instructions plus ret.
	.text
	.globl	sort3_deep
sort3_deep:
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
	cmpl %edx, %eax
	movl %edx, %esi
	cmovg %eax, %esi
	cmovg %edx, %eax
	movl %eax, 0(%rdi)
	movl %esi, 4(%rdi)
	movl %ecx, 8(%rdi)
	ret
