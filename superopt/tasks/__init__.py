"""What a kernel must compute: a task's signature, its inputs, reference outputs and proof
strategy (sort.py: sortN and varsortN)."""
