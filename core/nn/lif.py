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

A k-bit membrane (`membrane_bits` k > 0) is what narrow hardware keeps: v lies on the grid of step
v_th / 2^(k-2) and saturates at [-2 v_th, 2 v_th - step] (k-bit two's complement, the threshold at 2^(k-2) steps, so
v_th, v_th / 2 and the soft reset are exact). Each new v is rounded to that grid and clamped after the leak and the
input are added, in training as at inference, so training sees the rounding and the saturation; backward passes
straight through them (the surrogate is taken at the stored v). Every accumulate, compare and reset of the layer
is then k bits wide, which core/energy/costs.py prices.

The whole T-step loop and its backpropagation through time are one autograd function: the generic
autograd graph of the same loop spends most of an SNN training step in small element-wise kernels and
reductions for the two scalar parameters. tests/oracles.py keeps the plain version as the test oracle.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .specs import LEAK_MODES, MEMBRANE_BITS  # noqa: F401 - re-exported


class LIFFunction(torch.autograd.Function):
    """The T-step loop and its backpropagation through time. Only the membrane recurrence is sequential; the
    surrogate derivative, the spikes and the sums for threshold and leak are taken over all steps at once, so each
    step costs three element-wise kernels forward and three backward (half the memory passes of a step-by-step
    version, which is what an SNN training step spends most of its time on)."""

    @staticmethod
    def forward(ctx, currents, leak, vth, slope, membrane_bits=0):
        T = currents.shape[0]
        u = torch.full_like(currents[0], 0.5) * vth
        v_all = torch.empty_like(currents)
        for t in range(T):
            v = torch.addcmul(currents[t], u, leak, out=v_all[t])
            if membrane_bits:
                quantize_membrane_(v, vth, membrane_bits)
            u = torch.where(v > vth, v - vth, v)  # soft reset
        ctx.save_for_backward(v_all, leak, vth)
        ctx.slope = slope
        return (v_all > vth).to(currents.dtype) * vth

    @staticmethod
    def backward(ctx, grad_out):
        # v[t] = leak u[t-1] + I[t], s[t] = H(v[t]/vth - 1), out[t] = s[t] vth, u[t] = v[t] - s[t] vth, and
        # ds/dv = sg / vth with the surrogate sg = (1 + slope |v/vth - 1|)^-2. With gu[t] = dL/du[t]:
        #   dL/dv[t] = gu[t] + (go[t] - gu[t]) sg[t],   gu[t-1] = leak dL/dv[t],   dL/dI[t] = dL/dv[t]
        #   dL/dvth  = sum_t (go[t] - gu[t]) (s[t] - sg[t] v[t] / vth) + gu[-1] / 2
        #   dL/dleak = sum_t dL/dv[t] u[t-1]
        v_all, leak, vth = ctx.saved_tensors
        T = v_all.shape[0]
        inv = 1.0 / vth
        sg = (v_all * inv - 1.0).abs_().mul_(ctx.slope).add_(1.0).pow_(-2)
        grad_in = torch.empty_like(v_all)
        gu_all = torch.empty_like(v_all)  # dL/du[t]
        gu = torch.zeros_like(v_all[0])
        for t in range(T - 1, -1, -1):
            gu_all[t] = gu
            gv = torch.addcmul(gu, grad_out[t] - gu, sg[t], out=grad_in[t])
            gu = gv * leak
        s_all = (v_all > vth).to(v_all.dtype)
        d = grad_out - gu_all
        g_th = (d * s_all).sum() - (d * sg * v_all).sum() * inv + gu.sum() * 0.5
        u_prev = torch.empty_like(v_all)
        u_prev[0] = 0.5 * vth
        if T > 1:
            torch.addcmul(v_all[:-1], s_all[:-1], vth, value=-1.0, out=u_prev[1:])
        g_leak = (grad_in * u_prev).sum()
        return grad_in, g_leak.reshape(leak.shape), g_th.reshape(vth.shape), None, None


def quantize_membrane_(v: torch.Tensor, vth: torch.Tensor, bits: int) -> torch.Tensor:
    """In place: v rounded (half to even) to the grid of step vth / 2^(bits-2) and clamped to the k-bit range
    [-2^(bits-1), 2^(bits-1) - 1] steps. The ONNX graph (core/models/onnx_graph.py) does the same in float32:
    multiply by 2^(bits-2) / vth, Round, Clip, multiply by vth / 2^(bits-2)."""
    levels = float(2 ** (bits - 2))
    inv = levels / vth
    step = vth / levels
    return v.mul_(inv).round_().clamp_(-2.0 * levels, 2.0 * levels - 1.0).mul_(step)


