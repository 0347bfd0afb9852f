# task: sort7
# Found by the rewrite agent on 2026-12-08: superopt search sort7 --agent rewrite --param networks=known
#   --objective latency --workers 1 (seed 0; 463 s wall, 49 s CPU, load average 17-23 on the shared 2-core VM).
#   The mirrored 16-comparator network compiled with AlphaDev's saving (4 comparators in 3 instructions);
#   enum's suffix polish keeps it. 74 instructions (AlphaDev's released sort7: 76; the network: 78), proven over
#   all 47,293 weak orderings; the faster of the two 74s found, timed natively.
# isa: alphadev
# length: 74
# agent: rewrite
# seed: 0
# workers: 1
# time: 463.03 s
# programs explored: 27701
# optimal: not proven
# latency: 13.21 cycles (fastest of 2 correct programs measured natively side by side)
	.text
	.globl	sort7
sort7:
	movl 16(%rdi), %eax
	movl 20(%rdi), %ecx
	cmpl %ecx, %eax
	movl %eax, %edx
	cmovg %ecx, %edx
	cmovg %eax, %ecx
	movl 24(%rdi), %esi
	cmpl %esi, %edx
	movl %esi, %r8d
	cmovg %edx, %r8d
	cmovg %esi, %edx
	cmpl %esi, %ecx
	cmovl %ecx, %r8d
	cmovg %ecx, %esi
	movl 8(%rdi), %r9d
	movl 12(%rdi), %r10d
	cmpl %r10d, %r9d
	movl %r9d, %r11d
	cmovg %r10d, %r11d
	cmovg %r9d, %r10d
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	cmpl %ecx, %eax
	movl %ecx, %r9d
	cmovg %eax, %r9d
	cmovg %ecx, %eax
	cmpl %r11d, %eax
	movl %eax, %ecx
	cmovg %r11d, %ecx
	cmovg %eax, %r11d
	cmpl %edx, %ecx
	movl %ecx, %eax
	cmovg %edx, %eax
	cmovg %ecx, %edx
	movl %eax, (%rdi)
	cmpl %r10d, %r9d
	movl %r10d, %eax
	cmovg %r9d, %eax
	cmovg %r10d, %r9d
	cmpl %r11d, %r9d
	movl %r9d, %r10d
	cmovg %r11d, %r10d
	cmovg %r9d, %r11d
	cmpl %r8d, %r10d
	movl %r8d, %ecx
	cmovg %r10d, %ecx
	cmovg %r8d, %r10d
	cmpl %edx, %r10d
	movl %edx, %r9d
	cmovg %r10d, %r9d
	cmovg %edx, %r10d
	movl %r10d, 4(%rdi)
	cmpl %esi, %r11d
	movl %esi, %r10d
	cmovg %r11d, %r10d
	cmovg %esi, %r11d
	cmpl %esi, %eax
	cmovl %eax, %r10d
	cmovg %eax, %esi
	movl %esi, 24(%rdi)
	cmpl %r8d, %r10d
	cmovge %ecx, %eax
	cmovl %ecx, %r10d
	movl %r10d, 20(%rdi)
	cmpl %edx, %r11d
	cmovl %r11d, %r9d
	cmovg %r11d, %edx
	movl %r9d, 8(%rdi)
	cmpl %edx, %eax
	movl %edx, %r11d
	cmovg %eax, %r11d
	cmovg %edx, %eax
	movl %eax, 12(%rdi)
	movl %r11d, 16(%rdi)
	ret
