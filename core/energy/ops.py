"""What the networks compute, counted per layer and per kind of operation (core/energy/costs.py prices it).

Counts come from the real forward pass (HSINet's observer hook), in two views:
- per patch: one classified pixel = one patch inference, the convention of the SNN literature;
- per map pixel: what `classify` really does. It runs each convolution once over a window (fully
  convolutional), so every neuron is computed once per image position, not once per patch that holds
  it. Each layer's neuron at an image position is charged to that position's pixel, and the accumulates
  a spike triggers to the position of the neuron that receives them. These per-pixel counts are exact
  for the pixel at a patch's centre (its neurons there see the same inputs as in the window), so the
  energy sample gives them too. The overlap of neighbouring windows' halos is recomputation that
  `classify` adds on top and that is not counted.

Kinds counted, per sample:
- neurons: output elements of the layer (each spiking neuron leaks, compares, and integrates a bias at
  every step; each CNN neuron adds a bias and is rectified once);
- cnn_macs: neurons x fan-in (dense multiply-accumulates when run as a CNN);
- spikes: spike events of a hidden SNN layer over all T steps (each one resets its neuron);
- acs: accumulates arriving at the layer: every spike of the layer before reaches out_channels neurons at
  every output position whose receptive field holds it (a convolution of the spike events with an
  all-ones kernel, times out_channels).
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..nn.lif import leak_kind


def _ones_conv(sp, events: torch.Tensor) -> torch.Tensor:
    """Accumulates per receiving neuron position for spike events (T*N, C, [D], H, W) of the layer
    before `sp`: (T*N, [D'], H', W'), to be multiplied by sp.out_ch."""
    x = events
    if sp.fold_before:
        x = x.flatten(1, 2)
    ones = torch.ones(1, sp.in_ch, *sp.kernel, dtype=x.dtype)
    y = (F.conv3d if sp.kind == "conv3d" else F.conv2d)(x, ones)[:, 0]
    if sp.squeeze_after:
        y = y.squeeze(1)
    return y


class _Tally:
    """Observer that counts one forward pass of the SNN (or, in `cnn` mode, only the shapes)."""

    def __init__(self, net, crop_to: Optional[tuple] = None):
        self.net = net
        self.T = net.time_steps
        L = len(net.specs)
        self.spikes = [0.0] * L
        self.acs = [0.0] * L
        self.fc_spikes = [0.0] * L
        self.fc_acs = [0.0] * L
        self.neurons = [0] * L
        self.per_position = [0] * L
        self.crop_to = crop_to
        self.spike_maps: List[Optional[np.ndarray]] = [None] * L
        self.ac_maps: List[Optional[np.ndarray]] = [None] * L
        self.n = 0

    def _centre(self, m: torch.Tensor) -> float:
        h, w = m.shape[-2:]
        return float(m[..., h // 2, w // 2].sum())

    def _crop(self, m: torch.Tensor) -> np.ndarray:
        h, w = self.crop_to
        H, W = m.shape[-2:]
        r, c = (H - h) // 2, (W - w) // 2
        return m[r:r + h, c:c + w].double().numpy()

    def __call__(self, i: int, t: torch.Tensor):
        net, sp = self.net, self.net.specs[i]
        if sp.role == "output":  # the readout: no spikes of its own
            self.neurons[i] = t[0].numel()
            self.per_position[i] = t[0].numel() // (t.shape[-1] * t.shape[-2])
            return
        # t: spike events (T, N, C, [D], H, W)
        self.n = t.shape[1]
        self.neurons[i] = t[0, 0].numel()
        self.per_position[i] = t[0, 0].numel() // (t.shape[-1] * t.shape[-2])
        per_pos = t.sum(dim=tuple(range(t.dim() - 2)))  # (H, W): spikes over steps, samples, channels, depth
        self.spikes[i] += float(per_pos.sum())
        self.fc_spikes[i] += self._centre(per_pos)
        nxt = net.specs[i + 1]
        arriving = _ones_conv(nxt, t.flatten(0, 1))  # (T*N, [D'], H', W')
        arriving = arriving.reshape(-1, arriving.shape[-2], arriving.shape[-1]).sum(0) * nxt.out_ch
        self.acs[i + 1] += float(arriving.sum())
        self.fc_acs[i + 1] += self._centre(arriving)
        if self.crop_to is not None:
            self.spike_maps[i] = self._crop(per_pos)
            self.ac_maps[i + 1] = self._crop(arriving)


def _layer_rows(net, tally: _Tally, n: int) -> List[dict]:
    T = net.time_steps
    rows = []
    neuron_params = net.neuron_params()
    for i, sp in enumerate(net.specs):
        hidden = sp.role != "output"
        row = {
            "name": sp.name, "kind": sp.kind, "role": sp.role, "fan_in": sp.fan_in, "out_channels": sp.out_ch,
            "weights": int(sp.out_ch * sp.fan_in),
            "neurons": tally.neurons[i], "neurons_per_position": tally.per_position[i],
            "cnn_macs": float(tally.neurons[i] * sp.fan_in),
            "fc_cnn_macs": float(tally.per_position[i] * sp.fan_in),
            "spikes": tally.spikes[i] / max(n, 1) if hidden else None,
            "fc_spikes": tally.fc_spikes[i] / max(n, 1) if hidden else None,
            "acs": tally.acs[i] / max(n, 1),
            "fc_acs": tally.fc_acs[i] / max(n, 1),
            "spike_rate": (tally.spikes[i] / (n * tally.neurons[i] * T)) if hidden and n and tally.neurons[i] else None,
        }
        if hidden:
            p = neuron_params[i]
            row.update(leak=p["leak"], leak_kind=leak_kind(p["leak"]), threshold=p["threshold"])
        rows.append(row)
    return rows


@torch.no_grad()
def count_ops(net, batches) -> dict:
    """Per-sample operation counts of `net` (an HSINet) over patch batches (N, bands, p, p): per patch and,
    for the patch centres, per map pixel (see the module docstring)."""
    was_spiking, was_training = net.spiking, net.training
    net.eval()
    n = 0
    tally = _Tally(net)
    try:
        net.spiking = True
        for x in batches:
            net(x, observer=tally)
            n += x.shape[0]
    finally:
        net.spiking = was_spiking
        net.train(was_training)
    return {"pixels": n, "time_steps": net.time_steps, "weight_bits": net.bits, "input_bits": net.input_bits,
            "membrane_bits": net.membrane_bits,
            "input_values": int(net.in_bands * net.cfg.patch_size ** 2), "layers": _layer_rows(net, tally, n)}


@torch.no_grad()
def window_op_maps(net, x: torch.Tensor, out_hw: tuple):
    """Run the SNN on one padded window x (1, bands, h + 2r, w + 2r) and return (logits, tally): per layer the
    (h, w) maps of spikes and of arriving accumulates charged to each of the window's own pixels."""
    tally = _Tally(net, crop_to=out_hw)
    was = net.spiking
    net.spiking = True
    try:
        out = net(x, observer=tally)
    finally:
        net.spiking = was
    return out, tally
