# task: sort4
# Found by the AlphaDev agent from scratch on 2026-12-02: superopt search sort4 --from-scratch
#   --time-limit 2700 --param patience=100000 (2 workers, 800 simulations per move, seed 0;
#   2.16M programs explored in 45 min). 29 instructions: it sorts three items, then inserts the
#   fourth; one more than the 28-instruction network (asm/sort4.s). Instruction set alphadev.
	.text
	.globl	sort4
sort4:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %eax, %edx
	cmovg %ecx, %edx
	cmovl %ecx, %eax
	movl 8(%rdi), %ecx
	cmpl %ecx, %edx
	movl %edx, %esi
	cmovge %ecx, %esi
	cmovl %ecx, %edx
	cmpl %ecx, %eax
	cmovge %eax, %ecx
	movl 12(%rdi), %r8d
	cmovle %eax, %edx
	cmpl %r8d, %edx
	cmovle %r8d, %eax
	cmovg %edx, %eax
	cmovg %r8d, %edx
	cmpl %ecx, %r8d
	cmovg %ecx, %eax
	movl %eax, 8(%rdi)
	cmovg %r8d, %ecx
	movl %ecx, 12(%rdi)
	cmpl %r8d, %esi
	cmovle %esi, %r8d
	movl %r8d, (%rdi)
	cmovl %edx, %esi
	movl %esi, 4(%rdi)
	ret
