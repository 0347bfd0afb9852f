"""The worker pool all agents share: inboxes, one results channel, a stop event, errors as one line."""
from __future__ import annotations

import os

import pytest

from superopt.agents.pool import WorkerError, start_pool, using
from superopt.errors import SuperoptError


def echo(link, scale):
    for message in iter(link.get, None):
        link.put(message * scale)


def fail(link):
    raise ValueError("bad input\nsecond line")


def die(link):
    os._exit(3)


def until_stopped(link):
    while not link.stopped():
        pass
    link.put("stopped")


def receive(pool):
    for _ in range(100):
        got = pool.receive(timeout=0.1)
        if got is not None:
            return got
    raise AssertionError("nothing received")


def test_each_worker_gets_its_own_messages_and_arguments():
    with start_pool(echo, [(1,), (10,)]) as pool:
        pool.send(0, 2)
        pool.send(1, 3)
        assert sorted(receive(pool) for _ in range(2)) == [(0, 2), (1, 30)]


def test_a_worker_error_reaches_the_parent_as_one_line():
    with start_pool(fail, [()], name="test worker") as pool:
        with pytest.raises(WorkerError, match=r"^test worker 0 of 1 failed: ValueError: bad input$"):
            receive(pool)


def test_a_worker_that_dies_without_a_word_is_an_error():
    with start_pool(die, [()]) as pool:
        with pytest.raises(WorkerError, match="worker 0 of 1 died \\(exit code 3\\)"):
            receive(pool)


def test_stop_reaches_every_worker_and_the_pool_knows_when_they_are_done():
    with start_pool(until_stopped, [(), ()]) as pool:
        pool.stop()
        assert {receive(pool)[0] for _ in range(2)} == {0, 1}
        while not pool.finished():
            assert pool.receive(timeout=0.1) is None


def test_an_unknown_backend_is_refused():
    with pytest.raises(SuperoptError, match=r"unknown worker backend 'mpi' \(known: local, ray\)"):
        start_pool(echo, [(1,)], backend="mpi")
    with pytest.raises(SuperoptError, match="unknown worker backend"), using("mpi"):
        pass


def test_an_address_is_for_the_ray_backend_only():
    with pytest.raises(SuperoptError, match="--address is for --backend ray"), using("local", "auto"):
        pass
