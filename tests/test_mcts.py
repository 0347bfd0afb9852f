"""MCTS on a toy game whose optimum is known, independent of the assembly game."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from superopt.agents.alphadev.mcts import MCTSConfig, Tree, simulate, uniform_evaluator


@dataclass(frozen=True)
class ToyState:
    actions: tuple
    value: int

    @property
    def key(self):
        return self.value

    @property
    def solved(self):
        return self.value == ToyGame.target


class ToyGame:
    """Reach `target` from 1 with +1, *2, *3 (and a useless -1); the shortest way to 10 is
    *3, *3, +1 (3 moves). Reward: +1 when reached, -0.05 per move; at most 8 moves."""
    target = 10
    ops = (lambda v: v + 1, lambda v: v * 2, lambda v: v * 3, lambda v: v - 1)
    num_actions = 4

    def initial(self):
        return ToyState((), 1)

    def legal_mask(self, state):
        return np.array([True, True, True, state.value > 1])

    def step(self, state, action):
        return ToyState(state.actions + (action,), self.ops[action](state.value))

    def is_terminal(self, state):
        return state.solved or len(state.actions) >= 8 or state.value > 200

    def reward(self, parent, child):
        return (1.0 if child.solved else 0.0) - 0.05

    def length(self, actions):
        return len(actions)


def play(seed: int, config=MCTSConfig(simulations=200, leaves_per_tree=4, noise_fraction=0.0)):
    game = ToyGame()
    solved = []
    tree = Tree(game, game.initial(), config, np.random.default_rng(seed),
                on_new_state=lambda s: solved.append(s) if s.solved else None)
    while not tree.root.terminal:
        simulate([tree], uniform_evaluator, config.simulations)
        tree.advance(tree.choose(0.0))
    return tree, solved


def test_finds_known_optimum():
    tree, solved = play(0)
    assert tree.root.state.solved
    assert len(tree.root.state.actions) == 3
    assert min(len(s.actions) for s in solved) == 3


def test_deterministic_with_seed():
    config = MCTSConfig(simulations=60, leaves_per_tree=3)
    a, _ = play(7, config)
    b, _ = play(7, config)
    assert a.root.state.actions == b.root.state.actions
    assert a.explored == b.explored


def test_transpositions_share_nodes():
    tree, _ = play(1)
    # 1 -> 2 is reachable as +1 and as *2: one node, and duplicates counted
    assert tree.duplicates > 0
    assert len(tree.table) == tree.explored


def test_visit_counts_and_illegal_actions():
    game = ToyGame()
    tree = Tree(game, game.initial(), MCTSConfig(), np.random.default_rng(0))
    simulate([tree], uniform_evaluator, 40)
    assert tree.root.visits[3] == 0  # -1 is illegal at value 1
    assert tree.root.visits.sum() == 40
    policy = tree.policy()
    assert abs(policy.sum() - 1) < 1e-9 and policy[3] == 0
    assert tree.choose(0.0) == int(np.argmax(tree.root.visits))


def test_batched_trees_and_evaluator_batches():
    game = ToyGame()
    sizes = []

    def counting(states, legal):
        sizes.append(len(states))
        return uniform_evaluator(states, legal)

    trees = [Tree(game, game.initial(), MCTSConfig(leaves_per_tree=4), np.random.default_rng(i)) for i in range(3)]
    simulate(trees, counting, 20)
    assert max(sizes) > 1  # leaves of several paths and trees go to the evaluator together
    assert all(t.root.visits.sum() == 20 for t in trees)


def test_extra_simulations_go_to_one_tree_for_one_move():
    game = ToyGame()
    trees = [Tree(game, game.initial(), MCTSConfig(leaves_per_tree=4), np.random.default_rng(i)) for i in range(2)]
    trees[1].extra = 30
    simulate(trees, uniform_evaluator, 20)
    assert [t.root.visits.sum() for t in trees] == [20, 50] and trees[1].extra == 0
    simulate(trees, uniform_evaluator, 20)
    assert [t.root.visits.sum() for t in trees] == [40, 70]


def test_targets_count_only_this_moves_visits_when_games_share_nodes():
    game = ToyGame()
    table: dict = {}
    first = Tree(game, game.initial(), MCTSConfig(noise_fraction=0.0), np.random.default_rng(0), table=table)
    simulate([first], uniform_evaluator, 60)
    before = first.root.visits.copy()
    second = Tree(game, game.initial(), MCTSConfig(noise_fraction=0.0), np.random.default_rng(1), table=table)
    assert second.root is first.root   # the same node, with the first game's 60 visits
    simulate([second], uniform_evaluator, 10)
    fresh = second.root.visits - before
    assert fresh.sum() == 10
    assert np.allclose(second.policy(), fresh / 10)
    everything = Tree(game, game.initial(), MCTSConfig(noise_fraction=0.0, fresh_visits=False),
                      np.random.default_rng(2), table=table)
    simulate([everything], uniform_evaluator, 10)
    assert np.allclose(everything.policy(), everything.root.visits / 80)


def test_root_noise_keeps_a_distribution_over_legal_actions():
    game = ToyGame()
    tree = Tree(game, game.initial(), MCTSConfig(noise_fraction=0.25), np.random.default_rng(3))
    simulate([tree], uniform_evaluator, 1)
    assert abs(tree.root.prior.sum() - 1) < 1e-9
    assert tree.root.prior[3] == 0


def test_pick_is_the_argmax_of_minmax_normalised_puct():
    """_pick works on raw Q with the exploration term scaled by the Q range: the same choice as
    pUCT on Q normalised into [0, 1] (MuZero), with and without a range."""
    import math
    rng = np.random.default_rng(0)
    game = ToyGame()
    for trial in range(200):
        tree = Tree(game, game.initial(), MCTSConfig(max_weight=(0.0, 0.5, 1.0)[trial % 3]), rng)
        node = tree.root
        tree.expand(node, rng.dirichlet([1.0] * 4), float(rng.normal()))
        for a in np.flatnonzero(rng.random(4) < 0.6):
            node.visits[a] = rng.integers(1, 20)
            node.total += int(node.visits[a])
            node.value_sum[a] = rng.normal() * node.visits[a]
            node.best[a] = node.value_sum[a] / node.visits[a] + abs(rng.normal())
            node.q[a] = tree._edge_q(node, a)
        if trial % 4:
            for q in rng.normal(size=2):
                tree.minmax.update(float(q))
        m = tree.minmax
        w = tree.config.max_weight
        mean = node.value_sum / np.maximum(node.visits, 1)
        q = np.where(node.visits > 0, (1 - w) * mean + w * np.where(node.best > -np.inf, node.best, mean), node.value)
        q = (q - m.low) / (m.high - m.low) if m.high > m.low else q * 0.0
        c = tree.config.c_init + math.log((node.total + tree.config.c_base + 1) / tree.config.c_base)
        score = q + c * math.sqrt(max(node.total, 1)) * node.prior * node.explore / (1 + node.visits) + node.mask
        assert tree._pick(node) == int(np.argmax(score))


def test_length_bound_makes_long_states_terminal():
    game = ToyGame()
    tree = Tree(game, game.initial(), MCTSConfig(), np.random.default_rng(0))
    tree.length_bound = 2
    simulate([tree], uniform_evaluator, 100)
    deepest = max(len(n.state.actions) for n in tree.table.values())
    assert deepest <= 2


GUMBEL = MCTSConfig(simulations=32, leaves_per_tree=4, root="gumbel", considered=4)


def test_gumbel_root_finds_known_optimum_with_few_simulations():
    for seed in range(3):
        tree, solved = play(seed, GUMBEL)
        assert tree.root.state.solved and len(tree.root.state.actions) == 3


def test_gumbel_halving_spends_the_budget_on_the_considered_actions():
    game = ToyGame()
    tree = Tree(game, game.initial(), GUMBEL, np.random.default_rng(0))
    simulate([tree], uniform_evaluator, GUMBEL.simulations)
    assert len(tree.survivors) == 1
    visits = tree.root.visits
    assert 0 < visits.sum() <= GUMBEL.simulations
    assert tree.choose(1.0) == tree.survivors[0]
    policy = tree.policy()
    assert np.isclose(policy.sum(), 1.0) and (policy[~game.legal_mask(game.initial())] == 0).all()
    assert policy.argmax() == int(np.argmax(tree._completed_q(tree.root)))  # uniform logits: q decides


def _renamed_pair():
    """sort3's game, an action parser, and two programs that leave one state up to register
    names: the longer one first."""
    from superopt.game.game import Game
    from superopt.tasks.registry import get_task
    from superopt.x86.parser import parse_text
    g = Game(get_task("sort3"))

    def act(att):
        return g.action_id(parse_text(att).instrs[0])
    load0, load1, copy = act("movl (%rdi), %eax"), act("movl 4(%rdi), %ecx"), act("movl %eax, %edx")
    long = g.play([load0, load1, copy, act("movl %ecx, %eax"), act("movl %edx, %ecx")])
    short = g.play([load0, load1, copy])
    return g, act, long, short


def test_a_shorter_renamed_way_reframes_the_node_after_the_paths_in_flight():
    """On the assembly game, whose keys identify register renamings: a node first reached by a
    longer program takes a shorter renamed one only at settle, its edges renamed with it."""
    g, act, long, short = _renamed_pair()
    assert long.key == short.key and long.cpu != short.cpu
    tree = Tree(g, g.initial(), MCTSConfig(), np.random.default_rng(0))
    node = tree._node(long)
    cmp = act("cmpl %ecx, %eax")
    node.visits[cmp], node.value_sum[cmp] = 7, 3.5
    assert tree._node(short) is node and node.state is long   # paths may be in flight
    tree.settle()
    m = g.action_map(long, short)
    assert node.state is short and node.visits[m[cmp]] == 7 and node.value_sum[m[cmp]] == 3.5
    assert node.visits.sum() == 7 and (node.legal == g.legal_mask(short)).all()


def test_fresh_counts_survive_another_trees_settle_renaming_the_root():
    """Trees sharing a table: one tree's settle may rename the root of another; that root's
    visits before the move must be read in the new names."""
    g, act, long, short = _renamed_pair()
    table: dict = {}
    first = Tree(g, long, MCTSConfig(noise_fraction=0.0), np.random.default_rng(0), table=table)
    root = first.root
    cmp = act("cmpl %ecx, %eax")
    simulate([first], uniform_evaluator, 20)
    root.visits[cmp] += 50   # an edge the old names count heavily
    root.total += 50
    root.value_sum[cmp] += 50 * root.q[cmp]
    second = Tree(g, g.initial(), MCTSConfig(noise_fraction=0.0), np.random.default_rng(1), table=table)
    assert second._node(short) is root and root.state is long   # renamed at second's settle
    simulate([first, second], uniform_evaluator, 10)
    assert root.state is short
    fresh = first.counts()
    assert (fresh >= 0).all() and fresh.sum() == 10
    assert (first.policy() >= 0).all()
