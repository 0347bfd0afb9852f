"""pUCT Monte Carlo tree search over a game of superopt.game.protocol, with batched leaf evaluation.

A Tree holds one search: nodes shared through the game's observational-equivalence key
(transpositions), edge statistics (visits, value sums, rewards) kept in the parent as
arrays over the action space, in the action names of the node's program. A game whose key
identifies renamed states (the assembly game: register names, cmp operand order) says
through `action_map` how actions translate, and a node renames its edges when a shorter
program in other names reaches it. Leaves are evaluated in batches: `simulate` walks several
paths per tree under virtual loss, across several trees at once, and hands all new leaves
to the evaluator in one call, so the network always sees batches.

Constants follow AlphaZero/AlphaDev: c_base 19652, c_init 1.25, Dirichlet(0.03) noise
with fraction 0.25 at the root, Q values normalised by the min and max seen in the tree
(MuZero).

Root "gumbel" (Danihelka et al., ICLR 2022, as in mctx's Gumbel MuZero policy) replaces
visit counts at the root when simulations are few next to the actions: with 200
simulations over sort4's ~130 legal actions, PUCT visits every child about once, so the
visit distribution (the move played and the policy target) is nearly flat whatever the
search learnt. Instead the root samples Gumbel noise g, considers the top `considered`
actions by g + logits, splits the budget over them by sequential halving (keeping the half
with the best g + logits + sigma(q) after each phase), plays the survivor, and trains the
policy toward softmax(logits + sigma(completed q)). Below the root, selection stays pUCT.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from superopt.agents.alphadev.node import MinMax, Node
from superopt.game.protocol import Playable


@dataclass(frozen=True)
class MCTSConfig:
    simulations: int = 200       # per move (AlphaDev: 800)
    leaves_per_tree: int = 8     # paths walked per tree before one batched evaluation
    c_base: float = 19652.0
    c_init: float = 1.25
    dirichlet_alpha: float = 0.03
    noise_fraction: float = 0.25
    discount: float = 1.0
    max_weight: float = 0.0      # Q = (1 - w) x mean return + w x best return seen (the game is deterministic)
    root: str = "puct"           # "puct" (visit counts) or "gumbel" (sequential halving, see above)
    considered: int = 16         # gumbel: actions considered at the root
    c_visit: float = 50.0        # gumbel: sigma(q) = (c_visit + max visits) x c_scale x q (q normalised)
    c_scale: float = 0.1
    fresh_visits: bool = True    # policy target and move choice from this move's visits only (see Tree.counts)


class Evaluator(Protocol):
    def __call__(self, states: Sequence, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Priors (batch, actions), zero on illegal actions and summing to one, and value
        estimates (batch,) of the return still to come from each state."""


