"""One worker pool for every agent: N workers each running a function with its own arguments.

The parent talks to its workers through four things only, so that another backend (Ray
actors, issue 21) can provide the same interface:
  - an inbox per worker: `send(worker, message)`; the worker reads it with `link.get()`
    (blocking) or `link.poll()` (what is waiting now);
  - one results channel: the worker's `link.put(message)`, the parent's `receive(timeout)`
    -> (worker, message), or None when nothing came in time;
  - one stop event shared by all: the parent's `stop()`, the worker's `link.stopped()`;
  - `close()` (also on leaving a `with` block: after an exception or Ctrl-C too): stop,
    wake every worker, join, terminate what is still running.
A worker that raises, or dies without a word, makes `receive` raise WorkerError, one line.
Workers ignore Ctrl-C: the parent's stopper (superopt.driver) handles it and stops them.
Only the `local` backend (processes on this machine) exists so far.
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time
from typing import Callable, Sequence

from superopt.errors import SuperoptError

BACKENDS = ("local",)


class WorkerError(SuperoptError):
    """A worker process failed: its error (or exit code), as one line (exit code 1)."""
    exit_code = 1


class _Exited:
    """What a worker's wrapper sends after its function returns: it stopped on purpose."""


class _Failed:
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


def _main(target: Callable, link: Link, args: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's business
    try:
        target(link, *args)
    except BaseException as exc:  # noqa: BLE001 - any failure goes back to the parent as one line
        link.put(_Failed("%s: %s" % (type(exc).__name__, (str(exc).splitlines() or [""])[0])))
    else:
        link.put(_Exited())


class LocalPool:
    """Worker processes on this machine: `target(link, *args[i])` in worker i. `start` is the
    multiprocessing start method: "fork" shares the parent's state (a game, its caches) at no
    cost; "spawn" gives a fresh interpreter (torch is not safe to fork once it has threads)."""

    def __init__(self, target: Callable, args: Sequence[tuple], start: str = "fork", name: str = "worker"):
        ctx = mp.get_context(start)
        self.name = name
        self._results, self._stop = ctx.Queue(), ctx.Event()
        self._inboxes = [ctx.Queue() for _ in args]
        self._procs = [ctx.Process(target=_main, daemon=True,
                                   args=(target, Link(i, self._inboxes[i], self._results, self._stop), tuple(a)))
                       for i, a in enumerate(args)]
        self._exited: set[int] = set()
        for proc in self._procs:
            proc.start()

    def __len__(self) -> int:
        return len(self._procs)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def send(self, worker: int, message) -> None:
        self._inboxes[worker].put(message)

    def stop(self) -> None:
        self._stop.set()

    def finished(self) -> bool:
        """Every worker's function has returned."""
        return len(self._exited) == len(self._procs)

    def receive(self, timeout: float):
        """(worker, message) from the results channel, or None after `timeout` seconds."""
        while True:
            try:
                worker, message = self._results.get(timeout=timeout)
            except queue.Empty:
                self._check_alive()
                return None
            if isinstance(message, _Failed):
                raise WorkerError("%s %d of %d failed: %s" % (self.name, worker, len(self), message.why))
            if isinstance(message, _Exited):
                self._exited.add(worker)
                continue
            return worker, message

    def _check_alive(self) -> None:
        # a dead worker's messages are all in the channel before it exits: with the
        # channel empty, a worker dead without its exit notice died without a word
        for i, proc in enumerate(self._procs):
            if i not in self._exited and not proc.is_alive():
                raise WorkerError("%s %d of %d died (exit code %s)" % (self.name, i, len(self), proc.exitcode))

    def close(self) -> None:
        self._stop.set()
        for inbox in self._inboxes:
            inbox.put(None)
        deadline = time.monotonic() + 5
        for proc in self._procs:
            # read what the workers still send: a worker exits only once its messages are out
            while proc.is_alive() and time.monotonic() < deadline:
                try:
                    self._results.get(timeout=0.05)
                except queue.Empty:
                    pass
            if proc.is_alive():
                proc.terminate()
            proc.join(timeout=5)
        for q in self._inboxes + [self._results]:
            q.cancel_join_thread()   # what the workers left unread is not worth waiting for at exit
            q.close()


def start_pool(target: Callable, args: Sequence[tuple], start: str = "fork", backend: str = "local",
               name: str = "worker") -> LocalPool:
    """A pool of len(args) workers running `target(link, *args[i])` on `backend`."""
    if backend not in BACKENDS:
        raise SuperoptError("unknown worker backend %r (known: %s)" % (backend, ", ".join(BACKENDS)))
    return LocalPool(target, args, start=start, name=name)
