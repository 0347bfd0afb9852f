"""Errors that reach the user as one clear line, never as a traceback."""
from __future__ import annotations


class SuperoptError(Exception):
    """Base of every error the CLI reports as a message (exit code 2 unless said otherwise)."""
    exit_code = 2
    path: str | None = None   # the file and line the error is about, when one is (--json reports them)
    line: int | None = None


class InputError(SuperoptError):
    """Bad user input: names the file, the line, the text and the reason."""

    def __init__(self, reason: str, path: str | None = None, line: int | None = None, text: str | None = None):
        self.reason, self.path, self.line, self.text = reason, path, line, text
        where = (path or "<input>") + (":%d" % line if line else "")
        message = "%s: %s" % (where, reason) + (": %s" % text.strip() if text and text.strip() else "")
        # control characters escaped: the message stays one line and cannot drive the terminal
        super().__init__("".join(c if c.isprintable() or c == "\t" else ascii(c)[1:-1] for c in message))


class AssemblyError(SuperoptError):
    """The assembler could not encode an instruction, or the encoding is not what was meant."""