POW2_MAX_SHIFT = 15
"""Largest shift n of a power-of-two leak 1 - 2^-n: with a 16-bit membrane, u - (u >> 16) is u, i.e. no leak."""


def pow2_leak(leak: torch.Tensor) -> torch.Tensor:
    """The nearest leak of the form 1 - 2^-n (n = 1..POW2_MAX_SHIFT), or exactly 1 when 1 - leak is below
    2^-(POW2_MAX_SHIFT + 0.5). Hardware applies it as u - (u >> n): a shift and one add, no multiply."""
    gap = (1.0 - leak.detach()).clamp_min(0.0)
    n = torch.round(-torch.log2(gap.clamp_min(2.0 ** -(POW2_MAX_SHIFT + 1)))).clamp(1, POW2_MAX_SHIFT)
    q = 1.0 - torch.pow(2.0, -n)
    return torch.where(gap < 2.0 ** -(POW2_MAX_SHIFT + 0.5), torch.ones_like(q), q)


def leak_kind(leak: float) -> str:
    """How a leak value is applied per neuron and step: 'none' (exactly 1, integrate-and-fire: no
    operation), 'shift' (1 - 2^-n: u - (u >> n), one add) or 'multiply' (any other value)."""
    if leak == 1.0:
        return "none"
    gap = 1.0 - leak
    if 0.0 < gap <= 0.5:
        n = -math.log2(gap)
        if abs(n - round(n)) < 1e-9 and 1 <= round(n) <= POW2_MAX_SHIFT:
            return "shift"
    return "multiply"


class LIF(nn.Module):
    """One layer's LIF population; `forward` takes currents for all time steps at once: (T, ...).

    Leak modes (`TrainConfig.leak_mode`):
    - trained: any value in [0, 1], learned. The clamp to [0, 1] passes its gradient straight through and
      the trainer projects the parameter back into [0, 1] after every step (`project_`), so a leak that
      once reached 1 can still move below it (a plain clamp would pass no gradient above 1, and the leak
      would stay at 1 for good).
    - pow2: learned the same way, but the neuron uses the nearest 1 - 2^-n (or 1): a shift and an add in
      hardware instead of a multiply (straight-through gradient for the rounding).
    - none: fixed at 1 (integrate-and-fire), not trained.
    """

    def __init__(self, threshold: float = 1.0, leak: float = 1.0, slope: float = 5.0, leak_mode: str = "trained",
                 membrane_bits: int = 0):
        super().__init__()
        if leak_mode not in LEAK_MODES:
            raise ValueError(f"leak_mode must be one of {LEAK_MODES}, got {leak_mode!r}")
        if membrane_bits not in MEMBRANE_BITS:
            raise ValueError(f"membrane_bits must be 0 or 4..16, got {membrane_bits!r}")
        self.membrane_bits = int(membrane_bits)
        self.threshold = nn.Parameter(torch.tensor(float(threshold)))
        self.leak = nn.Parameter(torch.tensor(1.0 if leak_mode == "none" else float(leak)),
                                 requires_grad=leak_mode != "none")
        self.slope = float(slope)
        self.leak_mode = leak_mode

    def effective(self):
        """The leak and threshold the neuron actually uses: leak in [0, 1] (power-of-two in pow2 mode),
        threshold >= 1e-3; both with straight-through gradients to the parameters."""
        leak = self.leak
        q = leak.clamp(0.0, 1.0)
        if self.leak_mode == "pow2":
            q = pow2_leak(q)
        leak = leak + (q - leak).detach()
        return leak, self.threshold.clamp_min(1e-3)

    @torch.no_grad()
    def project_(self):
        """Keep the trained parameters where they are meaningful (called after each optimizer step)."""
        self.leak.clamp_(0.0, 1.0)
        self.threshold.clamp_(min=1e-3)

    def forward(self, currents: torch.Tensor) -> torch.Tensor:
        leak, vth = self.effective()
        if torch.is_grad_enabled():
            return LIFFunction.apply(currents.contiguous(), leak, vth, self.slope, self.membrane_bits)
        return lif_inference(currents, leak, vth, self.membrane_bits)


def lif_inference(currents, leak, vth, membrane_bits: int = 0):
    """Forward only, for classification: keeps one membrane tensor instead of the T-step history that
    backpropagation needs, and reads a constant (expanded) input without copying it T times."""
    out = torch.empty(currents.shape, dtype=currents.dtype)
    u = torch.full_like(currents[0], 0.5) * vth
    for t in range(currents.shape[0]):
        v = torch.addcmul(currents[t], u, leak)
        if membrane_bits:
            quantize_membrane_(v, vth, membrane_bits)
        torch.mul(v > vth, vth, out=out[t])
        u = v.sub_(out[t])
    return out
