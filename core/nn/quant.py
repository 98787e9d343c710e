"""Symmetric uniform k-bit weight quantization with a straight-through estimator.

Per-tensor scale = max|w| / (2^(k-1) - 1); codes lie in [-(2^(k-1)-1), 2^(k-1)-1]. The forward pass sees
quantized weights, the backward pass treats rounding as identity (STE), so latent float weights keep
learning. Quantizing already-quantized weights is the identity (the largest code maps to itself), so a
model loaded from its integer codes reproduces the trained network exactly.
"""
from __future__ import annotations

import torch

from .codes import from_codes, qmax, to_codes  # noqa: F401 - re-exported


def fake_quant(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Quantize-dequantize `w` to `bits` (0 = full precision) with a straight-through gradient."""
    if bits == 0:
        return w
    q = qmax(bits)
    scale = w.detach().abs().max().clamp_min(1e-12) / q
    wq = torch.round(w / scale).clamp(-q, q) * scale
    return w + (wq - w).detach()


def quantize_input(x: torch.Tensor, scale: torch.Tensor, bits: int) -> torch.Tensor:
    """k-bit integer input: codes round(x / scale * qmax) clipped to [-qmax, qmax], handed on as
    codes * scale / qmax (a constant the first layer's weight scale absorbs). x: (N, features, rows, cols);
    `scale` holds one value per feature (the model sets them all equal: HSINet.set_input_scale).

    With integer input the first layer multiplies `bits`-bit inputs by k-bit weights (costed so in
    core/energy/costs.py). Element-wise, so padding, windows and patches stay interchangeable. No gradient
    is needed: nothing learnable lies before it."""
    q = qmax(bits)
    s = scale.to(x.dtype).view(1, -1, *([1] * (x.dim() - 2)))
    return torch.round((x / s).clamp(-1.0, 1.0) * q) * (s / q)
