# task: sort6
# Found by the stochastic agent on 2026-12-08 (04:37-04:45 UTC, load average 0.1-2.7 on the shared 2-core VM):
#   superopt search sort6 --agent stochastic --init asm/sort6_fast.s --objective latency --param gamma=0.1
#   --workers 2 --time-limit 480 --seed 1 (484 s wall). gamma adds 0.1 x the dependency-chain cost model's cycles
#   to the chain's cost, so the chains keep short critical paths while they shorten; they found 54 distinct 56s,
#   timed natively by the driver (16 side by side): this one is the fastest. 56 instructions (the network: 60;
#   AlphaDev's released sort6: 57), proven over all 4,683 weak orderings (superopt verify).
#   superopt bench asm/sort6.s asm/sort6_fast.s <seed 0's 56> <this> --runs 1000, twice (04:49 UTC, load 0.1):
#   1.12x [1.11, 1.12] and 1.11x [1.11, 1.12] faster than the network (p5 9.93 / 9.78 vs 11.08 / 10.90
#   ref-cycles); seed 0's 56 1.11x [1.10, 1.11] both times; the 57 asm/sort6_fast.s 1.08x.
# isa: alphadev
# length: 56
# agent: stochastic
# seed: 1
# workers: 2
# time: 483.58 s
# programs explored: 648522
# optimal: not proven
# latency: 10.05 cycles (fastest of 16 correct programs measured natively side by side, the fastest of 54 after a quick screen)
	.text
	.globl	sort6
sort6:
	movl 8(%rdi), %ecx
	movl 20(%rdi), %esi
	movl 12(%rdi), %eax
	movl %eax, %edx
	cmpl %ecx, %edx
	cmovg %ecx, %edx
	movl 4(%rdi), %r11d
	movl 20(%rdi), %r8d
	cmovge %eax, %ecx
	cmpl %r8d, %edx
	cmovge %edx, %r8d
	cmovge %esi, %edx
	cmpl %esi, %ecx
	movl 4(%rdi), %r10d
	cmovg %ecx, %esi
	movl (%rdi), %eax
	cmovl %ecx, %r8d
	cmpl %r10d, %eax
	movl 16(%rdi), %r9d
	cmovl %eax, %r11d
	cmovge %eax, %r10d
	movl 16(%rdi), %ecx
	cmpl %ecx, %r11d
	cmovge %r11d, %r9d
	cmovg %ecx, %r11d
	cmpl %ecx, %r10d
	cmovl %r10d, %r9d
	cmovle %ecx, %r10d
	cmovg %r10d, %ecx
	cmpl %esi, %r10d
	cmovge %esi, %r10d
	cmovge %ecx, %esi
	movl %r9d, %ecx
	cmpl %r8d, %ecx
	cmovge %r8d, %ecx
	movl %esi, 20(%rdi)
	cmovge %r9d, %r8d
	movl %edx, %eax
	movl %r8d, %esi
	cmpl %r8d, %r10d
	cmovge %r10d, %r8d
	cmovle %r10d, %esi
	cmpl %eax, %r11d
	movl %r8d, 16(%rdi)
	cmovle %r11d, %eax
	cmovl %edx, %r11d
	cmpl %r11d, %r10d
	cmovl %r11d, %esi
	movl %esi, 12(%rdi)
	cmovge %r11d, %r10d
	movl %eax, (%rdi)
	cmpl %r11d, %ecx
	cmovge %ecx, %r10d
	cmovg %r11d, %ecx
	movl %ecx, 4(%rdi)
	movl %r10d, 8(%rdi)
	ret
