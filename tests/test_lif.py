import torch

from hypersnn.core.nn.lif import LIF


def test_soft_reset_keeps_the_residue_and_spikes_carry_the_threshold():
    n = LIF(threshold=1.0, leak=1.0)
    cur = torch.full((5, 1), 0.6)
    out = n(cur)[:, 0].tolist()
    # u: 0.5 -> 1.1 (spike, 0.1) -> 0.7 -> 1.3 (spike, 0.3) -> 0.9 -> 1.5 (spike, 0.5)
    assert out == [1.0, 0.0, 1.0, 0.0, 1.0]


def test_spike_count_rounds_rate_times_steps():
    n = LIF(threshold=2.0, leak=1.0)
    for i, expected in [(0.0, 0), (0.5, 1), (1.0, 2), (2.0, 5), (7.0, 5)]:
        s = n(torch.full((5, 1), i))
        assert int((s > 0).sum()) == expected, i


def test_leak_below_one_forgets():
    cur = torch.tensor([[0.4], [0.4], [0.0], [0.0], [0.0]])
    assert int((LIF(1.0, 1.0)(cur) > 0).sum()) == 1
    assert int((LIF(1.0, 0.2)(cur) > 0).sum()) == 0


def test_surrogate_gradient_reaches_input_threshold_and_leak():
    n = LIF(threshold=1.0, leak=0.9)
    cur = torch.tensor([[0.3, 0.8, 1.4]] * 4, requires_grad=True)
    n(cur).sum().backward()
    assert cur.grad.abs().sum() > 0
    assert n.threshold.grad is not None and n.threshold.grad != 0
    assert n.leak.grad is not None and n.leak.grad != 0


def test_fused_bptt_matches_plain_autograd_for_input_threshold_and_leak():
    from hypersnn.core.nn.lif import LIFFunction
    from oracles import lif_reference
    torch.manual_seed(0)
    cur = torch.randn(5, 3, 7, dtype=torch.float64) * 1.5
    go = torch.randn(5, 3, 7, dtype=torch.float64)
    grads = []
    for fn in (LIFFunction.apply, lif_reference):
        c = cur.clone().requires_grad_(True)
        leak = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
        vth = torch.tensor(0.9, dtype=torch.float64, requires_grad=True)
        out = fn(c, leak, vth, 5.0)
        (out * go).sum().backward()
        grads.append((out.detach(), c.grad, leak.grad, vth.grad))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_inference_path_gives_the_training_path_spikes():
    from hypersnn.core.nn.lif import LIF
    torch.manual_seed(1)
    n = LIF(threshold=0.7, leak=0.9)
    cur = torch.randn(5, 4, 6)
    with torch.no_grad():
        fast = n(cur)
        const = n(cur[0:1].expand(5, 4, 6))  # constant input, read without a copy
    torch.testing.assert_close(fast, n(cur).detach())
    torch.testing.assert_close(const, n(cur[0:1].expand(5, 4, 6).contiguous()).detach())


def test_a_leak_at_one_still_trains_down_when_the_loss_wants_fewer_spikes():
    """The old clamp passed no gradient once the leak was pushed above 1, so it stayed at 1 for good. The
    straight-through clamp plus projection keeps it trainable from 1 in both directions."""
    n = LIF(threshold=1.0, leak=1.0)
    opt = torch.optim.SGD(n.parameters(), lr=1e-4)
    cur = torch.full((6, 32), 0.45)
    for sign, moves in ((-1.0, lambda a, b: b == 1.0), (1.0, lambda a, b: b < a)):
        for _ in range(3):
            before = float(n.leak.detach())
            opt.zero_grad()
            (sign * n(cur).sum()).backward()  # -: wants more spikes (leak up); +: fewer (leak down)
            assert n.leak.grad is not None and float(n.leak.grad) != 0
            opt.step()
            n.project_()
            after = float(n.leak.detach())
            assert 0.0 < after <= 1.0 and moves(before, after)
    assert float(n.leak.detach()) < 1.0


def test_a_leak_above_one_gets_a_gradient_and_is_projected_back():
    n = LIF(threshold=1.0, leak=1.0)
    with torch.no_grad():
        n.leak.fill_(1.2)
    assert float(n.effective()[0].detach()) == 1.0
    n(torch.full((4, 8), 0.45)).sum().backward()
    assert float(n.leak.grad) != 0
    n.project_()
    assert float(n.leak) == 1.0


def test_pow2_leak_is_one_minus_a_power_of_two_and_costs_a_shift():
    from hypersnn.core.nn.lif import leak_kind, pow2_leak
    vals = pow2_leak(torch.tensor([0.0, 0.3, 0.5, 0.74, 0.9, 0.97, 0.9999, 0.99999, 1.0])).tolist()
    assert vals == [0.5, 0.5, 0.5, 0.75, 0.875, 0.96875, 0.9998779296875, 1.0, 1.0]
    assert [leak_kind(v) for v in (1.0, 0.5, 0.75, 0.96875, 0.9, 0.0)] == \
        ["none", "shift", "shift", "shift", "multiply", "multiply"]
    n = LIF(threshold=1.0, leak=0.9, leak_mode="pow2")
    assert float(n.effective()[0].detach()) == 0.875
    n(torch.full((4, 8), 0.45)).sum().backward()
    assert float(n.leak.grad) != 0  # straight through the rounding
    fixed = LIF(threshold=1.0, leak=0.9, leak_mode="none")
    assert float(fixed.effective()[0].detach()) == 1.0 and not fixed.leak.requires_grad
