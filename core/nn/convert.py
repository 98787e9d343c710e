"""CNN -> SNN conversion: copy weights, then set each layer's firing threshold layer by layer.

Layer l's threshold is a high percentile of its input currents, measured with layers < l already
spiking at their new thresholds, so each threshold sees the spike statistics it will really get
(not the CNN's analog activations). A percentile below 100 ignores rare outliers that would otherwise
set a threshold so high that the layer hardly fires within few time steps.
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
        th = float(np.percentile(v.numpy(), percentile)) if v.numel() else 1.0
        th = th if th > 1e-3 else 1.0
        net.neurons[layer].threshold.fill_(th)
        thresholds.append(th)
    return thresholds


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
