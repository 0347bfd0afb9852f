"""The `ray` backend of the worker pool (issue 21), on a two-node Ray cluster on this machine.

One cluster serves the module (per test process: starting it takes seconds), under a
temporary directory of the work tree (RAY_TMPDIR too, so that no address file outside it points other users at this
cluster); the tests stop only that cluster, never `ray stop`. They are few and marked slow:
the cluster alone takes longer than a quick test may.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from superopt import api  # noqa: E402
from superopt.agents import enumerative, stochastic  # noqa: E402
from superopt.agents.pool import WorkerError, start_pool, using  # noqa: E402

pytestmark = pytest.mark.slow
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


def test_ray_finds_what_local_finds_for_a_seed_and_worker_count(cluster):
    # (stochastic too: the killed-actor test below compares its result with local's)
    local = api.search("sort3", "enum", workers=2, seed=1)
    with using("ray"):
        remote = api.search("sort3", "enum", workers=2, seed=1)
    assert remote.verified and remote.length == local.length
    assert [i.att() for i in remote.program.instrs] == [i.att() for i in local.program.instrs]
    assert remote.explored == local.explored and "lost" not in remote.extras


@pytest.mark.parametrize("agent, extra", [("enum", {}), ("stochastic", {"steps": 3000})])
def test_a_killed_actor_costs_the_run_nothing_and_is_reported(cluster, monkeypatch, agent, extra):
    module = enumerative if agent == "enum" else stochastic
    pools, killed = [], []
    monkeypatch.setattr(module, "start_pool", lambda *a, **k: pools.append(start_pool(*a, **k)) or pools[-1])

    def report(stats):   # the first progress report from the workers: both are at work
        if pools and not killed:
            killed.append(pools[0].actors()[0])
            ray.kill(killed[0], no_restart=True)

    with using("ray"):
        result = api.search("sort3", agent, workers=2, seed=1, report=report, **extra)
    local = api.search("sort3", agent, workers=2, seed=1, **extra)
    assert killed and result.verified and result.length == local.length
    assert [i.att() for i in result.program.instrs] == [i.att() for i in local.program.instrs]
    lost = result.extras["lost"]
    name = "enum worker" if agent == "enum" else "stochastic chain"
    assert len(lost) == 1 and lost[0].startswith("%s 0 of 2 lost (" % name) and "restarted: " in lost[0]


def test_a_lost_node_costs_its_actor_which_is_restarted_on_another(cluster):
    node = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()

    def restart(w):
        return [5], "nothing: it was waiting for work"

    with start_pool(echo, [(1,), (10,), (100,)], backend="ray", name="echo", restart=restart) as pool:
        where = [ray.get(actor.where.remote())[0] for actor in pool.actors()]
        assert len(set(where)) == 3 and node.node_id in where
        lost = where.index(node.node_id)
        cluster.remove_node(node)
        assert receive(pool, 1) == [(lost, 5 * 10 ** lost)]   # the replacement got the restart message
        assert len(pool.lost) == 1 and pool.lost[0].startswith("echo %d of 3 lost (" % lost)
        assert pool.lost[0].endswith("), restarted: nothing: it was waiting for work")
        assert ray.get(pool.actors()[lost].where.remote())[0] != node.node_id
        pool.broadcast(1)
        assert sorted(receive(pool, 3)) == [(0, 1), (1, 10), (2, 100)]


def test_a_killed_selfplay_actor_is_replaced_and_learning_goes_on(cluster, monkeypatch):
    play, pools = _tiny_selfplay(monkeypatch)
    at_kill = {}

    def report(p):
        if not at_kill and p.steps >= 1:   # games came in and the learner has started
            at_kill.update(games=p.games, steps=p.steps)
            ray.kill(pools["self-play worker"].actors()[1], no_restart=True)

    # the other worker's games can outrun the notice of the loss: run on until both are seen
    # (or the time limit, and the assertions below fail)
    with using("ray"):
        p = play.run(should_stop=lambda: bool(at_kill) and play.progress.games >= at_kill["games"] + 6
                     and bool(play.progress.lost), report=report, time_limit=240)
    assert p.failure is None and len(p.lost) == 1, p.lost
    assert p.lost[0].startswith("self-play worker 1 of 2 lost (")
    assert p.lost[0].endswith("restarted: its games in play and results not yet sent")
    assert p.steps > at_kill["steps"]


def test_the_learner_is_an_actor_whose_loss_costs_its_buffer_not_its_state(cluster, monkeypatch):
    play, pools = _tiny_selfplay(monkeypatch, sync_every=5)
    at_kill = {}
    before = {k: v.clone() for k, v in play.net.state_dict().items()}

    def report(p):
        if not at_kill and play.learner.steps >= 5:   # a full state has come back from the learner actor
            at_kill.update(games=p.games, steps=play.learner.steps)
            ray.kill(pools["learner"].actors()[0], no_restart=True)

    with using("ray"):
        p = play.run(should_stop=lambda: bool(at_kill) and play.progress.steps >= at_kill["steps"] + 10,
                     report=report, time_limit=240)
    names = [a["Name"] for a in ray._private.state.actors().values()]   # the cluster lists it as an actor
    assert any(n.startswith("superopt-learner-0-") for n in names)
    assert p.failure is None and len(p.lost) == 1, p.lost
    assert p.lost[0].startswith("learner 0 of 1 lost (")
    restored = re.search(r"its replay buffer and the learner steps after step (\d+) \(restarted from that state\)$",
                         p.lost[0])
    assert restored and int(restored.group(1)) >= at_kill["steps"]
    # the driver's copy of the learner holds the actor's newest state: more steps, other weights
    assert play.learner.steps >= at_kill["steps"] + 10 and p.steps == play.learner.steps
    assert any(not (before[k] == v).all() for k, v in play.net.state_dict().items())
    assert len(play.buffer) == 0   # the buffer lived in the actor, not here


def _tiny_selfplay(monkeypatch, **config):
    """Self-play on sort3 with a tiny network and 2 workers, and the pools it starts (by name)."""
    from superopt.agents.alphadev import selfplay
    from superopt.agents.alphadev.config import AgentConfig
    from superopt.agents.alphadev.mcts import MCTSConfig
    from superopt.agents.alphadev.network import NetConfig, new_network
    from superopt.game.game import Game
    from superopt.tasks.registry import get_task

    pools = {}
    monkeypatch.setattr(selfplay, "start_pool", lambda *a, **k: pools.setdefault(k["name"], start_pool(*a, **k)))
    game = Game(get_task("sort3"))
    tiny = NetConfig(embed=16, layers=1, heads=2, hidden=32)
    agent = AgentConfig(net=tiny, mcts=MCTSConfig(simulations=4), games_in_parallel=1, workers=2, latency="model",
                        batch_size=8, **config)
    return selfplay.SelfPlay(game, new_network(game, tiny), agent), pools
