"""The equivalent low-bit ANN: the SNN's own architecture as a ReLU network whose hidden activations are quantized
to ceil(log2(T + 1)) bits, with weights at the SNN's k bits.

Why: a T-step SNN neuron emits at most T binary spikes per inference, T + 1 possible counts; an ANN activation of
ceil(log2(T + 1)) bits carries the same information (Yan et al., arXiv 2409.08290). Comparing the SNN with this
ANN, rather than with a 16-bit-activation CNN, asks whether spiking itself saves energy or only low precision does.

Activation quantization (PACT, Choi et al. 2018): y = min(relu(x), a) with a learnable clip `a` per layer, rounded
to 2^b - 1 uniform levels in [0, a]; the rounding passes gradients straight through, the clip learns from the
values it cuts. The clips start where the training loss is lowest (`calibrate`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .models import HSINet


def equivalent_ann_bits(time_steps: int) -> int:
    """Activation bits of the ANN that carries as much per neuron as T binary spikes: ceil(log2(T + 1))."""
    return max(1, math.ceil(math.log2(int(time_steps) + 1)))


def quantize_activation(x: torch.Tensor, clip: torch.Tensor, bits: int) -> torch.Tensor:
    """relu(x) clipped to [0, clip] and rounded to 2^bits - 1 levels; straight-through for the rounding."""
    c = clip.clamp_min(1e-4)
    y = torch.minimum(torch.relu(x), c)
    step = c / (2 ** bits - 1)
    return y + (torch.round(y / step) * step - y).detach()


class EquivalentANN(nn.Module):
    """An HSINet run as a CNN with b-bit activations (its weights fake-quantized to the net's bits as usual)."""

    def __init__(self, net: HSINet, bits: int):
        super().__init__()
        self.net = net
        self.act_bits = int(bits)
        self.n_classes = net.n_classes
        self.log_clips = nn.Parameter(torch.zeros(len(net.specs) - 1))
        """log of each hidden layer's clip (the output layer's scores are not quantized): in log space Adam moves a
        clip by a share of itself, whatever the layer's scale."""
        self._float_from = len(net.specs)
        """Layers from this index on run unquantized (only while `calibrate` sets the clips one layer at a time)."""

    @property
    def clips(self) -> torch.Tensor:
        return self.log_clips.exp()

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Each clip, layer by layer from the input, as the one among shares of that layer's 99.9th-percentile
        activation that gives the lowest training loss (cross-entropy on training patches `x`, labels `y`) with the
        layers before it already quantized and those after it not yet. A percentile alone would do at 8 bits;
        at 2-3 bits the best clip depends on which values the classes need, which only the loss knows."""
        was = self.training
        self.eval()
        top = {}

        def observe(i, t):
            if i < len(self.log_clips):
                a = torch.relu(t).flatten()[:2 ** 22].double()
                top[i] = max(float(torch.quantile(a, 0.999)), 1e-3) if a.numel() else 1.0

        self.net.spiking = False
        self.net(x, observer=observe)
        for i in range(len(self.log_clips)):
            self._float_from = i + 1
            best = None
            for share in CALIBRATION_SHARES:
                self.log_clips[i] = math.log(top[i] * share)
                loss = float(F.cross_entropy(self(x).flatten(1), y))
                if best is None or loss < best[0]:
                    best = (loss, share)
            self.log_clips[i] = math.log(top[i] * best[1])
        self._float_from = len(self.net.specs)
        self.train(was)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        clips = self.clips
        x = net.quantize_input(x).unsqueeze(1)
        for i, sp in enumerate(net.specs):
            x = net.apply_layer(i, x)
            if sp.role != "output":
                x = torch.relu(x) if i >= self._float_from else quantize_activation(x, clips[i], self.act_bits)
                x = net._drop(i, x)
        return x


CALIBRATION_SHARES = (0.05, 0.08, 0.12, 0.17, 0.25, 0.35, 0.5, 0.7, 1.0, 1.4)
"""Clips tried by `calibrate`, as shares of a layer's 99.9th-percentile activation."""
