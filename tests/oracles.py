"""Test oracles: plain, slow versions of what the engine does fast, kept beside the tests that compare against
them (and used by bench/speed.py's patch-by-patch comparison), not in the engine.

- `pad_cube` + `PatchSource`: the whole preprocessed cube padded at once and patches gathered around pixels: what
  the streaming core/data/patches.PatchBank must equal;
- `predict_padded`: fully convolutional class probabilities of that padded cube: what the windowed
  core/mapping/predict.py and core/mapping/evaluation.predict_at must equal;
- `lif_reference`: the LIF neuron with plain autograd: the oracle of core/nn/lif.LIFFunction's gradients.
"""
from __future__ import annotations

import numpy as np
import torch

from hypersnn.core.errors import Canceled
from hypersnn.core.io.raster import iter_windows, pad_mode


def pad_cube(cube: np.ndarray, patch_size: int) -> np.ndarray:
    """(H, W, B) -> (B, H+2r, W+2r) float32, reflect-padded (edge-padded where the image is too small)."""
    r = patch_size // 2
    h, w = cube.shape[:2]
    padded = np.pad(cube, ((r, r), (r, r), (0, 0)), mode=pad_mode(h, w, patch_size))
    return np.ascontiguousarray(padded.transpose(2, 0, 1), dtype=np.float32)


class PatchSource:
    """Gathers (N, B, p, p) patches around pixel coordinates from a padded cube."""

    def __init__(self, padded: np.ndarray, patch_size: int):
        self.padded = torch.from_numpy(padded)
        self.p = patch_size
        off = torch.arange(patch_size)
        self._dr = off[:, None]
        self._dc = off[None, :]

    def gather(self, rows: np.ndarray, cols: np.ndarray) -> torch.Tensor:
        r = torch.as_tensor(rows, dtype=torch.long)[:, None, None] + self._dr
        c = torch.as_tensor(cols, dtype=torch.long)[:, None, None] + self._dc
        # (B, N, p, p) -> (N, B, p, p)
        return self.padded[:, r, c].permute(1, 0, 2, 3).contiguous()


def predict_padded(net, padded: np.ndarray, patch_size: int, window: int = 64, is_canceled=None) -> np.ndarray:
    """Class probabilities (H, W, K) for every pixel of an already padded (B, H+2r, W+2r) cube,
    fully convolutionally with the torch network `net` (the trainer's cube: used to assess on all test
    pixels at once)."""
    import torch
    with torch.no_grad():
        return _predict_padded(net, padded, patch_size, window, is_canceled, torch)


def _predict_padded(net, padded, patch_size, window, is_canceled, torch):
    net.eval()
    r = patch_size // 2
    b, hp, wp = padded.shape
    h, w = hp - 2 * r, wp - 2 * r
    out = np.zeros((h, w, net.n_classes), np.float32)
    t = torch.from_numpy(padded)
    for r0, c0, hh, ww in iter_windows(h, w, window):
        if is_canceled and is_canceled():
            raise Canceled("assessment canceled")
        x = t[:, r0:r0 + hh + 2 * r, c0:c0 + ww + 2 * r][None]
        out[r0:r0 + hh, c0:c0 + ww] = torch.softmax(net(x)[0], 0).permute(1, 2, 0).numpy()
    return out


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
