"""AlphaDev's network, sized for a CPU: representation (program + CPU state) and heads.

The program so far is a sequence of action ids. Each action is described once by a
one-hot vector of its opcode and operands (`action_features`); the sequence goes
through an MLP, gets a learned position embedding and passes a transformer encoder
whose attention is multi-query (one shared key/value head). The CPU state the program
leaves on every test input (small integers: ranks or "empty") is embedded per
location, encoded per input by an MLP and mean-pooled over inputs, so the order of the
inputs does not matter. The two embeddings are joined by an MLP that feeds a policy
head (illegal actions masked), a correctness value head and a latency value head.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from superopt.x86 import isa

_NEG_INF = -1e9


@dataclass(frozen=True)
class NetConfig:
    """Network sizes. The defaults run at thousands of evaluations per second on 2 cores."""
    embed: int = 64          # width of every embedding
    layers: int = 2          # transformer layers (AlphaDev: 6)
    heads: int = 4           # query heads per layer (keys and values share one head)
    hidden: int = 128        # width of the MLPs
    location_embed: int = 8  # embedding per CPU-state location value
    state_vocab: int = 16    # CPU-state values are clipped into [-1, state_vocab - 2]
    max_length: int = 64     # longest program the position embedding covers
    two_heads: bool = True   # False: one value head predicts correctness + latency together

    def to_dict(self) -> dict:
        return asdict(self)


def _operand_token(op: isa.Operand) -> str:
    if isinstance(op, isa.Reg):
        return "reg:" + op.family
    if isinstance(op, isa.Mem):
        return "mem:%s:%s:%d:%d" % (op.base, op.index, op.scale, op.disp)
    if isinstance(op, isa.Imm):
        return "imm:%d" % op.value
    return "label:" + op.name


def _parts(action: isa.Instr | isa.Label) -> tuple[str, tuple]:
    """An action as (mnemonic, operands); placing a label (the branch game) is the
    pseudo-mnemonic "label" with the label as its operand, so it shares the jumps' token."""
    if isinstance(action, isa.Label):
        return "label", (action,)
    return action.mnemonic, action.operands


def action_features(actions: list[isa.Instr | isa.Label]) -> np.ndarray:
    """One row per action: one-hot mnemonic, then a one-hot operand token per operand slot
    (destination, source, ...), concatenated. Shape (num_actions, features), float32."""
    parts = [_parts(a) for a in actions]
    mnemonics = sorted({m for m, _ in parts})
    slots = max((len(ops) for _, ops in parts), default=0)
    tokens = [sorted({_operand_token(ops[s]) for _, ops in parts if len(ops) > s}) for s in range(slots)]
    offsets = np.cumsum([len(mnemonics)] + [len(t) for t in tokens])
    out = np.zeros((len(actions), int(offsets[-1])), dtype=np.float32)
    for row, (mnemonic, operands) in enumerate(parts):
        out[row, mnemonics.index(mnemonic)] = 1.0
        for s, op in enumerate(operands):
            out[row, offsets[s] + tokens[s].index(_operand_token(op))] = 1.0
    return out


class MultiQueryAttention(nn.Module):
    """Self-attention with `heads` query heads and a single shared key/value head."""

    def __init__(self, embed: int, heads: int):
        super().__init__()
        if embed % heads:
            raise ValueError("embed (%d) must be a multiple of heads (%d)" % (embed, heads))
        self.heads, self.head_dim = heads, embed // heads
        self.query = nn.Linear(embed, embed)
        self.key_value = nn.Linear(embed, 2 * self.head_dim)
        self.out = nn.Linear(embed, embed)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.query(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)   # (b, h, t, d)
        k, v = self.key_value(x).unsqueeze(1).split(self.head_dim, dim=-1)       # (b, 1, t, d)
        bias = torch.zeros(b, 1, 1, t, dtype=x.dtype, device=x.device).masked_fill(pad[:, None, None, :], _NEG_INF)
        y = F.scaled_dot_product_attention(q, k.expand(-1, self.heads, -1, -1),
                                           v.expand(-1, self.heads, -1, -1), attn_mask=bias)
        return self.out(y.transpose(1, 2).reshape(b, t, -1))


class _EncoderLayer(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(cfg.embed), nn.LayerNorm(cfg.embed)
        self.attention = MultiQueryAttention(cfg.embed, cfg.heads)
        self.mlp = nn.Sequential(nn.Linear(cfg.embed, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.embed))

    def forward(self, x, pad):
        x = x + self.attention(self.norm1(x), pad)
        return x + self.mlp(self.norm2(x))


def _mlp(inp: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, out))


@dataclass
class NetOutput:
    logits: torch.Tensor       # (batch, actions), illegal actions at -1e9
    correctness: torch.Tensor  # (batch,)
    latency: torch.Tensor      # (batch,); zeros when config.two_heads is False

    @property
    def value(self) -> torch.Tensor:
        return self.correctness + self.latency


