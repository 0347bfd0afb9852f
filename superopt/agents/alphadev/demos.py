"""Demonstrations: known correct programs played as expert games (`superopt train --demos FILES`).

A demonstration is a correct program of the task, replayed in the agent's game move by move:
the policy is trained toward its moves (one-hot targets) and the value heads toward the returns
it earns, in a fixed share of every learner batch (AgentConfig.demo_share), beside the
self-play games; a share of self-play games (AgentConfig.restart) starts part-way along one,
to look for a shorter way on. A correct kernel that breaks the game's canonical rules (loads
out of slot order, registers out of order, too many registers: most kernels of other agents)
is played in its canonical form (superopt.game.canonical), of the same length. A program the
game cannot play even so (an instruction outside its action space, a move its rules forbid,
a program that does not sort) is refused with its file and line.
"""
from __future__ import annotations

from superopt.errors import InputError
from superopt.game.canonical import canonical
from superopt.x86.isa import Instr, Program


def demo_actions(game, program: Program) -> tuple[int, ...]:
    """The program (or else, on a sort, its canonical form) as the game's action ids, checked
    to be a correct game; the error is the program's own when neither plays."""
    if game.kind == "branch":
        return _branch_demo(game, program)
    try:
        return _played(game, program)
    except InputError as refused:
        other = canonical(program, game.registers)
        if other is None:
            raise
        try:
            return _played(game, other)
        except InputError:
            raise refused from None


def _played(game, program: Program) -> tuple[int, ...]:
    path, lines = program.path, program.lines
    state = game.initial()
    actions = []
    for k, ins in enumerate(program.instrs):
        if ins.op == "ret" and k == len(program.instrs) - 1:
            continue
        line = lines[k] if k < len(lines) else None
        a = game.action_id(ins)
        if a is None:
            raise InputError("demonstration: instruction not in the %s action space of %s"
                             % (game.isa_name, game.task.name), path, line, ins.att())
        if a not in game.legal_actions(state.cpu, state.rules):
            raise InputError("demonstration: the game's rules (%s) forbid this move here"
                             % ", ".join(sorted(game.pruning)), path, line, ins.att())
        actions.append(a)
        state = game.step(state, a)
    if not state.solved:
        raise InputError("demonstration: the program does not solve %s (%d of %d items correct)"
                         % (game.task.name, state.correct_items, state.total_items), path)
    if len(actions) > game.max_length:
        raise InputError("demonstration: %d instructions, longer than the game's %d"
                         % (len(actions), game.max_length), path)
    return tuple(actions)


def _branch_demo(game, program: Program) -> tuple[int, ...]:
    """A variable sort's demonstration: its actions (labels included) up to the move that
    leaves every array sorted, where the branch game's agent ends a program
    (superopt.game.branchplay)."""
    actions = game.encode(program)
    if actions is None:
        raise InputError("demonstration: outside the branch game of %s (an instruction it lacks or a backward "
                         "jump)" % game.task.name, program.path)
    state = game.initial()
    for k, a in enumerate(actions):
        if state.solved:
            return tuple(actions[:k])
        if not game.legal_mask(state)[a]:
            move = game.actions[a]
            raise InputError("demonstration: the game's rules (%s) forbid move %d here (%s)"
                             % (", ".join(sorted(game.pruning)), k + 1,
                                move.att() if isinstance(move, Instr) else move.name + ":"), program.path)
        state = game.step(state, a)
    if not state.solved:
        raise InputError("demonstration: the program does not solve %s (%d of %d items correct)"
                         % (game.task.name, state.correct_items, state.total_items), program.path)
    return tuple(actions)
