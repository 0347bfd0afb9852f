"""Running machine code: in Unicorn (emulator) and natively in mmap'd pages (native)."""