class AlphaDevNet(nn.Module):
    """Representation + prediction. Inputs:
    programs (batch, length) action ids, -1 = padding;
    states (batch, inputs, locations) small ints from Game.features;
    legal (batch, actions) bool."""

    def __init__(self, config: NetConfig, action_feats: np.ndarray, num_locations: int):
        super().__init__()
        self.config, self.num_locations = config, num_locations
        self.num_actions = action_feats.shape[0]
        self.register_buffer("action_feats", torch.as_tensor(action_feats, dtype=torch.float32))
        e = config.embed
        self.instr_mlp = _mlp(action_feats.shape[1], config.hidden, e)
        self.start = nn.Parameter(torch.zeros(e))  # the empty program is one start token
        self.position = nn.Embedding(config.max_length + 1, e)
        self.encoder = nn.ModuleList(_EncoderLayer(config) for _ in range(config.layers))
        self.program_norm = nn.LayerNorm(e)
        self.value_embed = nn.Embedding(config.state_vocab, config.location_embed)
        self.state_mlp = _mlp(num_locations * config.location_embed, config.hidden, e)
        self.joint = nn.Sequential(nn.Linear(2 * e, config.hidden), nn.ReLU(),
                                   nn.Linear(config.hidden, config.hidden), nn.ReLU())
        self.policy = nn.Linear(config.hidden, self.num_actions)
        self.correctness = nn.Linear(config.hidden, 1)
        self.latency = nn.Linear(config.hidden, 1) if config.two_heads else None

    def forward(self, programs: torch.Tensor, states: torch.Tensor, legal: torch.Tensor) -> NetOutput:
        b = programs.shape[0]
        programs = programs[:, -self.config.max_length:]  # longer programs keep their tail
        pad = programs < 0
        tokens = self.instr_mlp(self.action_feats[programs.clamp(min=0)])
        x = torch.cat([self.start.expand(b, 1, -1), tokens], dim=1)
        pad = torch.cat([torch.zeros(b, 1, dtype=torch.bool, device=pad.device), pad], dim=1)
        x = x + self.position(torch.arange(x.shape[1], device=x.device))
        for layer in self.encoder:
            x = layer(x, pad)
        keep = (~pad).unsqueeze(-1).to(x.dtype)
        program = self.program_norm((x * keep).sum(1) / keep.sum(1))
        values = (states.long() + 1).clamp(0, self.config.state_vocab - 1)
        per_input = self.state_mlp(self.value_embed(values).flatten(2))  # (b, inputs, e)
        cpu = per_input.mean(1)
        h = self.joint(torch.cat([program, cpu], dim=-1))
        logits = self.policy(h).masked_fill(~legal, _NEG_INF)
        correctness = self.correctness(h).squeeze(-1)
        latency = self.latency(h).squeeze(-1) if self.latency is not None else torch.zeros_like(correctness)
        return NetOutput(logits, correctness, latency)


def pad_programs(programs: list[tuple[int, ...]], max_length: int) -> np.ndarray:
    """Action-id sequences as one (batch, length) int64 array padded with -1 (tails kept)."""
    width = max(1, min(max_length, max((len(p) for p in programs), default=0)))
    out = np.full((len(programs), width), -1, dtype=np.int64)
    for i, p in enumerate(programs):
        tail = p[-width:] if p else ()
        out[i, :len(tail)] = tail
    return out


def set_cpu_threads(threads: int | None = None) -> None:
    """Keep torch to the cores it may use (self-play workers take one each)."""
    torch.set_num_threads(max(1, threads or 1))


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def init_scale(net: AlphaDevNet) -> None:
    """Start the policy near uniform and the values near zero, so an untrained network
    neither misleads the search nor dominates the real rewards."""
    with torch.no_grad():
        for head in (net.policy, net.correctness, net.latency):
            if head is not None:
                head.weight.mul_(1.0 / math.sqrt(net.config.hidden))
                head.bias.zero_()


def new_network(game, config: NetConfig, seed: int = 0) -> AlphaDevNet:
    """A fresh network whose weights are a function of seed (so a search or training run
    from scratch repeats per seed), without touching torch's global generator."""
    locations = np.asarray(game.features(game.initial())).shape[1]
    max_length = getattr(game, "max_length", None) or config.max_length
    config = replace(config, max_length=max(config.max_length, max_length))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = AlphaDevNet(config, action_features(game.actions), locations)
    init_scale(net)
    return net


def copy_network(net: AlphaDevNet) -> AlphaDevNet:
    """An independent copy (same weights), e.g. to start several searches from one checkpoint."""
    twin = AlphaDevNet(net.config, net.action_feats.numpy(), net.num_locations)
    twin.load_state_dict(net.state_dict())
    return twin


class NetworkEvaluator:
    """The MCTS evaluator backed by the network: priors over legal actions and the value
    (correctness + latency heads) of each state, in one batched forward pass."""

    def __init__(self, net: AlphaDevNet, game):
        self.net, self.game = net, game
        self.evaluations = 0

    def inputs(self, states, legal):
        programs = torch.from_numpy(pad_programs([s.actions for s in states], self.net.config.max_length))
        feats = torch.from_numpy(np.stack([np.asarray(self.game.features(s), dtype=np.int64) for s in states]))
        return programs, feats, torch.from_numpy(np.asarray(legal, dtype=bool))

    @torch.no_grad()
    def __call__(self, states, legal):
        self.net.eval()
        out = self.net(*self.inputs(states, legal))
        self.evaluations += len(states)
        return torch.softmax(out.logits, -1).double().numpy(), out.value.double().numpy()

