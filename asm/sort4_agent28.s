# task: sort4
# Found by the AlphaDev agent from scratch on 2026-12-02: superopt search sort4 --from-scratch --seed 1
#   --target-length 28 --time-limit 2700 --param patience=1000000 (2 workers, 800 simulations per move,
#   default pruning with compared_select; 28 at 1,789 s, 509,804 programs explored). 28 instructions, the
#   network's length; in latency mode 0.89-0.90x the network (asm/sort4.s), 1.02x enum's 28 (asm/sort4_enum.s).
	.text
	.globl	sort4
sort4:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %ecx
	movl %ecx, %esi
	cmovg %edx, %esi
	cmovle %edx, %ecx
	movl %eax, %edx
	movl 12(%rdi), %r8d
	cmpl %r8d, %eax
	cmovg %r8d, %eax
	cmovge %edx, %r8d
	cmpl %r8d, %ecx
	movl %r8d, %edx
	cmovl %ecx, %edx
	cmovg %ecx, %r8d
	cmpl %esi, %eax
	movl %esi, %ecx
	cmovg %eax, %esi
	cmovge %ecx, %eax
	movl %eax, (%rdi)
	movl %esi, %ecx
	movl %r8d, 12(%rdi)
	cmpl %edx, %ecx
	cmovg %edx, %esi
	movl %esi, 4(%rdi)
	cmovle %edx, %ecx
	movl %ecx, 8(%rdi)
	ret
