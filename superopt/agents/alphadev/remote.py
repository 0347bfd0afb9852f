"""The replay buffer and the learner as a worker of their own: on the `ray` backend a Ray actor
beside the self-play actors (as muzero-general and RLlib split them), so that the driver only
routes messages and keeps the best program.

The driver forwards each round of games to the learner worker as one message (a batch), and
the worker learns at most as fast as fresh samples arrive (each sample reused about
REUSE times, the same rule as in the driver: `may_learn`). It reports its step count and
losses at most every REPORT_EVERY seconds, and its whole state (weights, optimizer, steps)
every `sync_every` steps, on "flush" and when it reaches `max_steps`: the driver loads that
state into its own copy of the learner (what checkpoints save) and broadcasts the weights to
the self-play actors. A lost learner actor is replaced and sent the last state the driver
has; what it cost is its replay buffer and the steps since that state (`lost_cost`).
"""
from __future__ import annotations

import time

import numpy as np

from superopt.agents.alphadev.learner import Learner, ReplayBuffer, mixed_batch
from superopt.agents.alphadev.network import AlphaDevNet, set_cpu_threads

REUSE = 8             # learner samples per fresh sample, at most
REPORT_EVERY = 0.5    # seconds between the learner's step reports


def may_learn(steps_this_run: int, added: int, batch_size: int) -> bool:
    """Learn at most as fast as fresh samples arrive: REUSE samples drawn per sample added."""
    return steps_this_run * batch_size < REUSE * added


def learner_state(learner: Learner) -> dict:
    return {"weights": learner.weights(), "optimizer": learner.optimizer.state_dict(), "steps": learner.steps}


def load_state(learner: Learner, state: dict) -> None:
    learner.net.load_state_dict(state["weights"])
    learner.optimizer.load_state_dict(state["optimizer"])
    learner.steps = int(state["steps"])


def lost_cost(state: dict) -> str:
    return "its replay buffer and the learner steps after step %d (restarted from that state)" % state["steps"]


def learn(link, net_config, action_feats, num_locations, config, seed, max_steps):
    """Worker (superopt.agents.pool): the replay buffer and the learner. Its first message is
    the learner state to start from; then batches of trajectories, the demonstrations'
    samples ({"demos": [...]}, mixed into every batch as in the driver), "flush", None to end."""
    set_cpu_threads(1)
    first = link.get()
    if first is None:
        return
    net = AlphaDevNet(net_config, np.asarray(action_feats), num_locations)
    learner = Learner(net, config)
    load_state(learner, first)
    buffer, demos, rng = ReplayBuffer(config.buffer_size), ReplayBuffer(config.buffer_size), np.random.default_rng(seed)
    start_steps, last_sync, last_report, losses = learner.steps, learner.steps, time.monotonic(), {}

    def full_state(flushed: bool = False) -> dict:
        return {**learner_state(learner), "losses": losses, "flushed": flushed}

    def due() -> bool:   # a learner step may be taken now
        return (len(buffer) >= config.batch_size and (max_steps is None or learner.steps < max_steps)
                and may_learn(learner.steps - start_steps, buffer.added, config.batch_size))

    while not link.stopped():
        pending = link.poll()
        if not pending and not due():
            pending = [link.get()]        # nothing to do until the driver sends more
        for message in pending:
            if message is None:
                return
            if message == "flush":
                link.put(full_state(flushed=True))
                last_sync = learner.steps
            elif isinstance(message, dict):
                demos.items.extend(message["demos"])
            else:
                for trajectory in message:
                    buffer.add(trajectory)
        if due():
            losses = learner.step(mixed_batch(buffer, demos, config.batch_size, config.demo_share, rng,
                                              net.config.max_length))
            if learner.steps - last_sync >= config.sync_every or learner.steps == max_steps:
                link.put(full_state())
                last_sync = learner.steps
            elif time.monotonic() - last_report > REPORT_EVERY:
                link.put({"steps": learner.steps, "losses": losses, "added": buffer.added})
                last_report = time.monotonic()
