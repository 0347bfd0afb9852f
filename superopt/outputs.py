"""Where results go: every path a command writes is checked before the work starts, files
are replaced atomically, and a result that still cannot be written lands in a fallback file.

`check_outputs` runs before any work, so that a search or a training is never run only to
fail at its last step: the directory must exist and take a new file (probed by creating
and removing one; permission bits say nothing to root, and /proc looks writable to it), the
path must not be a directory, and no output may be an input or another output. `save`
writes through a temporary file in the same directory and `os.replace`, so a crash or a
full disk never leaves a truncated file where the old one was; when even that fails (the
directory removed meanwhile, the disk full), the result goes to a fallback file in the
current directory, else the temporary directory, and `ResultMoved` (exit code 1) says
where. `Appender` does the same for a log written line by line.
"""
from __future__ import annotations

import os
import secrets
import stat
import tempfile
from typing import IO, Callable, Union

from superopt.errors import SuperoptError

Content = Union[str, bytes, Callable[[IO[bytes]], None]]   # text, bytes, or a writer of a binary file


class NotWritten(SuperoptError):
    """A result could not be written where asked (exit code 1)."""
    exit_code = 1


class ResultMoved(NotWritten):
    """The result could not be written where asked; it is in `where` instead."""

    def __init__(self, path: str, reason: str, where: str, what: str = "the result"):
        self.path, self.reason, self.where = path, reason, where
        super().__init__("cannot write %s (%s); %s is in %s instead" % (path, reason, what, where))


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _lost(path: str, reason: str, exc: OSError, what: str) -> NotWritten:
    return NotWritten("cannot write %s (%s), nor a fallback file in the current directory or %s (%s): %s is lost"
                      % (path, reason, tempfile.gettempdir(), _reason(exc), what))


def check_outputs(outputs: dict[str, str | None], inputs: tuple[str | None, ...] = ()) -> None:
    """Refuse (SuperoptError, exit code 2) before any work an output path that cannot be
    written, or that is one of `inputs` or another output. `outputs` maps each option
    (for the message) to its path; None entries are skipped."""
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        _check_output(path, option)
        for other in (i for i in inputs if i is not None and os.path.exists(i)):
            if _same_file(path, other):
                raise SuperoptError("%s (%s): is the input %s; refusing to overwrite it" % (path, option, other))
        target = os.path.realpath(path)
        if target in seen:
            raise SuperoptError("%s (%s): is also the %s file" % (path, option, seen[target]))
        seen[target] = option


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b) or (os.path.exists(a) and os.path.samefile(a, b))


def _check_output(path: str, option: str) -> None:
    def refuse(reason: str):
        raise SuperoptError("%s (%s): %s" % (path, option, reason))

    if not path:
        raise SuperoptError("%s: empty path" % option)
    if os.path.isdir(path) or path.endswith(os.sep):
        refuse("is a directory")
    if _special(path):   # a device or pipe is written in place; opening a pipe to try would block
        if not os.access(path, os.W_OK):
            refuse("not writable")
        return
    target = os.path.realpath(path)   # a symlink's target is what gets replaced
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        refuse("directory %s does not exist" % (os.path.dirname(path) or "."))
    if os.path.exists(target):
        try:
            open(target, "ab").close()   # appending nothing changes neither content nor times
        except OSError as exc:
            refuse("cannot write: %s" % _reason(exc))
    try:   # the atomic replace needs its temporary file beside the target: make one, named alike
        probe = _temporary(target)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as exc:
        refuse("cannot create a file in %s: %s" % (os.path.dirname(path) or ".", _reason(exc)))


def _special(path: str) -> bool:
    """An existing file that is not a regular one: /dev/null, /dev/stdout, a pipe."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _write(f: IO[bytes], content: Content) -> None:
    if callable(content):
        content(f)
    else:
        f.write(content.encode() if isinstance(content, str) else content)


def _temporary(target: str) -> str:
    """A new name beside `target` for the file an atomic write replaces it with (longer than
    the target's name, so if it can be made, so can the target)."""
    return os.path.join(os.path.dirname(target), ".%s.%s.tmp" % (os.path.basename(target), secrets.token_hex(4)))


def write_atomic(path: str, content: Content) -> None:
    """Replace `path` with `content` through a temporary file in its directory (raises
    OSError). Devices and pipes (/dev/stdout, /dev/null) are written in place."""
    if _special(path):
        with open(path, "wb") as f:
            _write(f, content)
        return
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    tmp = _temporary(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # umask applies, as for open()
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.chmod(tmp, stat.S_IMODE(mode))
            _write(f, content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _fallback(path: str, write: Callable[[str], None]) -> str:
    """Write through `write(candidate)` to the first new file named after `path` (sort3.s:
    sort3.rescued.s, sort3.rescued-2.s ...) in the current directory, else the temporary
    directory; returns its path. Raises the last OSError when neither takes it."""
    stem, ext = os.path.splitext(os.path.basename(path))
    error: OSError | None = None
    for directory in (os.curdir, tempfile.gettempdir()):
        for n in range(1, 100):
            candidate = os.path.join(directory, "%s.rescued%s%s" % (stem, "" if n == 1 else "-%d" % n, ext))
            try:
                open(candidate, "xb").close()   # claimed: never overwrites an earlier rescue
            except FileExistsError:
                continue
            except OSError as exc:
                error = exc
                break
            try:
                write(candidate)
                return candidate
            except OSError as exc:
                error = exc
                try:
                    os.unlink(candidate)
                except OSError:
                    pass
                break
    raise error or OSError("no free fallback name for %s" % path)


def save(path: str, content: Content, what: str = "the result") -> None:
    """Write `content` to `path` atomically; if that fails, to a fallback file, then raise
    ResultMoved naming it. If no fallback file can be written either, NotWritten names
    both failures."""
    try:
        write_atomic(path, content)
        return
    except OSError as exc:
        reason = _reason(exc)
    try:
        where = _fallback(path, lambda candidate: write_atomic(candidate, content))
    except OSError as exc:
        raise _lost(path, reason, exc, what) from None
    raise ResultMoved(path, reason, where, what)


class Appender:
    """A file written line by line (a JSON-lines log): opened for each write, so that a
    removed directory is noticed rather than written into an unlinked file; lines that
    cannot be appended go on in a fallback file, and `moved` (a ResultMoved) says so."""

    def __init__(self, path: str, what: str = "the log"):
        self.path, self.where, self.what = path, path, what
        self.moved: ResultMoved | None = None

    def write(self, text: str) -> None:
        try:
            with open(self.where, "a") as f:
                f.write(text)
            return
        except OSError as exc:
            if self.moved is not None:   # the fallback file failed too
                raise _lost(self.where, _reason(exc), exc, "%s from here on" % self.what) from None
            reason = _reason(exc)

        def append(candidate: str) -> None:
            with open(candidate, "a") as f:
                f.write(text)
        try:
            self.where = _fallback(self.path, append)
        except OSError as exc:
            raise _lost(self.path, reason, exc, "%s from here on" % self.what) from None
        self.moved = ResultMoved(self.path, reason, self.where, "%s from here on" % self.what)