def uniform_evaluator(states: Sequence, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain MCTS: a uniform prior over legal actions and no value estimate (zero)."""
    priors = legal.astype(np.float64)
    return priors / np.maximum(priors.sum(1, keepdims=True), 1.0), np.zeros(len(states))


class Tree:
    """One search from a root state. `on_new_state(state)` sees every state created;
    `reward(parent, child)` replaces the game's reward (to add shaping or latency terms);
    `dead(state)` marks states no correct program extends as terminal;
    `length_bound`: states this long or longer count as terminal (nothing shorter than the
    best program found lies below them)."""

    def __init__(self, game: Playable, root_state, config: MCTSConfig, rng: np.random.Generator,
                 on_new_state: Callable | None = None, reward: Callable | None = None,
                 dead: Callable | None = None, table: dict | None = None):
        self.game, self.config, self.rng = game, config, rng
        self.dead = dead  # state -> True when no correct program can extend it (a terminal)
        self.on_new_state = on_new_state
        self.reward = reward or game.reward  # (parent state, child state) -> reward of the step
        # several trees may share one table: later games start from what
        # earlier ones learnt about the same states
        self.table: dict = {} if table is None else table
        self.minmax = MinMax()  # per tree even when the table is shared (see actor.Actor._new_game)
        self.explored = 0      # distinct states created
        self.duplicates = 0    # steps that landed on a state already in the table
        self.length_bound: int | None = None
        self.extra = 0                   # simulations added to the next move's (then back to 0)
        self.survivors: list[int] = []   # gumbel: the root actions still in sequential halving
        self.schedule: list[int] = []    # gumbel: root actions still to simulate in this phase
        self.pending: list[Node] = []    # nodes with a shorter program to take (settle)
        self.base: np.ndarray | None = None  # root visits before this move's simulations
        self.root = self._node(root_state)

    # -- building nodes -------------------------------------------------------------
    def _terminal(self, state) -> bool:
        if self.game.is_terminal(state) or (self.dead is not None and self.dead(state)):
            return True
        return self.length_bound is not None and self.game.length(state.actions) >= self.length_bound

    def _node(self, state) -> Node:
        node = self.table.get(state.key)
        if node is not None:
            self.duplicates += 1
            # keep the shortest program that reaches the state; when the game's key
            # identifies renamings, its edges are renamed too, but not under the paths
            # in flight (their virtual losses name the old actions): settle does it
            length = self.game.length
            if length(state.actions) < length(node.state.actions):
                amap = self._action_map(node.state, state)
                if amap is None:
                    node.state = state
                elif node.shorter is None or length(state.actions) < length(node.shorter.actions):
                    if node.shorter is None:
                        self.pending.append(node)
                    node.shorter = state
            return node
        node = Node(state, self.game.legal_mask(state), False)
        node.terminal = self._terminal(state)
        self.table[state.key] = node
        self.explored += 1
        if self.on_new_state is not None:
            self.on_new_state(state)
        return node

    def _action_map(self, src, dst):
        action_map = getattr(self.game, "action_map", None)  # games whose keys identify renamings
        return None if action_map is None else action_map(src, dst)

    def settle(self) -> None:
        """Give the nodes reached by a shorter program in other register names that program
        (no path may be in flight)."""
        for node in self.pending:
            state, node.shorter = node.shorter, None
            if state is not None and self.game.length(state.actions) < self.game.length(node.state.actions):
                node.reframe(state, self._action_map(node.state, state))
        self.pending.clear()

    def _child(self, node: Node, action: int) -> Node:
        child = node.children.get(action)
        if child is None:
            state = self.game.step(node.state, action)
            node.rewards[action] = self.reward(node.state, state)
            child = node.children[action] = self._node(state)
        return child

    # -- one simulation: select, (evaluate), expand, back up ---------------------------
    def _edge_q(self, node: Node, action: int) -> float:
        """A visited edge's Q: the mean return, mixed with the best (an edge under virtual
        loss only has no best return yet: its mean alone)."""
        q = node.value_sum[action] / node.visits[action]
        w = self.config.max_weight
        if w and node.best[action] > -np.inf:
            q = (1 - w) * q + w * node.best[action]
        return q

    def _pick(self, node: Node) -> int:
        """argmax of pUCT: minmax-normalised Q + c x sqrt(N) x prior / (1 + n) on open
        edges. Normalising is affine, so the argmax is computed on raw Q with the
        exploration term scaled by the Q range instead (no pass over Q per step)."""
        total = node.total
        c = self.config.c_init + math.log((total + self.config.c_base + 1) / self.config.c_base)
        c *= math.sqrt(max(total, 1))
        span = self.minmax.high - self.minmax.low
        explore = node.push / (1 + node.visits)
        score = node.q + (c * span) * explore if span > 0 else c * explore
        score += node.mask
        return int(np.argmax(score))

    def select(self, first: int | None = None) -> tuple[list, Node]:
        """Walk from the root to a node that is unexpanded, terminal or closed (or stop
        before an edge back to a node on the path), adding a virtual loss on every edge
        taken; `first`, when given, is the root's action (gumbel's schedule)."""
        node, path, seen = self.root, [], {id(self.root)}
        while node.expanded and not node.terminal and not node.closed or (first is not None and not path):
            action = self._pick(node) if first is None or path else first
            child = self._child(node, action)
            if id(child) in seen:
                # back to a state on the path with more instructions: never useful, so the
                # edge is closed without a visit; the simulation ends here
                node.mask[action] = -np.inf
                if node.explore[action]:
                    node.explore[action] = node.push[action] = 0.0
                    node.open -= 1
                    node.closed = node.open == 0
                return path, node
            virtual = self.minmax.low if self.minmax.low < math.inf else 0.0
            node.visits[action] += 1
            node.total += 1
            node.value_sum[action] += virtual
            node.q[action] = self._edge_q(node, action)
            path.append((node, action, virtual))
            seen.add(id(child))
            node = child
        return path, node

    def expand(self, node: Node, prior: np.ndarray, value: float) -> None:
        node.prior = np.asarray(prior, dtype=np.float64)
        node.value = float(value)
        node.push = node.prior * node.explore
        node.q = np.where(node.visits > 0, node.q, node.value)

    def leaf_value(self, leaf: Node) -> float:
        if leaf.terminal:
            return 0.0
        if leaf.closed:  # every continuation is known: the best of them
            known = leaf.best[np.isfinite(leaf.best)]
            return float(known.max()) if len(known) else 0.0
        return leaf.value

    def backup(self, path: list, value: float) -> None:
        """Add the return to every edge of the path. The game is deterministic, so an edge
        into a terminal (or closed) node is explored for good: it is closed (never selected
        again for exploration, only when its known return is the best), and a node whose
        edges are all closed is closed too: the search does not explore a finished line twice."""
        ret = value
        closing = bool(path) and (path[-1][0].children[path[-1][1]].terminal or path[-1][0].children[path[-1][1]].closed)
        for node, action, virtual in reversed(path):
            if closing and node.explore[action]:
                node.explore[action] = node.push[action] = 0.0
                node.open -= 1
                node.closed = closing = node.open == 0
            else:
                closing = False
            ret = node.rewards[action] + self.config.discount * ret
            node.value_sum[action] += ret - virtual
            if ret > node.best[action]:
                node.best[action] = ret
            node.q[action] = self._edge_q(node, action)
            q = node.value_sum[action] / node.visits[action]
            self.minmax.update(q)
            self.minmax.update(ret)

    # -- gumbel root: sequential halving ------------------------------------------------
    def _sigma(self, node: Node, q: np.ndarray) -> np.ndarray:
        """sigma of completed Q values rescaled to [0, 1] over the node's legal actions (as
        mctx does): the tree-wide range would squash the differences between siblings below
        the Gumbel noise."""
        c = self.config
        low, high = q[node.legal].min(initial=np.inf), q[node.legal].max(initial=-np.inf)
        scaled = (q - low) / (high - low) if high > low else np.zeros_like(q)
        return (c.c_visit + node.visits.max(initial=0)) * c.c_scale * scaled

    def _completed_q(self, node: Node) -> np.ndarray:
        """Q where visited; elsewhere the value mixed from the network's estimate and the
        prior-weighted Q of the visited edges (mctx's completion)."""
        visited = node.visits > 0
        q = node.q
        total = node.visits.sum()
        weight = node.prior[visited].sum()
        mixed = node.value
        if total and weight > 0:
            mixed = (node.value + total * (node.prior[visited] * q[visited]).sum() / weight) / (1 + total)
        return np.where(visited, q, mixed)

    def _logits(self, node: Node) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.where(node.legal, np.log(np.maximum(node.prior, 1e-30)), -np.inf)

    def start_halving(self, simulations: int) -> None:
        """Draw the root's Gumbel noise, pick the actions to consider and plan the first phase."""
        root = self.root
        legal = np.flatnonzero(root.legal)
        self.gumbel = np.where(root.legal, self.rng.gumbel(size=len(root.legal)), -np.inf)
        score = self.gumbel + self._logits(root)
        m = min(self.config.considered, len(legal))
        self.survivors = [int(a) for a in legal[np.argsort(-score[legal], kind="stable")[:m]]]
        self.phases = max(1, math.ceil(math.log2(m))) if m > 1 else 1
        self.budget = simulations
        self._plan_phase()

    def _plan_phase(self) -> None:
        per = max(1, self.budget // (self.phases * len(self.survivors))) if len(self.survivors) > 1 else 0
        self.schedule = [a for a in self.survivors for _ in range(per)]

    def next_phase(self) -> bool:
        """After a phase's simulations: keep the better half; plan the next phase. False when done."""
        if len(self.survivors) <= 1:
            return False
        score = self._halving_scores()
        keep = max(1, len(self.survivors) // 2)
        self.survivors = sorted(self.survivors, key=lambda a: -score[a])[:keep]
        self._plan_phase()
        return bool(self.schedule)

    def _improved_logits(self, node: Node) -> np.ndarray:
        """logits + sigma(completed q): the improved policy's logits (policy target and,
        with the Gumbel noise, the halving score)."""
        return self._logits(node) + self._sigma(node, self._completed_q(node))

    def _halving_scores(self) -> np.ndarray:
        return self.gumbel + self._improved_logits(self.root)

    # -- acting ---------------------------------------------------------------------
    def add_root_noise(self) -> None:
        if self.config.root == "gumbel":  # the Gumbel draw is the root's exploration
            return
        root = self.root
        legal = np.flatnonzero(root.legal)
        if not root.expanded or len(legal) == 0 or self.config.noise_fraction <= 0:
            return
        noise = self.rng.dirichlet([self.config.dirichlet_alpha] * len(legal))
        prior = root.prior * (1 - self.config.noise_fraction)
        prior[legal] += self.config.noise_fraction * noise
        root.prior = prior
        root.push = prior * root.explore

    def root_value(self) -> float:
        """The search's value of the root: the best Q of its visited edges (its estimate
        when none is visited)."""
        root = self.root
        visited = root.visits > 0
        return float(root.q[visited].max()) if visited.any() else float(root.value)

    def counts(self) -> np.ndarray:
        """The root's visit counts that this move's simulations added (config.fresh_visits),
        or all of them. With a table shared between games, a node's counts pile up over
        every game that passed it, under older networks and bounds: as targets and move
        odds they would repeat old choices (measured: trained networks then searched worse
        than plain MCTS). All counts when this move added none (a closed root)."""
        visits = self.root.visits
        if self.config.fresh_visits and self.base is not None:
            fresh = visits - self.base
            if fresh.sum() > 0:
                return fresh
        return visits

    def policy(self) -> np.ndarray:
        """The policy training target: root visit counts as a distribution, or for gumbel
        softmax(logits + sigma(completed q)) over the legal actions."""
        if self.config.root == "gumbel" and self.root.expanded:
            z = self._improved_logits(self.root)
            z = np.exp(z - z[self.root.legal].max())
            return z / z.sum()
        visits = self.counts().astype(np.float64)
        total = visits.sum()
        return visits / total if total > 0 else self.root.legal / max(self.root.legal.sum(), 1)

    def choose(self, temperature: float) -> int:
        """An action drawn from root visits ** (1 / temperature); the most visited at 0.
        For gumbel, the survivor of sequential halving (its noise already explores)."""
        if self.config.root == "gumbel" and self.survivors and self.root.expanded:
            score = self._halving_scores()
            return max(self.survivors, key=lambda a: score[a])
        visits = self.counts().astype(np.float64)
        if visits.sum() == 0:
            visits = self.root.legal.astype(np.float64)
        if temperature <= 0:
            return int(np.argmax(visits))
        weights = visits ** (1.0 / temperature)
        return int(self.rng.choice(len(weights), p=weights / weights.sum()))

    def advance(self, action: int) -> None:
        """Play `action`: its child becomes the root (its subtree is kept)."""
        self.root = self._child(self.root, action)


def simulate(trees: Sequence[Tree], evaluator: Evaluator, simulations: int,
             should_stop: Callable[[], bool] = lambda: False) -> None:
    """Run `simulations` simulations (plus the tree's `extra`) in every tree, evaluating new
    leaves of all trees in batches of up to len(trees) * leaves_per_tree."""
    for tree in trees:
        tree.settle()
    for tree in trees:   # after every settle: one tree's settle may rename another's root (shared nodes)
        tree.base = tree.root.visits.copy()
    for tree in trees:
        if not tree.root.expanded and not tree.root.terminal:
            _evaluate([(tree, [], tree.root)], evaluator)
            tree.add_root_noise()
    if trees and trees[0].config.root == "gumbel":
        return _simulate_halving(trees, evaluator, simulations, should_stop)
    left = {id(tree): simulations + tree.extra for tree in trees}
    for tree in trees:
        tree.extra = 0
    leaves = trees[0].config.leaves_per_tree if trees else 0
    while not should_stop():
        batch = []
        for tree in trees:
            if tree.root.terminal or tree.root.closed:
                continue
            take = min(leaves, left[id(tree)])
            left[id(tree)] -= take
            batch += [(tree,) + tuple(tree.select()) for _ in range(take)]
        if not batch:
            return
        _evaluate(batch, evaluator)


def _simulate_halving(trees: Sequence[Tree], evaluator: Evaluator, simulations: int, should_stop) -> None:
    """Sequential halving at every root, the trees' phases interleaved in shared batches."""
    active = [t for t in trees if not t.root.terminal and not t.root.closed]
    for tree in active:
        tree.start_halving(simulations)
    while active and not should_stop():
        batch = []
        for tree in active:
            take = tree.schedule[:tree.config.leaves_per_tree]
            del tree.schedule[:len(take)]
            batch += [(tree,) + tuple(tree.select(first=a)) for a in take]
        if batch:
            _evaluate(batch, evaluator)
        active = [t for t in active if t.schedule or t.next_phase()]


def _evaluate(batch: list, evaluator: Evaluator) -> None:
    """Evaluate the distinct unexpanded leaves of `batch` in one call, then back up every path."""
    pending: dict[int, tuple[Tree, Node]] = {}
    for tree, _path, leaf in batch:
        if not leaf.terminal and not leaf.expanded:
            pending.setdefault(id(leaf), (tree, leaf))
    if pending:
        leaves = list(pending.values())
        priors, values = evaluator([leaf.state for _, leaf in leaves], np.stack([leaf.legal for _, leaf in leaves]))
        for (tree, leaf), prior, value in zip(leaves, priors, values):
            tree.expand(leaf, prior, value)
    for tree, path, leaf in batch:
        tree.backup(path, tree.leaf_value(leaf))
