"""Leaky integrate-and-fire neurons with soft reset and a surrogate gradient.

u[0] = v_th / 2;  u[t] = leak * u[t-1] + I[t];  s[t] = H(u[t] / v_th - 1);  u[t] -= s[t] * v_th  (soft reset keeps the
residue, which matters at few time steps). Leak and threshold are trainable per layer.

A spike is a binary event; the layer hands `s[t] * v_th` downstream so that the next layer's weights,
copied from the CNN, see activations on the CNN's scale (rate x threshold ~ ReLU output). At inference
v_th is a per-layer constant folded into the next layer's weight scale, so each spike still costs one
accumulate per target neuron. The Heaviside
step has zero gradient almost everywhere, so backward uses the fast-sigmoid derivative
1 / (1 + slope * |z|)^2 of z = u / v_th - 1; autograd carries it to u (and so to weights) and to v_th.
"""
from __future__ import annotations

import torch
from torch import nn


class SpikeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, slope):
        ctx.save_for_backward(z)
        ctx.slope = slope
        return (z > 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad / (1.0 + ctx.slope * z.abs()) ** 2, None


class LIF(nn.Module):
    """One layer's LIF population; `forward` takes currents for all time steps at once: (T, ...)."""

    def __init__(self, threshold: float = 1.0, leak: float = 1.0, slope: float = 5.0):
        super().__init__()
        self.threshold = nn.Parameter(torch.tensor(float(threshold)))
        self.leak = nn.Parameter(torch.tensor(float(leak)))
        self.slope = float(slope)

    def effective(self):
        """Leak clamped to [0, 1] and a positive threshold: the values the neuron actually uses."""
        return self.leak.clamp(0.0, 1.0), self.threshold.clamp_min(1e-3)

    def forward(self, currents: torch.Tensor) -> torch.Tensor:
        leak, vth = self.effective()
        # start half-way to threshold: the spike count then rounds T*I/v_th instead of flooring it,
        # halving the conversion error at few time steps
        u = torch.full_like(currents[0], 0.5) * vth
        out = []
        for t in range(currents.shape[0]):
            u = leak * u + currents[t]
            s = SpikeFn.apply(u / vth - 1.0, self.slope)
            u = u - s * vth
            out.append(s * vth)
        return torch.stack(out)
