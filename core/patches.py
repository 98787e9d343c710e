"""Padded patch extraction for training and evaluation.

The preprocessed cube is padded once by reflection (half a patch on each side), the same way
full-scene inference pads image borders, so a pixel's training patch equals what the fully
convolutional classifier sees around it. Invalid pixels (nodata, non-finite) are set to 0 after
standardisation, i.e. the training mean, and are never used as patch centres.
"""
from __future__ import annotations

import numpy as np
import torch


def pad_cube(cube: np.ndarray, patch_size: int) -> np.ndarray:
    """(H, W, B) -> (B, H+2r, W+2r) float32, reflect-padded (edge-padded where the image is too small)."""
    r = patch_size // 2
    h, w = cube.shape[:2]
    mode = "reflect" if min(h, w) > r else "edge"
    padded = np.pad(cube, ((r, r), (r, r), (0, 0)), mode=mode)
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


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random flips and quarter turns per batch (land cover has no preferred orientation)."""
    k = int(torch.randint(0, 4, (1,), generator=gen))
    if k:
        x = torch.rot90(x, k, dims=(2, 3))
    if int(torch.randint(0, 2, (1,), generator=gen)):
        x = torch.flip(x, dims=(3,))
    return x
