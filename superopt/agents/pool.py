"""One worker pool for every agent: N workers each running a function with its own arguments,
on one of two backends: `local` (processes on this machine, the default) or `ray` (Ray actors,
on a cluster or on a Ray instance started for the run: superopt.agents.raypool).

The parent talks to its workers through these only, the same on both backends:
  - an inbox per worker: `send(worker, message)`, or `broadcast(message)` to all (on Ray the
    message is stored once); the worker reads it with `link.get()` (blocking) or
    `link.poll()` (what is waiting now) (superopt.agents.link);
  - one results channel: the worker's `link.put(message)`, the parent's `receive(timeout)`
    -> (worker, message), or None when nothing came in time;
  - one stop event shared by all: the parent's `stop()`, the worker's `link.stopped()`;
  - `close()` (also on leaving a `with` block: after an exception or Ctrl-C too): stop,
    wake every worker, join, end what is still running.
A worker that raises makes `receive` raise WorkerError, one line. A worker that dies without
a word (a local process killed, a Ray actor or its node lost) is a WorkerError too, except on
Ray when the agent passed `restart`: the pool then starts a new worker with the same
arguments, sends it the messages `restart(worker)` returns with a line saying what the
old one's loss cost, and records that line in `pool.lost`.
Workers ignore Ctrl-C: the parent's stopper (superopt.driver) handles it and stops them.
`using(backend, address)` picks the backend for every pool started inside it (the CLI's
`--backend`, `--address`).
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time
from contextlib import contextmanager
from typing import Callable, Sequence

from superopt.agents.link import Exited, Failed, Link, WorkerError, run_worker
from superopt.errors import SuperoptError

BACKENDS = ("local", "ray")
_chosen = {"backend": "local", "address": None}   # what `using` set for the pools started now

__all__ = ["BACKENDS", "Link", "LocalPool", "WorkerError", "check_backend", "local_backend", "start_pool", "using"]


def _main(target: Callable, link: Link, args: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's business
    run_worker(target, link, args)


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
        self.lost: list[str] = []   # (a lost local worker is a WorkerError: nothing is restarted)
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

    def broadcast(self, message) -> None:
        for inbox in self._inboxes:
            inbox.put(message)

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
            if isinstance(message, Failed):
                raise WorkerError("%s %d of %d failed: %s" % (self.name, worker, len(self), message.why))
            if isinstance(message, Exited):
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


def check_backend(backend: str, address: str | None = None) -> None:
    """Refuse an unknown backend, or an address for one that takes none (before any work)."""
    if backend not in BACKENDS:
        raise SuperoptError("unknown worker backend %r (known: %s)" % (backend, ", ".join(BACKENDS)))
    if address is not None and backend != "ray":
        raise SuperoptError("--address is for --backend ray (the address of a Ray cluster)")


@contextmanager
def using(backend: str, address: str | None = None):
    """Every pool started inside the block runs on `backend`. For `ray`: on the cluster at
    `address` ("auto", or HOST:PORT of a running head), or, without one, on a Ray instance
    started for the block and stopped at its end (only what it started)."""
    check_backend(backend, address)
    previous = dict(_chosen)
    try:
        if backend == "ray":
            from superopt.agents.raypool import session
            with session(address):
                _chosen.update(backend=backend, address=address)
                yield
        else:
            _chosen.update(backend=backend, address=None)
            yield
    finally:
        _chosen.update(previous)


def local_backend() -> bool:
    """Whether pools run on this machine's processes: then an agent with one worker may run it
    in the calling process instead; on Ray the work goes to the cluster even for one."""
    return _chosen["backend"] == "local"


def start_pool(target: Callable, args: Sequence[tuple], start: str = "fork", backend: str | None = None,
               name: str = "worker", restart: Callable[[int], tuple[list, str]] | None = None,
               cpus: int | None = None):
    """A pool of len(args) workers running `target(link, *args[i])` on `backend` (default: the
    one `using` chose, else local). `start` is the local start method; `restart(worker)` ->
    (messages for its replacement, what the loss cost) lets the Ray backend replace a lost
    worker instead of failing; `cpus` is what each Ray actor asks for (default: one each where
    the cluster has a CPU per worker, else none)."""
    backend = _chosen["backend"] if backend is None else backend
    check_backend(backend)
    if backend == "ray":
        from superopt.agents.raypool import RayPool
        return RayPool(target, args, name=name, restart=restart, address=_chosen["address"], cpus=cpus)
    return LocalPool(target, args, start=start, name=name)
