# task: sort5
# Found by stochastic + enum suffix re-synthesis on 2026-12-03: superopt search sort5 --agent stochastic
#   --init asm/sort5.s --target-length 42 (2 workers, seed 0, 6.6 s, 109,544 programs explored). 42 instructions,
#   AlphaDev's sort5 length (its released kernel is a 43); warm-started from the 46-instruction network.
	.text
	.globl	sort5
sort5:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %ecx, %r9d
	cmovg %eax, %r9d
	movl 16(%rdi), %r8d
	cmovge %ecx, %eax
	movl 12(%rdi), %esi
	movl 16(%rdi), %ecx
	cmpl %r8d, %esi
	movl 8(%rdi), %edx
	cmovge %esi, %ecx
	cmovge %r8d, %esi
	cmpl %ecx, %edx
	cmovle %ecx, %r8d
	cmovge %edx, %r8d
	cmovle %edx, %ecx
	cmpl %esi, %edx
	cmovle %esi, %ecx
	cmovg %esi, %edx
	movl %r8d, %esi
	cmpl %r8d, %r9d
	cmovge %r9d, %esi
	movl %esi, 16(%rdi)
	cmovge %r8d, %r9d
	cmpl %ecx, %eax
	movl %ecx, %r8d
	cmovl %eax, %ecx
	cmovge %eax, %r8d
	cmpl %edx, %ecx
	cmovl %edx, %ecx
	cmovge %edx, %eax
	cmpl %r9d, %edx
	movl %eax, (%rdi)
	cmovge %r9d, %ecx
	movl %ecx, 4(%rdi)
	cmovl %r9d, %edx
	cmpl %r8d, %edx
	cmovg %r8d, %edx
	movl %edx, 8(%rdi)
	cmovg %r9d, %r8d
	movl %r8d, 12(%rdi)
	ret
