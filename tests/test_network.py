"""The network: shapes, masking, invariances, and that training steps reduce the loss."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from superopt.x86 import isa
from superopt.agents.alphadev.network import AlphaDevNet, MultiQueryAttention, NetConfig, action_features, pad_programs

RAX, RCX = isa.Reg("rax", 32), isa.Reg("rcx", 32)
SLOT0, SLOT1 = isa.Mem(32, "rdi", disp=0), isa.Mem(32, "rdi", disp=4)
ACTIONS = [
    isa.Instr("mov", (RAX, SLOT0), width=32), isa.Instr("mov", (RCX, SLOT1), width=32),
    isa.Instr("mov", (SLOT0, RAX), width=32), isa.Instr("cmp", (RAX, RCX), width=32),
    isa.Instr("cmov", (RAX, RCX), cond="l", width=32), isa.Instr("cmov", (RCX, RAX), cond="g", width=32),
]
torch.set_num_threads(1)  # tiny tensors: a second thread only adds synchronisation (and stalls on a busy machine)
SMALL = NetConfig(embed=32, layers=1, heads=4, hidden=32, max_length=8)


def make_net(config=SMALL, locations=4):
    torch.manual_seed(0)
    return AlphaDevNet(config, action_features(ACTIONS), locations)


def batch(b=5, inputs=7, locations=4, seed=0):
    rng = np.random.default_rng(seed)
    programs = [tuple(rng.integers(0, len(ACTIONS), size=rng.integers(0, 6))) for _ in range(b)]
    states = torch.from_numpy(rng.integers(-1, 3, size=(b, inputs, locations)))
    legal = torch.from_numpy(rng.random((b, len(ACTIONS))) < 0.6)
    legal[:, 0] = True
    return torch.from_numpy(pad_programs(programs, 8)), states, legal


def test_action_features_one_hot_per_part():
    feats = action_features(ACTIONS)
    assert feats.shape[0] == len(ACTIONS)
    assert (feats.sum(1) == 3).all()           # opcode + two operands
    assert len({tuple(r) for r in feats}) == len(ACTIONS)  # every action distinct
    # cmovl and cmovg differ in the opcode block only
    assert (feats[4] != feats[5]).sum() == 2 + 4  # mnemonic and both operands swapped


def test_shapes_and_illegal_actions_masked():
    net = make_net()
    programs, states, legal = batch()
    out = net(programs, states, legal)
    assert out.logits.shape == (5, len(ACTIONS))
    assert out.correctness.shape == out.latency.shape == (5,)
    probs = torch.softmax(out.logits, -1)
    assert torch.all(probs[~legal] < 1e-6)
    assert torch.allclose(probs.sum(-1), torch.ones(5))


def test_input_order_does_not_matter():
    net = make_net().eval()
    programs, states, legal = batch()
    a = net(programs, states, legal)
    b = net(programs, states[:, torch.randperm(states.shape[1])], legal)
    assert torch.allclose(a.logits, b.logits, atol=1e-5) and torch.allclose(a.value, b.value, atol=1e-5)


def test_padding_does_not_change_the_output():
    net = make_net().eval()
    _, states, legal = batch(b=1)
    short = torch.from_numpy(pad_programs([(1, 3)], 8))
    padded = torch.tensor([[1, 3, -1, -1, -1]])
    assert torch.allclose(net(short, states, legal).logits, net(padded, states, legal).logits, atol=1e-5)


def test_program_order_matters():
    net = make_net().eval()
    _, states, legal = batch(b=1)
    a = net(torch.tensor([[0, 3]]), states, legal).logits
    b = net(torch.tensor([[3, 0]]), states, legal).logits
    assert not torch.allclose(a, b)


def test_single_value_head_reports_zero_latency():
    net = make_net(NetConfig(embed=32, layers=1, heads=4, hidden=32, two_heads=False))
    out = net(*batch())
    assert torch.all(out.latency == 0)


def test_multi_query_attention_shares_one_key_value_head():
    attn = MultiQueryAttention(32, 4)
    assert attn.key_value.out_features == 2 * 8
    with pytest.raises(ValueError):
        MultiQueryAttention(30, 4)


def test_pad_programs_keeps_tails():
    out = pad_programs([(), (1, 2, 3, 4, 5)], 3)
    assert out.tolist() == [[-1, -1, -1], [3, 4, 5]]


def test_training_steps_reduce_loss_on_fixed_batch():
    net = make_net()
    programs, states, legal = batch(b=16, seed=1)
    target = torch.softmax(torch.randn(16, len(ACTIONS)).masked_fill(~legal, -1e9), -1)
    value = torch.randn(16)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)

    def loss():
        out = net(programs, states, legal)
        logp = torch.log_softmax(out.logits, -1).masked_fill(~legal, 0)
        return -(target * logp).sum(-1).mean() + ((out.correctness - value) ** 2).mean()

    first = loss().item()
    for _ in range(40):
        opt.zero_grad()
        l = loss()
        l.backward()
        opt.step()
    assert loss().item() < 0.7 * first


def test_a_fresh_network_is_a_function_of_its_seed_alone():
    from superopt.agents.alphadev.network import new_network
    from superopt.game.game import Game
    from superopt.tasks.registry import get_task
    game = Game(get_task("sort3"))
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = (new_network(game, NetConfig(), seed) for seed in (7, 7, 8))
    assert torch.rand(1) == before   # the caller's generator is left as it was
    for (name, x), (_, y), (_, z) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert torch.equal(x, y), name
    assert any(not torch.equal(x, z) for x, z in zip(a.state_dict().values(), c.state_dict().values()))
