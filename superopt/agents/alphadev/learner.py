"""Experience and learning: finished games (Trajectory), the replay buffer, and the learner that fits the network."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.network import AlphaDevNet, pad_programs


@dataclass
class Trajectory:
    programs: list          # action-id tuple at each move
    features: list          # (inputs, locations) int8 array at each move
    legal: list             # bool mask at each move
    policies: list          # root visit distribution at each move
    rewards: list           # game reward of each move taken
    latency_reward: float   # paid at the end when the game ended correct
    solved: bool
    actions: tuple          # the final program
    searched: list = field(default_factory=list)   # the root's searched value at each move (self-play games)

    def targets(self) -> tuple[np.ndarray, np.ndarray]:
        """Value targets from each move: (correctness, latency). Correctness: the Monte Carlo
        return, averaged with the search's value of the root where the game has one (less
        noisy than one sampled game: trained on returns alone, some nets misled the search,
        measured); the latency part of that value is the game's own latency reward."""
        correctness = np.cumsum(np.asarray(self.rewards[::-1], dtype=np.float64))[::-1]
        if len(self.searched) == len(correctness):
            correctness = (correctness + np.asarray(self.searched) - self.latency_reward) / 2
        return correctness, np.full(len(self.rewards), self.latency_reward)


class ReplayBuffer:
    """The most recent samples (state, policy target, value targets), sampled uniformly."""

    def __init__(self, capacity: int):
        self.items: deque = deque(maxlen=capacity)
        self.added = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, trajectory: Trajectory) -> None:
        z_c, z_l = trajectory.targets()
        for i in range(len(trajectory.rewards)):
            self.items.append((trajectory.programs[i], trajectory.features[i], trajectory.legal[i],
                               trajectory.policies[i], z_c[i], z_l[i]))
        self.added += len(trajectory.rewards)

    def sample(self, size: int, rng: np.random.Generator, max_length: int) -> dict:
        return batch_of(self.pick(size, rng), max_length)

    def pick(self, size: int, rng: np.random.Generator) -> list:
        return [self.items[i] for i in rng.integers(0, len(self.items), size=size)]


def mixed_batch(buffer: ReplayBuffer, demos: ReplayBuffer, size: int, share: float, rng: np.random.Generator,
                max_length: int) -> dict:
    """A learner batch: a fixed share from the demonstrations' buffer (when it has any), so
    that they never age out, the rest from self-play's."""
    shown = round(size * share) if len(demos) else 0
    return batch_of(buffer.pick(size - shown, rng) + demos.pick(shown, rng), max_length)


def batch_of(picks: list, max_length: int) -> dict:
    """Samples (from one buffer or several) as the learner's tensors."""
    return {
        "programs": torch.from_numpy(pad_programs([p[0] for p in picks], max_length)),
        "states": torch.from_numpy(np.stack([p[1] for p in picks]).astype(np.int64)),
        "legal": torch.from_numpy(np.stack([p[2] for p in picks])),
        "policy": torch.from_numpy(np.stack([p[3] for p in picks]).astype(np.float32)),
        "correctness": torch.tensor([p[4] for p in picks], dtype=torch.float32),
        "latency": torch.tensor([p[5] for p in picks], dtype=torch.float32),
    }


class Learner:
    """Adam on policy cross-entropy (to the visit distribution) + value squared errors."""

    def __init__(self, net: AlphaDevNet, config: AgentConfig):
        self.net, self.config = net, config
        self.optimizer = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        self.steps = 0

    def losses(self, batch: dict) -> dict:
        out = self.net(batch["programs"], batch["states"], batch["legal"])
        logp = torch.log_softmax(out.logits, -1)
        policy = -(batch["policy"] * logp.masked_fill(~batch["legal"], 0.0)).sum(-1).mean()
        if self.net.config.two_heads:
            value = F.mse_loss(out.correctness, batch["correctness"]) + F.mse_loss(out.latency, batch["latency"])
        else:
            value = F.mse_loss(out.correctness, batch["correctness"] + batch["latency"])
        return {"loss": policy + value, "policy": policy, "value": value}

    def step(self, batch: dict) -> dict:
        self.net.train()
        losses = self.losses(batch)
        self.optimizer.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
        self.optimizer.step()
        self.steps += 1
        return {k: float(v.detach()) for k, v in losses.items()}

    def weights(self) -> dict:
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

