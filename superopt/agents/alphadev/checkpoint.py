"""AlphaDev checkpoints: a network saved with the game it belongs to, the shipped ones, a search's start network."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from superopt.agents.alphadev.learner import Learner
from superopt.agents.alphadev.network import AlphaDevNet, NetConfig, action_features, new_network
from superopt.errors import SuperoptError
from superopt.outputs import save
from superopt.x86.isa import Label

CHECKPOINT_VERSION = 1


def action_names(game) -> list[str]:
    """The action space as text: each instruction in AT&T, a label placement as `.L0:`."""
    return [a.name + ":" if isinstance(a, Label) else a.att() for a in game.actions]



def save_checkpoint(path: str | os.PathLike, net: AlphaDevNet, game, learner: Learner | None = None,
                    extra: dict | None = None) -> None:
    """Weights, network config, the game they belong to (task, instruction set, action list)
    and, when given, the optimizer state and counters so that training can resume. Written
    atomically; if `path` cannot be written, superopt.outputs.ResultMoved names the fallback file."""
    data = {
        "version": CHECKPOINT_VERSION,
        "config": net.config.to_dict(),
        "num_locations": net.num_locations,
        "task": game.task.name,
        "isa": game.isa_name,
        "actions": action_names(game),
        "weights": net.state_dict(),
        "extra": dict(extra or {}),
    }
    if learner is not None:
        data["optimizer"] = learner.optimizer.state_dict()
        data["extra"]["steps"] = learner.steps
    # atomic: a crash never leaves a truncated checkpoint; a failed write lands in a fallback file
    save(str(path), lambda f: torch.save(data, f), what="the checkpoint")


def load_checkpoint(path: str | os.PathLike, game) -> tuple[AlphaDevNet, dict]:
    """The network stored at `path`, checked against `game`; returns (net, raw checkpoint)."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise SuperoptError("%s: no such checkpoint" % path) from None
    except Exception as exc:  # torch raises many kinds on a corrupt or foreign file
        first = (str(exc).splitlines() or [type(exc).__name__])[0]   # an empty file's message is empty
        raise SuperoptError("%s: not a superopt checkpoint (%s)" % (path, first[:120])) from None
    if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
        raise SuperoptError("%s: not a superopt checkpoint (version %r)" % (path, data.get("version") if isinstance(data, dict) else None))
    missing = [k for k in ("config", "num_locations", "task", "isa", "actions", "weights") if k not in data]
    if missing:
        raise SuperoptError("%s: not a superopt checkpoint (no %s)" % (path, ", ".join(missing)))
    if data["task"] != game.task.name or data["isa"] != game.isa_name or data["actions"] != action_names(game):
        raise SuperoptError("%s: trained for task %s with instruction set %s (%d actions), not for %s with %s (%d actions)"
                            % (path, data["task"], data["isa"], len(data["actions"]), game.task.name,
                               game.isa_name, game.num_actions))
    try:
        net = AlphaDevNet(NetConfig(**data["config"]), action_features(game.actions), data["num_locations"])
    except (TypeError, ValueError, RuntimeError) as exc:
        raise SuperoptError("%s: not a superopt checkpoint (network config %r: %s)"
                            % (path, data["config"], str(exc).splitlines()[0][:120])) from None
    check_weights(path, net, data["weights"])
    net.load_state_dict(data["weights"])
    return net, data


def check_weights(path, net: AlphaDevNet, weights) -> None:
    """Refuse weights that do not fit the network their checkpoint's config builds, naming
    the first tensor missing, unexpected or of another shape (torch's error is a page)."""
    if not isinstance(weights, dict):
        raise SuperoptError("%s: not a superopt checkpoint (weights are a %s)" % (path, type(weights).__name__))
    wanted = net.state_dict()
    for name, tensor in wanted.items():
        if name not in weights:
            raise SuperoptError("%s: the checkpoint has no tensor %s" % (path, name))
        got = weights[name]
        if not isinstance(got, torch.Tensor) or got.shape != tensor.shape:
            shape = list(got.shape) if isinstance(got, torch.Tensor) else "none (a %s)" % type(got).__name__
            raise SuperoptError("%s: tensor %s has shape %s, the network wants %s"
                                % (path, name, shape, list(tensor.shape)))
    extra = sorted(set(weights) - set(wanted))
    if extra:
        raise SuperoptError("%s: the checkpoint has a tensor the network does not: %s" % (path, extra[0]))


def shipped_checkpoint(task: str, isa_name: str) -> Path | None:
    """The checkpoint shipped inside the package for this task and instruction set, if any."""
    path = resources.files("superopt.agents.alphadev") / "checkpoints" / ("%s-%s.pt" % (task, isa_name))
    return Path(str(path)) if path.is_file() else None



def trained_potential(data: dict) -> str:
    """The potential recorded in a checkpoint; checkpoints from before it was recorded
    were all trained with placeable."""
    return data.get("extra", {}).get("potential", "placeable")



def load_or_create(game, model: str | None = None, from_scratch: bool = False,
                   net_config: NetConfig | None = None, seed: int = 0) -> tuple[AlphaDevNet, str, str | None]:
    """The network to start from: --model, else the shipped checkpoint, else a new one
    (--from-scratch, or nothing shipped for this task and instruction set); with the
    shaping potential a checkpoint was trained with (its value head learnt those returns)."""
    if model:
        net, data = load_checkpoint(model, game)
        return net, str(model), trained_potential(data)
    shipped = None if from_scratch else shipped_checkpoint(game.task.name, game.isa_name)
    if shipped is not None:
        try:
            net, data = load_checkpoint(shipped, game)
            return net, "shipped:" + shipped.name, trained_potential(data)
        except SuperoptError:
            pass  # shipped for another action space (e.g. other pruning or registers): start fresh
    return new_network(game, net_config or NetConfig(), seed), "from scratch", None

