"""The `ray` backend of the worker pool (issue 21), on a two-node Ray cluster on this machine.

One cluster serves the module (starting it takes seconds), under a temporary directory of the
work tree (RAY_TMPDIR too, so that no address file outside it points other users at this
cluster); the tests stop only that cluster, never `ray stop`. They are few and marked slow:
the cluster alone takes longer than a quick test may.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from superopt import api  # noqa: E402
from superopt.agents import enumerative  # noqa: E402
from superopt.agents.pool import WorkerError, start_pool, using  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    (ROOT / ".ray").mkdir(exist_ok=True)
    tmp = tempfile.mkdtemp(dir=ROOT / ".ray")
    os.makedirs(os.path.join(tmp, "ray"))
    saved = {k: os.environ.get(k) for k in ("RAY_TMPDIR", "RAY_USAGE_STATS_ENABLED")}
    os.environ.update(RAY_TMPDIR=tmp, RAY_USAGE_STATS_ENABLED="0")
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "temp_dir": os.path.join(tmp, "ray"),
                                                          "include_dashboard": False})
    try:
        nodes.add_node(num_cpus=1)
        ray.init(address=nodes.address, logging_level="error")
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the test's own workers
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def echo(link, scale):
    for message in iter(link.get, None):
        link.put(message * scale)


def fail(link):
    raise ValueError("bad input\nsecond line")


def receive(pool, count):
    got = []
    for _ in range(600):
        item = pool.receive(timeout=0.1)
        if item is not None:
            got.append(item)
            if len(got) == count:
                return got
    raise AssertionError("received %d of %d" % (len(got), count))


def test_workers_are_actors_on_both_nodes_and_messages_keep_their_order(cluster):
    with start_pool(echo, [(1,), (10,)], backend="ray", name="echo") as pool:
        nodes = {ray.get(actor.where.remote())[0] for actor in pool.actors()}
        assert len(nodes) == 2                  # spread: one actor per node
        for i in range(50):
            pool.send(0, i)
        pool.broadcast(7)
        got = receive(pool, 52)
        assert [m for w, m in got if w == 0] == list(range(50)) + [7]
        assert [m for w, m in got if w == 1] == [70]
    with start_pool(fail, [()], backend="ray", name="test worker") as pool:
        with pytest.raises(WorkerError, match=r"^test worker 0 of 1 failed: ValueError: bad input$"):
            receive(pool, 1)


@pytest.mark.parametrize("agent, extra", [("enum", {}), ("stochastic", {"steps": 3000})])
def test_ray_finds_what_local_finds_for_a_seed_and_worker_count(cluster, agent, extra):
    local = api.search("sort3", agent, workers=2, seed=1, **extra)
    with using("ray"):
        remote = api.search("sort3", agent, workers=2, seed=1, **extra)
    assert remote.verified and remote.length == local.length
    assert [i.att() for i in remote.program.instrs] == [i.att() for i in local.program.instrs]
    assert remote.explored == local.explored and "lost" not in remote.extras


def test_a_killed_actor_costs_the_run_nothing_and_is_reported(cluster, monkeypatch):
    pools = []

    def keep(*args, **kwargs):
        pools.append(start_pool(*args, **kwargs))
        return pools[-1]

    monkeypatch.setattr(enumerative, "start_pool", keep)
    killed = []

    def report(stats):   # the first progress report: both workers are searching a bound
        if pools and not killed and stats.phase.startswith("bound"):
            killed.append(pools[0].actors()[0])
            ray.kill(killed[0], no_restart=True)

    with using("ray"):
        result = api.search("sort3", "enum", workers=2, report=report)
    assert killed and result.verified and result.length == 17 and result.optimal
    assert len(result.extras["lost"]) == 1
    assert result.extras["lost"][0].startswith("enum worker 0 of 2 lost (")
    assert "restarted: " in result.extras["lost"][0]
