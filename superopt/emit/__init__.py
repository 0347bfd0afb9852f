"""A verified kernel as code to paste: a C/C++ header (GNU inline asm), a GNU .S file, an Intel listing."""
