"""CNN -> SNN conversion: copy weights, then set each layer's firing threshold layer by layer.

Layer l's threshold is chosen among percentiles of its input currents, measured with layers < l already
spiking at their new thresholds, so each threshold sees the inputs it will really get. With T steps an
integrate-and-fire neuron under current I emits round(T*I/v)/T spikes per step (membrane starting at v/2), i.e. it represents
ReLU(I) quantized to T levels and clipped at v. A high percentile (e.g. 99.7) wastes those few levels
on rare outliers, a low one clips too much: the candidate percentile (up to `percentile`) with the
least squared error between ReLU(I) and that quantized value wins.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch

from .models import HSINet


@torch.no_grad()
def init_thresholds(net: HSINet, batches, percentile: float = 99.7, max_values: int = 2_000_000,
                    is_canceled: Optional[Callable[[], bool]] = None, seed: int = 0) -> list:
    """Set thresholds of `net` (already holding the CNN weights) from `batches` (list of (N,B,p,p))."""
    net.eval()
    net.spiking = True
    gen = torch.Generator().manual_seed(seed)
    thresholds = []
    n_hidden = len(net.neurons)
    for layer in range(n_hidden):
        values = []
        for x in batches:
            if is_canceled and is_canceled():
                from ..errors import Canceled
                raise Canceled("conversion canceled")
            cur = _currents_at(net, x.unsqueeze(1), layer).flatten()
            cur = cur[cur > 0]
            if cur.numel() > max_values // max(1, len(batches)):
                idx = torch.randint(0, cur.numel(), (max_values // max(1, len(batches)),), generator=gen)
                cur = cur[idx]
            values.append(cur)
        v = torch.cat(values) if values else torch.zeros(0)
        th = best_threshold(v.numpy(), net.time_steps, percentile)
        th = th if th > 1e-3 else 1.0
        net.neurons[layer].threshold.fill_(th)
        thresholds.append(th)
    return thresholds


CANDIDATES = (50.0, 70.0, 80.0, 90.0, 95.0, 97.0, 98.0, 99.0, 99.5, 99.7, 99.9, 100.0)


def best_threshold(currents: np.ndarray, time_steps: int, max_percentile: float = 99.7) -> float:
    """Threshold minimising E[(ReLU(I) - v/T * min(round(T*I/v), T))^2] over percentile candidates."""
    pos = currents[currents > 0].astype(np.float64)
    if pos.size == 0:
        return 1.0
    cands = [p for p in CANDIDATES if p <= max_percentile] or [max_percentile]
    best, best_err = None, np.inf
    for p in cands:
        v = float(np.percentile(pos, p))
        if v <= 0:
            continue
        q = v / time_steps * np.minimum(np.floor(time_steps * pos / v + 0.5), time_steps)
        err = float(np.mean((pos - q) ** 2))
        if err < best_err:
            best, best_err = v, err
    return best if best is not None else 1.0


def _currents_at(net: HSINet, x: torch.Tensor, layer: int) -> torch.Tensor:
    """Input currents of hidden `layer` over all time steps, with earlier layers spiking."""
    T, n = net.time_steps, x.shape[0]
    cur = net.apply_layer(0, x)
    if layer == 0:
        return cur
    s = net.neurons[0](cur.unsqueeze(0).expand(T, *cur.shape))
    for i in range(1, layer + 1):
        cur = net.apply_layer(i, s.flatten(0, 1))
        if i == layer:
            return cur
        s = net.neurons[i](cur.view(T, n, *cur.shape[1:]))
    raise AssertionError
