"""superopt: a native-execution superoptimizer for x86-64 kernels (AlphaDev's assembly game on a CPU)."""
__version__ = "0.1.0"
