# task: sort6
# Found by the rewrite agent on 2026-12-08: superopt search sort6 --agent rewrite --param networks=known
#   --param chain=300000 --target-length 56 --workers 1 (seed 0; 990 s wall, 64 s CPU, load average 15-25 on the
#   shared 2-core VM). The 12-comparator network compiled with AlphaDev's saving gives 57 (AlphaDev's released
#   sort6 length); enum's suffix polish keeps it, the stochastic chain started from it reaches 56.
#   56 instructions (the network: 60), proven over all 4,683 weak orderings.
# isa: alphadev
# length: 56
# agent: rewrite
# seed: 0
# workers: 1
# time: 989.81 s
# programs explored: 89493
# optimal: not proven
	.text
	.globl	sort6
sort6:
	movl 4(%rdi), %eax
	movl 8(%rdi), %ecx
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	movl (%rdi), %esi
	cmpl %edx, %esi
	movl %esi, %r8d
	cmovg %edx, %r8d
	cmovg %esi, %edx
	cmpl %esi, %eax
	cmovl %eax, %esi
	cmovg %eax, %r8d
	movl 16(%rdi), %r9d
	movl 20(%rdi), %r10d
	cmpl %r10d, %r9d
	movl %r10d, %r11d
	cmovg %r9d, %r11d
	cmovg %r10d, %r9d
	movl 12(%rdi), %eax
	cmpl %r11d, %eax
	movl %eax, %r10d
	cmovg %r11d, %r10d
	cmovg %eax, %r11d
	cmpl %eax, %r9d
	cmovl %r9d, %eax
	cmovg %r9d, %r10d
	cmpl %eax, %esi
	movl %eax, %r9d
	cmovg %esi, %r9d
	cmovg %eax, %esi
	movl %esi, (%rdi)
	cmpl %r11d, %edx
	movl %edx, %esi
	cmovg %r11d, %esi
	cmovg %edx, %r11d
	movl %r11d, 20(%rdi)
	cmpl %r10d, %r8d
	movl %r10d, %edx
	cmovg %r8d, %edx
	cmovg %r10d, %r8d
	cmpl %edx, %esi
	movl %esi, %eax
	cmovg %edx, %eax
	cmovg %esi, %edx
	movl %edx, 16(%rdi)
	cmpl %r9d, %eax
	cmovl %r9d, %eax
	movl %eax, 12(%rdi)
	cmovge %r9d, %esi
	cmpl %r8d, %esi
	cmovl %r8d, %esi
	movl %esi, 8(%rdi)
	cmovl %r9d, %r8d
	movl %r8d, 4(%rdi)
	ret
