"""Reading a kernel file's bytes, refusing before reading what cannot be one: anything but a
regular file (a device or a pipe could be endless), an assembly file over MAX_BYTES, an ELF
file over MAX_ELF_BYTES."""
from __future__ import annotations

import os
import stat

from superopt.errors import InputError

MAX_BYTES = 1 << 20  # an assembly file larger than this is not a kernel
MAX_ELF_BYTES = 64 << 20  # nor an ELF object or executable larger than this
ELF_MAGIC = b"\x7fELF"
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket"))


def read_input(path) -> bytes:
    """The bytes of a kernel file: a regular file of at most MAX_BYTES, MAX_ELF_BYTES for an
    ELF file (checked before reading, so a device or an endless file is refused, not read
    until killed)."""
    path = str(path)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "something other than a regular file")
            raise InputError("is %s, not an assembly file" % kind, path)
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # a file that grows, or says it is empty as /proc's do
            elf = data.startswith(ELF_MAGIC)
            if elf:
                data += f.read(MAX_ELF_BYTES - MAX_BYTES)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except OSError as exc:
        raise InputError("cannot read: %s" % (exc.strerror or exc), path) from None
    limit = MAX_ELF_BYTES if elf else MAX_BYTES
    if len(data) > limit:
        raise InputError("larger than %d bytes (%d MB): too large for %s"
                         % (limit, limit >> 20, "an ELF file" if elf else "an assembly file"), path)
    return data
