"""How fast is a kernel? Cycle counters, the timing harness, order statistics, and the latency
the search rewards (measured natively, or the dependency-chain cost model)."""
