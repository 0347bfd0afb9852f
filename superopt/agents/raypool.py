"""The `ray` backend of the worker pool (superopt.agents.pool): each worker is a Ray actor that
runs the agent's worker function in a thread of its own, with the same Link as a local process.

A Ray actor call costs about a millisecond here (bench/bench_pool.py), so nothing goes one
call per message where it can be batched: the worker's puts collect inside its actor, and
the parent keeps one `take` call outstanding per actor that returns everything collected
since the last one (after waiting up to a second for something). A broadcast stores its
message once in Ray's object store and hands every actor a reference. The parent's sends
are numbered, since a threaded actor may run two calls out of order, and the actor puts
them into the worker's inbox in the order sent.

Actors are spread over the nodes. Each asks for what the pool's `cpus` says, by default a
CPU when the cluster has one for every worker, and none when there are more workers than CPUs (they then share the cores, as
local processes would: fractional requests can leave an actor that fits on no node). A lost
actor (ray.kill, its process or node gone) shows up as an error on its outstanding calls;
with the agent's `restart` the pool starts a replacement with the same arguments (up to
RESTARTS times per worker), otherwise the loss is a WorkerError. A replacement asks for no
CPU, so that it finds a place even when the lost node's CPUs are gone with it.
"""
from __future__ import annotations

import os
import queue
import socket
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from typing import Callable, Sequence

import ray

from superopt.agents.link import Exited, Failed, Link, WorkerError, run_worker
from superopt.errors import SuperoptError

RESTARTS = 3          # replacements per worker before its loss ends the pool
TAKE_WAIT = 1.0       # seconds an actor holds a take call open while it has nothing to send


@contextmanager
def session(address: str | None = None):
    """Connected to Ray for the block: to the cluster at `address` ("auto" or HOST:PORT), or,
    without one, to a Ray instance started here and shut down at the end. A connection made
    before (a test's cluster, an outer block) is used and left alone."""
    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address not in (None, "auto"):
        _reachable(address)
    try:
        if address is None:   # "local": never join a cluster that happens to run on this machine
            ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False,
                     logging_level="error", object_store_memory=256 << 20)
        else:
            ray.init(address=address, logging_level="error")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise SuperoptError("cannot start or reach Ray%s: %s" % (" at %s" % address if address else "",
                                                                 (str(exc).splitlines() or [""])[0])) from None
    try:
        yield
    finally:
        ray.shutdown()   # a local instance: stops the processes it started; a cluster: disconnects


