"""The best kernel shipped for each built-in task: the shortest of the asm/ examples whose every
instruction the search's instruction set has (so that a search is compared with what it could
have found: sort3's 15 in `extended` does not count against an `alphadev` search)."""
from __future__ import annotations

from dataclasses import dataclass

from superopt.examples import examples
from superopt.x86.isa import instruction_count
from superopt.x86.parser import load


@dataclass(frozen=True)
class KnownBest:
    instructions: int
    file: str          # as in a checkout: asm/sort5_polished.s

    def to_json(self) -> dict:
        return {"instructions": self.instructions, "file": self.file}


def known_best(game) -> KnownBest | None:
    """The shortest shipped kernel for the task `game` (superopt.game.game.Game) searches, within
    its actions (None: no shipped kernel fits them; function tasks have none shipped)."""
    if getattr(game, "kind", "array") != "array":
        return None
    best = None
    for example in examples():
        if example.task != game.task.name or not example.name.endswith(".s"):
            continue
        program = load(str(example.source))[0]
        if all(ins.op == "ret" or game.action_id(ins) is not None for ins in program.instrs):
            count = instruction_count(program)
            if best is None or count < best.instructions:
                best = KnownBest(count, example.file)
    return best
