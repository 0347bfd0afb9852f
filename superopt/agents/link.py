"""What a worker sees of its pool, the same on every backend (superopt.agents.pool): its Link,
and the wrapper that turns the worker function's end, or its failure, into a message.

A Link is built over three things a backend provides: an inbox with `get()` and
`get_nowait()` (queue.Empty when there is nothing), a results channel with `put((worker,
message))` and a stop flag with `is_set()`. The local backend gives it multiprocessing
queues and an event; the Ray backend (superopt.agents.raypool) thread-safe ones inside the
actor.
"""
from __future__ import annotations

import queue
from typing import Callable

from superopt.errors import SuperoptError


class WorkerError(SuperoptError):
    """A worker failed: its error (or exit code), as one line (exit code 1)."""
    exit_code = 1


class Exited:
    """What the wrapper sends after the worker's function returns: it stopped on purpose."""


class Failed:
    """What the wrapper sends when the worker's function raised: why, on one line."""

    def __init__(self, why: str):
        self.why = why


class Link:
    """A worker's end of the pool."""

    def __init__(self, index: int, inbox, results, stop):
        self.index = index
        self._inbox, self._results, self._stop = inbox, results, stop

    def put(self, message) -> None:
        self._results.put((self.index, message))

    def get(self):
        """The next message to this worker, waiting for it; None once the pool closes."""
        return self._inbox.get()

    def poll(self) -> list:
        """The messages to this worker waiting now, oldest first."""
        out = []
        try:
            while True:
                out.append(self._inbox.get_nowait())
        except queue.Empty:
            return out

    def stopped(self) -> bool:
        return self._stop.is_set()


def run_worker(target: Callable, link: Link, args: tuple) -> None:
    """`target(link, *args)`, then Exited, or Failed with the error's first line."""
    try:
        target(link, *args)
    except BaseException as exc:  # noqa: BLE001 - any failure goes back to the parent as one line
        link.put(Failed("%s: %s" % (type(exc).__name__, (str(exc).splitlines() or [""])[0])))
    else:
        link.put(Exited())
