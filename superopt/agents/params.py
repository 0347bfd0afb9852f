"""Typed agent settings: one frozen dataclass per agent that checks itself when it is made.

An agent's Params subclass declares each `--param` key as a field made by `param(default,
kind)`; `kind` converts and checks a value (raising ValueError with what it wants) and
__post_init__ applies it to every field, so that no Params object holds a value its
agent would misread. `Params.build(values)` makes one from `--param KEY=VALUE` style
values (already read as int, float or string by parse_params), refusing unknown keys.
Each error is one SuperoptError line naming the agent and the key.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable, ClassVar

from superopt.errors import SuperoptError


# kinds: each returns the value (converted) or raises ValueError(what it wants)
def integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("an integer")
    return value


def count(value) -> int:
    if integer(value) < 0:
        raise ValueError("an integer >= 0")
    return value


def positive(value) -> int:
    if integer(value) < 1:
        raise ValueError("a positive integer")
    return value


def number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("a number")
    return float(value)


def at_least(low: float) -> Callable:
    def convert(value) -> float:
        if number(value) < low:
            raise ValueError("a number >= %g" % low)
        return float(value)
    return convert


def fraction(value) -> float:
    if not 0 <= number(value) <= 1:
        raise ValueError("a number from 0 to 1")
    return float(value)


def text(value) -> str:
    return str(value)


def choice(*names: str) -> Callable:
    def convert(value) -> str:
        if value not in names:
            raise ValueError("one of " + ", ".join(names))
        return value
    return convert


def flag(value) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def param(default, kind: Callable):
    """A Params field: its default (None: the agent decides, e.g. from the task) and its kind."""
    return field(default=default, metadata={"kind": kind})


@dataclass(frozen=True)
class Params:
    """The settings of one agent; subclasses add fields made by `param`."""
    agent: ClassVar[str] = ""
    # the optional SearchOptions the agent reads (of superopt.agents.base.OPTIONAL)
    uses: ClassVar[frozenset] = frozenset()

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue
            try:
                object.__setattr__(self, f.name, f.metadata["kind"](value))
            except ValueError as exc:
                raise SuperoptError("agent %s: --param %s wants %s, got %r"
                                    % (self.agent, f.name, exc.args[0], value)) from None

    @classmethod
    def keys(cls) -> list[str]:
        return sorted(f.name for f in fields(cls))

    @classmethod
    def of(cls, values) -> Params:
        """`values` if they are already this agent's Params, else Params built from them."""
        if isinstance(values, Params):
            if not isinstance(values, cls):
                raise SuperoptError("agent %s takes %s, not %s" % (cls.agent, cls.__name__, type(values).__name__))
            return values
        return cls.build(values)

    @classmethod
    def build(cls, values: dict | None) -> Params:
        """Params from `values` (key -> value); an unknown key is bad usage, never ignored."""
        values = dict(values or {})
        for key in values:
            if key not in cls.keys():
                raise SuperoptError("unknown --param %r for agent %s (known: %s)"
                                    % (key, cls.agent, ", ".join(cls.keys()) or "none"))
        return cls(**values)
