# task: sort4
# Found by the AlphaDev agent from scratch on 2026-12-02: superopt search sort4 --objective latency
#   --from-scratch --param bound_slack=0 --param patience=1000000 --time-limit 1440 (2 workers, seed 0;
#   565,274 programs explored; the fastest of 9 correct programs timed natively). 28 instructions; in latency
#   mode it ties enum's 28 (asm/sort4_enum.s, 1.002x) and is 0.87x the network (asm/sort4.s).
	.text
	.globl	sort4
sort4:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl %ecx, %edx
	cmpl %ecx, %eax
	cmovge %eax, %ecx
	cmovge %edx, %eax
	movl 8(%rdi), %edx
	movl 12(%rdi), %esi
	movl %edx, %r8d
	cmpl %edx, %esi
	cmovg %esi, %edx
	cmovge %r8d, %esi
	movl %edx, %r8d
	cmpl %ecx, %edx
	cmovl %ecx, %r8d
	cmovge %ecx, %edx
	movl %r8d, 12(%rdi)
	cmpl %eax, %esi
	movl %eax, %r8d
	cmovl %esi, %eax
	cmovge %esi, %r8d
	movl %eax, (%rdi)
	cmpl %edx, %r8d
	movl %edx, %esi
	cmovl %r8d, %edx
	cmovge %r8d, %esi
	movl %edx, 4(%rdi)
	movl %esi, 8(%rdi)
	ret
