# task: sort3
# Found by enum on 2026-12-02: superopt search sort3 --agent enum --all --objective latency (2 workers,
#   109.6 s, 1,189,920 optimal programs collected; the cost model kept the 512 shortest dependency chains,
#   the native screen 16 of those, timed side by side). 17 instructions, proven optimal in the alphadev set;
#   0.93x and 0.95x asm/sort3_enum.s in latency mode (superopt bench --runs 1000, both orders).
	.text
	.globl	sort3
sort3:
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	movl %eax, %esi
	cmpl %ecx, %eax
	cmovl %ecx, %eax
	cmovl %esi, %ecx
	movl %edx, %esi
	cmpl %edx, %eax
	cmovg %eax, %edx
	cmovg %esi, %eax
	cmpl %esi, %ecx
	cmovg %ecx, %eax
	cmovl %ecx, %esi
	movl %esi, (%rdi)
	movl %edx, 8(%rdi)
	movl %eax, 4(%rdi)
	ret