def _reachable(address: str) -> None:
    """Refuse an address nothing listens at, in seconds: Ray itself retries for minutes."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise SuperoptError("cannot reach the Ray cluster at %s: %s" % (address, exc.strerror or exc)) from None


class _Outbox:
    """The worker's results, collected until the parent's next take."""

    def __init__(self):
        self._items: list = []
        self._ready = threading.Condition()

    def put(self, item) -> None:
        with self._ready:
            self._items.append(item)
            self._ready.notify()

    def take(self, timeout: float) -> list:
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            items, self._items = self._items, []
        return items


@ray.remote(max_concurrency=4)   # run (for good), take, and the parent's deliver and stop calls
class SuperoptWorker:
    """One worker of a pool, as the cluster lists it."""

    def __init__(self, index: int):
        self._inbox: queue.Queue = queue.Queue()
        self._outbox = _Outbox()
        self._stop = threading.Event()
        self._link = Link(index, self._inbox, self._outbox, self._stop)
        self._order = threading.Lock()
        self._next, self._early = 0, {}

    def run(self, target: Callable, args: tuple) -> None:
        run_worker(target, self._link, tuple(args))

    def deliver(self, seq: int, message) -> None:
        with self._order:
            self._early[seq] = message
            while self._next in self._early:
                self._inbox.put(self._early.pop(self._next))
                self._next += 1

    def stop(self) -> None:
        self._stop.set()

    def take(self, timeout: float) -> list:
        return self._outbox.take(timeout)

    def where(self) -> tuple[str, int]:
        """(the node id, the process id) this worker runs in."""
        return ray.get_runtime_context().get_node_id(), os.getpid()


class RayPool:
    """The pool's interface (superopt.agents.pool) over Ray actors."""

    def __init__(self, target: Callable, args: Sequence[tuple], name: str = "worker",
                 restart: Callable[[int], tuple[list, str]] | None = None, address: str | None = None,
                 cpus: int | None = None):
        self._stack = ExitStack()
        self._stack.enter_context(session(address))
        self.name, self._target, self._args, self._restart = name, target, [tuple(a) for a in args], restart
        n = len(self._args)
        self.lost: list[str] = []
        self._restarts = [0] * n
        self._actors: list = [None] * n
        self._runs: list = [None] * n
        self._seq = [0] * n
        self._takes: dict = {}            # outstanding take call -> its worker
        self._ready: list = []            # (worker, message) taken and not yet received
        self._exited: set[int] = set()
        self._stopped = self._closed = False
        self._run_id = uuid.uuid4().hex[:6]
        self._cpus = cpus if cpus is not None else 1 if ray.cluster_resources().get("CPU", 0) >= n else 0
        for w in range(n):
            self._start(w)

    def _start(self, w: int) -> None:
        actor = SuperoptWorker.options(
            num_cpus=0 if self._restarts[w] else self._cpus, scheduling_strategy="SPREAD",
            name="superopt-%s-%d-%s-%d" % (self.name.replace(" ", "-"), w, self._run_id, self._restarts[w])).remote(w)
        self._actors[w], self._seq[w] = actor, 0
        self._runs[w] = actor.run.remote(self._target, self._args[w])
        if self._stopped:
            actor.stop.remote()
        self._takes[actor.take.remote(TAKE_WAIT)] = w

    def __len__(self) -> int:
        return len(self._actors)

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def actors(self) -> list:
        """The workers' actor handles (for a test to kill one, or to ask where it runs)."""
        return list(self._actors)

    def send(self, worker: int, message) -> None:
        self._actors[worker].deliver.remote(self._seq[worker], message)
        self._seq[worker] += 1

    def broadcast(self, message) -> None:
        ref = ray.put(message)   # a top-level reference argument reaches the actor as its value
        for w in range(len(self._actors)):
            self.send(w, ref)

    def stop(self) -> None:
        self._stopped = True
        for actor in self._actors:
            actor.stop.remote()

    def finished(self) -> bool:
        """Every worker's function has returned."""
        return len(self._exited) == len(self._actors)

    def receive(self, timeout: float):
        """(worker, message) from any worker, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not self._takes:        # every worker has exited: nothing more will come
                time.sleep(left)
                return None
            done, _ = ray.wait(list(self._takes) + [r for r in self._runs if r is not None], num_returns=1,
                               timeout=left)
            for ref in done:
                if ref in self._takes:
                    self._collect(self._takes.pop(ref), ref)
                else:
                    self._ended(self._runs.index(ref), ref)
        return self._ready.pop(0)

    def _ended(self, w: int, ref) -> None:
        """The worker's run call returned: its end went to its outbox, unless the call itself
        failed (its function could not be unpickled there, say)."""
        self._runs[w] = None
        try:
            ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            self._replace(w, exc)
        except ray.exceptions.RayError as exc:
            why = (str(exc.cause if getattr(exc, "cause", None) else exc).splitlines() or [""])[-1]
            raise WorkerError("%s %d of %d failed: %s" % (self.name, w, len(self), why)) from None

    def _collect(self, w: int, ref) -> None:
        try:
            batch = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            self._replace(w, exc)
            return
        for _, message in batch:
            if isinstance(message, Failed):
                raise WorkerError("%s %d of %d failed: %s" % (self.name, w, len(self), message.why))
            if isinstance(message, Exited):
                self._exited.add(w)
            else:
                self._ready.append((w, message))
        if w not in self._exited:
            self._takes[self._actors[w].take.remote(TAKE_WAIT)] = w

    def _replace(self, w: int, exc: Exception) -> None:
        why = "%s: %s" % (type(exc).__name__, (str(exc).splitlines() or [""])[0][:120])
        if self._restart is None or self._restarts[w] >= RESTARTS:
            raise WorkerError("%s %d of %d died (the Ray actor is gone: %s)" % (self.name, w, len(self), why))
        self._restarts[w] += 1
        ray.kill(self._actors[w], no_restart=True)
        self._takes = {ref: x for ref, x in self._takes.items() if x != w}   # the lost actor's other call
        self._start(w)
        messages, cost = self._restart(w)
        for message in messages:
            self.send(w, message)
        self.lost.append("%s %d of %d lost (%s), restarted: %s" % (self.name, w, len(self), why, cost))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.stop()
            for w in range(len(self._actors)):
                self.send(w, None)
            runs = [r for r in self._runs if r is not None]
            ray.wait(runs, num_returns=len(runs), timeout=5)
            for actor in self._actors:
                ray.kill(actor, no_restart=True)
        finally:
            self._stack.close()
