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
    from hypersnn.core.nn.lif import LIFFunction, lif_reference
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
