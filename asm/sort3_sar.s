# task: sort3
# proof: smt (arithmetic: the weak-ordering argument does not cover it)
# An arithmetic sort3 (written for the SMT proofs, issue 19): the sorting network (0,2) (0,1)
# (1,2) on sign-extended 64-bit values, each comparator branch-free: d = y - x is exact in
# 64 bits, its sign (sar 63) masks it, and min = x + (d & m) (a lea), max = y - (d & m).
# The weak-ordering argument does not cover it; SMT proves it.
# 27 instructions plus ret.
	.text
	.globl	sort3
sort3:
	movslq 0(%rdi), %rax
	movslq 4(%rdi), %rcx
	movslq 8(%rdi), %rsi
	movq %rsi, %rdx
	subq %rax, %rdx
	movq %rdx, %r8
	sarq $63, %r8
	andq %r8, %rdx
	leaq (%rax,%rdx), %rax
	subq %rdx, %rsi
	movq %rcx, %rdx
	subq %rax, %rdx
	movq %rdx, %r8
	sarq $63, %r8
	andq %r8, %rdx
	leaq (%rax,%rdx), %rax
	subq %rdx, %rcx
	movq %rsi, %rdx
	subq %rcx, %rdx
	movq %rdx, %r8
	sarq $63, %r8
	andq %r8, %rdx
	leaq (%rcx,%rdx), %rcx
	subq %rdx, %rsi
	movl %eax, 0(%rdi)
	movl %ecx, 4(%rdi)
	movl %esi, 8(%rdi)
	ret
