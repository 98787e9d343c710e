"""k-bit weight codes as the model file stores them (numpy only: read where torch may be absent).

Symmetric per-tensor scale = max|w| / (2^(k-1) - 1); codes lie in [-(2^(k-1)-1), 2^(k-1)-1].
"""
from __future__ import annotations

import numpy as np


def qmax(bits: int) -> int:
    return 2 ** (bits - 1) - 1


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


def requantize(w: np.ndarray, bits: int) -> np.ndarray:
    """What `quant.fake_quant` makes of float32 weights `w`, computed in numpy float32 step for step (the
    ONNX graph carries the weights the torch network really uses)."""
    if bits == 0:
        return np.asarray(w, np.float32)
    w = np.asarray(w, np.float32)
    q = qmax(bits)
    scale = np.float32(max(np.abs(w).max(), np.float32(1e-12))) / np.float32(q)
    return (np.clip(np.round(w / scale), -q, q) * scale).astype(np.float32)
