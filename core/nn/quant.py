"""Symmetric uniform k-bit weight quantization with a straight-through estimator.

Per-tensor scale = max|w| / (2^(k-1) - 1); codes lie in [-(2^(k-1)-1), 2^(k-1)-1]. The forward pass sees
quantized weights, the backward pass treats rounding as identity (STE), so latent float weights keep
learning. Quantizing already-quantized weights is the identity (the largest code maps to itself), so a
model loaded from its integer codes reproduces the trained network exactly.
"""
from __future__ import annotations

import numpy as np
import torch


def qmax(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def fake_quant(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Quantize-dequantize `w` to `bits` (0 = full precision) with a straight-through gradient."""
    if bits == 0:
        return w
    q = qmax(bits)
    scale = w.detach().abs().max().clamp_min(1e-12) / q
    wq = torch.round(w / scale).clamp(-q, q) * scale
    return w + (wq - w).detach()


def to_codes(w: np.ndarray, bits: int):
    """Integer codes and scale for storage; (float32 array, 1.0) at full precision."""
    if bits == 0:
        return w.astype(np.float32), 1.0
    q = qmax(bits)
    scale = float(max(np.abs(w).max(), 1e-12) / q)
    codes = np.clip(np.round(w / scale), -q, q)
    return codes.astype(np.int8 if bits <= 8 else np.int16), scale


def from_codes(codes: np.ndarray, scale: float) -> np.ndarray:
    return (codes.astype(np.float32) * np.float32(scale)).astype(np.float32)


def quantize_input(x: torch.Tensor, scale: torch.Tensor, bits: int) -> torch.Tensor:
    """k-bit integer input: codes round(x / scale * qmax) clipped to [-qmax, qmax], handed on as
    codes * scale / qmax (a constant the first layer's weight scale absorbs). x: (N, features, rows, cols);
    `scale` holds one value per feature (the model sets them all equal: HSINet.set_input_scale).

    With integer input the first layer multiplies `bits`-bit inputs by k-bit weights (costed so in
    core/energy.py). Element-wise, so padding, windows and patches stay interchangeable. No gradient
    is needed: nothing learnable lies before it."""
    q = qmax(bits)
    s = scale.to(x.dtype).view(1, -1, *([1] * (x.dim() - 2)))
    return torch.round((x / s).clamp(-1.0, 1.0) * q) * (s / q)
