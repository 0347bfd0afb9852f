# task: sort6
# Found by the stochastic agent on 2026-12-08 (04:24-04:35 UTC, load average 1.7-5.3 on the shared 2-core VM):
#   superopt search sort6 --agent stochastic --init asm/sort6_fast.s --objective latency --param gamma=0.1
#   --workers 2 --time-limit 600 (seed 0; 666 s wall). gamma adds 0.1 x the dependency-chain cost model's cycles
#   to the chain's cost, so the chains keep short critical paths while they shorten; they found 44 distinct 56s,
#   timed natively by the driver (16 side by side): this one is the fastest. 56 instructions (the network: 60;
#   AlphaDev's released sort6: 57), proven over all 4,683 weak orderings (superopt verify).
#   superopt bench asm/sort6.s asm/sort6_fast.s asm/sort6_best.s --runs 1000, twice (04:37 UTC, load 1.6): 1.10x
#   [1.10, 1.11] and 1.11x [1.10, 1.11] faster than the network (p5 9.52 / 9.51 vs 10.51 / 10.52 ref-cycles);
#   the 57 asm/sort6_fast.s 1.08x [1.08, 1.08] both times.
# isa: alphadev
# length: 56
# agent: stochastic
# seed: 0
# workers: 2
# time: 666.36 s
# programs explored: 469291
# optimal: not proven
# latency: 9.93 cycles (fastest of 16 correct programs measured natively side by side, the fastest of 44 after a quick screen)
	.text
	.globl	sort6
sort6:
	movl 16(%rdi), %ecx
	movl 12(%rdi), %eax
	cmpl %ecx, %eax
	movl %eax, %edx
	cmovge %ecx, %edx
	cmovg %eax, %ecx
	movl 20(%rdi), %esi
	movl %esi, %r8d
	cmpl %r8d, %edx
	cmovg %edx, %r8d
	cmovge %esi, %edx
	movl 4(%rdi), %r10d
	cmpl %esi, %ecx
	movl (%rdi), %r9d
	cmovl %ecx, %r8d
	cmovge %ecx, %esi
	cmpl %r10d, %r9d
	movl %r9d, %r11d
	cmovge %r10d, %r11d
	cmovg %r9d, %r10d
	movl 8(%rdi), %ecx
	movl %ecx, %r9d
	cmpl %ecx, %r11d
	cmovg %r11d, %r9d
	cmovge %ecx, %r11d
	cmpl %ecx, %r10d
	cmovg %r10d, %ecx
	cmovl %r10d, %r9d
	cmpl %esi, %ecx
	movl %esi, %r10d
	cmovl %ecx, %r10d
	cmovge %ecx, %esi
	cmpl %r8d, %r9d
	movl %esi, 20(%rdi)
	movl %r9d, %ecx
	cmovg %r8d, %ecx
	cmovg %r9d, %r8d
	cmpl %r8d, %r10d
	cmovg %r8d, %esi
	cmovg %r10d, %r8d
	cmovle %r10d, %esi
	cmpl %edx, %r11d
	movl %edx, %eax
	movl %r8d, 16(%rdi)
	cmovl %r11d, %eax
	cmovl %edx, %r11d
	cmpl %r11d, %r10d
	movl %eax, (%rdi)
	cmovl %r11d, %esi
	cmovge %r11d, %r10d
	cmpl %r11d, %ecx
	cmovge %ecx, %r10d
	cmovg %r11d, %ecx
	movl %esi, 12(%rdi)
	movl %r10d, 8(%rdi)
	movl %ecx, 4(%rdi)
	ret
