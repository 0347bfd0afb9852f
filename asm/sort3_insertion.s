# task: sort3
# Insertion sort with branches: keep a[0..1] in order, then sink a[2] into place,
# swapping registers with xchg. Not a sorting network; 15 instructions plus ret.
	.text
	.globl	sort3_insertion
sort3_insertion:
	movl	(%rdi), %eax
	movl	4(%rdi), %ecx
	movl	8(%rdi), %edx
	cmpl	%eax, %ecx		# a[1] >= a[0]: the first two are in order
	jge	.Linsert
	xchgl	%eax, %ecx
.Linsert:
	cmpl	%ecx, %edx		# a[2] >= the larger of the two: done
	jge	.Lstore
	xchgl	%ecx, %edx
	cmpl	%eax, %ecx		# a[2] moved down one place: compare with the smallest
	jge	.Lstore
	xchgl	%eax, %ecx
.Lstore:
	movl	%eax, (%rdi)
	movl	%ecx, 4(%rdi)
	movl	%edx, 8(%rdi)
	ret
