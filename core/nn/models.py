"""The iso-architecture networks: one definition that runs as a CNN (ReLU) or as an SNN (LIF).

Every layer is a convolution, dense layers included (a dense layer is a convolution whose kernel covers
its whole input), so the same weights classify one patch (output 1x1) or a whole padded window at once
(output = window size): full-scene inference evaluates each convolution once instead of once per
pixel's patch, with identical results.

hybrid: 3-D convs over (spectrum, rows, cols) -> fold spectrum into channels -> 2-D convs -> dense.
3d:     3-D convs throughout (the 2-D stage becomes 3-D with spectral kernel 3) -> dense.
"""
from __future__ import annotations

from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..config.schema import ModelConfig
from .lif import LIF
from .quant import fake_quant, quantize_input
from .specs import LayerSpec, build_specs  # noqa: F401 - re-exported


class HSINet(nn.Module):
    """Spectral-spatial classifier. `spiking` switches ReLU <-> LIF; weights are fake-quantized to `bits`."""

    def __init__(self, cfg: ModelConfig, in_bands: int, n_classes: int, bits: int = 0,
                 time_steps: int = 5, slope: float = 5.0, leak_init: float = 1.0, leak_mode: str = "trained",
                 init: bool = True, membrane_bits: int = 0):
        """`init=False` leaves the weights uninitialised for a caller that fills them (loading a model file), so
        that loading draws nothing from torch's global random generator."""
        super().__init__()
        self.cfg, self.in_bands, self.n_classes = cfg, in_bands, n_classes
        self.bits, self.time_steps = bits, time_steps
        self.input_bits = int(getattr(cfg, "input_bits", 0) or 0)
        self.register_buffer("input_scale", torch.ones(in_bands))
        """Per-feature scale of the k-bit input (`set_input_scale`); unused when input_bits is 0."""
        self.specs = build_specs(cfg, in_bands, n_classes)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for sp in self.specs:
            w = torch.zeros(sp.out_ch, sp.in_ch, *sp.kernel)
            b = torch.zeros(sp.out_ch)
            if init:
                nn.init.kaiming_uniform_(w, a=5 ** 0.5)
                bound = 1 / sp.fan_in ** 0.5
                b.uniform_(-bound, bound)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
        self.leak_mode, self.membrane_bits = leak_mode, int(membrane_bits)
        self.neurons = nn.ModuleList(LIF(1.0, leak_init, slope, leak_mode, self.membrane_bits)
                                     for _ in self.specs[:-1])
        self.spiking = False
        self.dropout = cfg.dropout
        self.spike_maps: Optional[list] = None
        """When a list, forward_snn appends each spiking layer's (index, spikes in {0,1}) to it, differentiably
        (for the spike-rate penalty of core/training/trainer.py)."""

    # -- one layer -------------------------------------------------------------------------------
    def qweight(self, i: int) -> torch.Tensor:
        return fake_quant(self.weights[i], self.bits)

    def apply_layer(self, i: int, x: torch.Tensor, bias: bool = True) -> torch.Tensor:
        sp = self.specs[i]
        if sp.fold_before:
            x = x.flatten(1, 2)
        conv = F.conv3d if sp.kind == "conv3d" else F.conv2d
        y = conv(x, self.qweight(i), self.biases[i] if bias else None)
        if sp.squeeze_after:
            y = y.squeeze(2)
        return y

    def _drop(self, i, x, shared_over_time=False):
        if not (self.training and self.dropout > 0 and self.specs[i].role == "dense"):
            return x
        if not shared_over_time:
            return F.dropout(x, self.dropout, True)
        mask = torch.bernoulli(torch.full_like(x[0], 1 - self.dropout)) / (1 - self.dropout)
        return x * mask

    # -- forward passes --------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, observer=None) -> torch.Tensor:
        """x: (N, bands, rows, cols) -> logits (N, classes, rows-p+1, cols-p+1).

        `observer(i, t)`, when given, sees every layer's result: the CNN's pre-activation outputs, and the
        SNN's spike events of each hidden layer ((T, N, ...) in {0, 1}) and its output scores. Operation
        counting (core/energy/ops.py) is built on it, so the counts come from the very pass that classifies."""
        x = self.quantize_input(x).unsqueeze(1)  # a channel axis for the 3-D convolutions
        return self.forward_snn(x, observer) if self.spiking else self.forward_cnn(x, observer)

    def quantize_input(self, x: torch.Tensor) -> torch.Tensor:
        """The first layer's input: as given, or k-bit integer codes (ModelConfig.input_bits) per feature."""
        return quantize_input(x, self.input_scale, self.input_bits) if self.input_bits else x

    @torch.no_grad()
    def set_input_scale(self, features: torch.Tensor, percentile: float = 99.9):
        """The input scale from (N, bands) training features: the `percentile` of |x| over all features (values
        beyond it clip to the largest code). One scale for every feature: the integer codes keep the features'
        relative sizes, and the first layer's weight scale absorbs it (a per-feature scale would not fold into a
        convolution sliding along the spectrum). Only a k-bit input (input_bits > 0) uses it."""
        a = features.abs().double().flatten()
        s = float(torch.quantile(a[:2 ** 24], percentile / 100.0)) if a.numel() else 1.0
        self.input_scale.fill_(s if s > 1e-6 else 1.0)

    def forward_cnn(self, x, observer=None):
        for i, sp in enumerate(self.specs):
            x = self.apply_layer(i, x)
            if observer is not None:
                observer(i, x)
            if sp.role != "output":
                x = self._drop(i, torch.relu(x))
        return x

    def forward_snn(self, x, observer=None):
        """Direct analog input: the first layer's weighted sum is the same at every step, so it is
        computed once and fed to the neurons T times. Later layers run all T steps as one batch
        (layer by layer: the network is feed-forward, so this equals step-by-step simulation)."""
        T, n = self.time_steps, x.shape[0]
        cur = self.apply_layer(0, x)
        s = self._spikes(0, cur.unsqueeze(0).expand(T, *cur.shape), observer)
        for i in range(1, len(self.specs)):
            sp = self.specs[i]
            if sp.role == "output":
                # the output layer integrates without firing: mean over T of W s_t + b = W mean(s) + b
                out = self.apply_layer(i, s.mean(0))
                if observer is not None:
                    observer(i, out)
                return out
            cur = self.apply_layer(i, s.flatten(0, 1))
            s = self._spikes(i, cur.view(T, n, *cur.shape[1:]), observer)
        raise AssertionError("network has no output layer")

    def _spikes(self, i: int, currents: torch.Tensor, observer=None) -> torch.Tensor:
        s = self.neurons[i](currents)
        if observer is not None:
            observer(i, (s != 0).to(s.dtype))
        if self.spike_maps is not None:
            self.spike_maps.append((i, s / self.neurons[i].effective()[1]))
        return self._drop(i, s, shared_over_time=True)

    def dense_macs(self) -> List[float]:
        """Per-sample multiply-accumulates of every layer when run as a CNN on one patch (the spike
        penalty's weights; core/energy/ops.py counts the rest)."""
        return [float(n * sp.fan_in) for n, sp in zip(self.layer_neurons(), self.specs)]

    def layer_neurons(self) -> List[int]:
        """Neurons (output elements) of every layer for one patch."""
        out: list = []
        with torch.no_grad():
            was, was_training = self.spiking, self.training
            self.spiking = False
            self.eval()  # no dropout: it would draw from the global RNG and shift the seeded run
            try:
                self(torch.zeros(1, self.in_bands, self.cfg.patch_size, self.cfg.patch_size),
                     observer=lambda i, t: out.append(t[0].numel()))
            finally:
                self.spiking = was
                self.train(was_training)
        return out

    @torch.no_grad()
    def project_neurons(self):
        """Keep leaks in [0, 1] and thresholds positive after an optimizer step (see LIF.project_)."""
        for n in self.neurons:
            n.project_()

    # -- state for conversion / model files ------------------------------------------------------
    def neuron_params(self):
        out = []
        for n in self.neurons:
            leak, vth = n.effective()
            out.append({"threshold": float(vth.detach()), "leak": float(leak.detach()), "leak_mode": n.leak_mode})
        return out

    def set_thresholds(self, values):
        with torch.no_grad():
            for n, v in zip(self.neurons, values):
                n.threshold.fill_(float(v))

    def layer_table(self):
        return [{"name": sp.name, "kind": sp.kind, "in": sp.in_ch, "out": sp.out_ch,
                 "kernel": list(sp.kernel), "role": sp.role} for sp in self.specs]

    @property
    def receptive_field(self) -> int:
        return self.cfg.patch_size
