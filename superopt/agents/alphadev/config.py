"""The AlphaDev agent's configuration: network, search, self-play and learner settings."""
from __future__ import annotations

from dataclasses import dataclass, field

from superopt.agents.alphadev.mcts import MCTSConfig
from superopt.agents.alphadev.network import NetConfig


@dataclass
class AgentConfig:
    net: NetConfig = field(default_factory=NetConfig)
    mcts: MCTSConfig = field(default_factory=MCTSConfig)
    games_in_parallel: int = 8          # trees per actor, searched in lockstep
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    buffer_size: int = 50_000
    updates_per_round: int = 4          # learner steps per lockstep move (in-process mode)
    sync_every: int = 50                # learner steps between weight broadcasts to workers
    latency_weight: float = 0.002       # reward per cycle of latency (length objective: a tie-break)
    shaping: float = 1.0                # weight of the potential-based shaping reward (0: off)
    potential: str = "lookahead"        # its potential: a POTENTIALS name
    prune_dead: bool = True             # states no correct program extends end the game
    share_table: bool = True            # the games of an actor share one transposition table
    table_size: int = 200_000           # ... cleared when it holds more nodes than this (~13 KB each on sort4)
    imitate: bool = True                # train on the shortest programs found, as games of their own
    search_values: bool = True          # value targets average the return with the root's searched value
    demo_share: float = 0.25            # share of each learner batch from demonstrations (when given)
    restart: float = 0.0                # share of games that start part-way along a shortest program found
    temperatures: tuple = ((0, 1.0), (300, 0.5), (1000, 0.25))  # (games played, temperature) from then on
    workers: int = 1                    # 1: everything in this process; N > 1: N actor processes
    latency: str = "native"             # latency of correct programs: "native" (measured) or "model"

    def temperature(self, games: int) -> float:
        t = self.temperatures[0][1]
        for start, value in self.temperatures:
            if games >= start:
                t = value
        return t
