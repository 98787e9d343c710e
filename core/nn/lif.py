"""Leaky integrate-and-fire neurons with soft reset and a surrogate gradient.

u[-1] = v_th / 2;  v[t] = leak * u[t-1] + I[t];  s[t] = H(v[t] / v_th - 1);  u[t] = v[t] - s[t] * v_th.
Soft reset keeps the residue, which matters at few time steps; starting half-way to threshold makes
the spike count round T*I/v_th instead of flooring it. Leak and threshold are trainable per layer.
The Heaviside step has zero gradient almost everywhere, so backward uses the fast-sigmoid derivative
1 / (1 + slope * |z|)^2 of z = v / v_th - 1, carried to the input, the threshold and the leak.

A spike is a binary event; the layer hands `s[t] * v_th` downstream so that the next layer's weights,
copied from the CNN, see activations on the CNN's scale (rate x threshold ~ ReLU output). At inference
v_th is a per-layer constant folded into the next layer's weight scale, so each spike still costs one
accumulate per target neuron.

The whole T-step loop and its backpropagation through time are one autograd function: the generic
autograd graph of the same loop spends most of an SNN training step in small element-wise kernels and
reductions for the two scalar parameters. `lif_reference` keeps the plain version as the test oracle.
"""
from __future__ import annotations

import torch
from torch import nn


class LIFFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, currents, leak, vth, slope):
        T = currents.shape[0]
        u = torch.full_like(currents[0], 0.5) * vth
        v_all = torch.empty_like(currents)
        s_all = torch.empty_like(currents)
        for t in range(T):
            v = torch.addcmul(currents[t], u, leak)
            v_all[t] = v
            s = (v > vth).to(currents.dtype)
            s_all[t] = s
            u = v - s * vth
        ctx.save_for_backward(v_all, s_all, leak, vth)
        ctx.slope = slope
        return s_all * vth

    @staticmethod
    def backward(ctx, grad_out):
        v_all, s_all, leak, vth = ctx.saved_tensors
        k, T = ctx.slope, v_all.shape[0]
        grad_in = torch.empty_like(v_all)
        gu = torch.zeros_like(v_all[0])
        g_th = torch.zeros((), dtype=v_all.dtype)
        g_leak = torch.zeros((), dtype=v_all.dtype)
        inv = 1.0 / vth
        for t in range(T - 1, -1, -1):
            v, s, go = v_all[t], s_all[t], grad_out[t]
            z = v * inv - 1.0
            sg = (1.0 + k * z.abs()).pow_(-2)  # surrogate ds/dz
            gs = (go - gu) * vth  # through out = s*vth and u = v - s*vth
            gs_sg = gs * sg
            gv = gu + gs_sg * inv
            # d/dvth: out = s*vth (+ go*s), u = v - s*vth (- gu*s), z = v/vth - 1 (- gs*sg*v/vth^2)
            g_th += ((go - gu) * s).sum() - (gs_sg * v).sum() * inv * inv
            grad_in[t] = gv
            u_prev = (v_all[t - 1] - s_all[t - 1] * vth) if t else torch.full_like(v, 0.5) * vth
            g_leak += (gv * u_prev).sum()
            gu = gv * leak
        g_th += gu.sum() * 0.5  # u[-1] = vth / 2
        return grad_in, g_leak.reshape(leak.shape), g_th.reshape(vth.shape), None


def lif_reference(currents, leak, vth, slope):
    """The same neuron written with plain autograd (slow; the oracle for LIFFunction's gradients)."""
    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return (z > 0).to(z.dtype)

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g / (1.0 + slope * z.abs()) ** 2

    u = torch.full_like(currents[0], 0.5) * vth
    out = []
    for t in range(currents.shape[0]):
        v = leak * u + currents[t]
        s = Spike.apply(v / vth - 1.0)
        u = v - s * vth
        out.append(s * vth)
    return torch.stack(out)


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
        if torch.is_grad_enabled():
            return LIFFunction.apply(currents.contiguous(), leak, vth, self.slope)
        return lif_inference(currents, leak, vth)


def lif_inference(currents, leak, vth):
    """Forward only, for classification: keeps one membrane tensor instead of the T-step history that
    backpropagation needs, and reads a constant (expanded) input without copying it T times."""
    out = torch.empty(currents.shape, dtype=currents.dtype)
    u = torch.full_like(currents[0], 0.5) * vth
    for t in range(currents.shape[0]):
        v = torch.addcmul(currents[t], u, leak)
        torch.mul(v > vth, vth, out=out[t])
        u = v.sub_(out[t])
    return out
