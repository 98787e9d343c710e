"""Padded patch extraction for training and evaluation.

The preprocessed cube is padded once by reflection (half a patch on each side), the same way
full-scene inference pads image borders, so a pixel's training patch equals what the fully
convolutional classifier sees around it. Invalid pixels (nodata, non-finite) are set to 0 after
standardisation, i.e. the training mean, and are never used as patch centres.
"""
from __future__ import annotations

import numpy as np
import torch

from ..io.raster import pad_mode  # noqa: F401 - re-exported: the border rule lives beside the windows


def augment(x: torch.Tensor, gen: torch.Generator, spectral: "SpectralAugment" = None,
            context_dropout: float = 0.0) -> torch.Tensor:
    """Random flips and quarter turns per batch (land cover has no preferred orientation), then the spectral
    augmentation and the context dropout when they are on."""
    k = int(torch.randint(0, 4, (1,), generator=gen))
    if k:
        x = torch.rot90(x, k, dims=(2, 3))
    if int(torch.randint(0, 2, (1,), generator=gen)):
        x = torch.flip(x, dims=(3,))
    if spectral is not None and spectral.active:
        x = spectral(x, gen)
    if context_dropout > 0:
        x = drop_context(x, context_dropout, gen)
    return x


def drop_context(x: torch.Tensor, rate: float, gen: torch.Generator) -> torch.Tensor:
    """Each patch, with probability `rate`, becomes its centre pixel's spectrum repeated over the whole patch.

    Why: a patch network can learn a training field by its neighbourhood (texture, borders, the next field) rather
    than by the class's spectrum. That holds within the training fields and fails on fields it never saw: on
    region-grouped Indian Pines splits the same network scored far better from the centre spectrum alone. Patches
    without their context make the spectrum carry the class; the others keep what context is worth."""
    r = x.shape[-1] // 2
    keep = (torch.rand((x.shape[0], 1, 1, 1), generator=gen) >= rate).to(x.dtype)
    return keep * x + (1.0 - keep) * x[:, :, r:r + 1, r:r + 1]


class SpectralAugment:
    """Illumination and noise variation of training patches, in the preprocessed feature space.

    Why: a map is applied to areas lit, sloped and mixed differently from the training polygons. Per patch the
    raw reflectance is scaled by a ~ U(1 - illumination, 1 + illumination): through the affine preprocessing this
    is f -> a f + (a - 1) c (Preprocessor.illumination_offset). Then Gaussian noise with a standard deviation of
    `noise` times each feature's training standard deviation is added to every pixel. Draws come from the
    trainer's seeded, checkpointed augmentation generator, so a seed still fixes the run."""

    def __init__(self, illumination: float, noise: float, offset, feature_std):
        self.illumination, self.noise = float(illumination), float(noise)
        self.offset = torch.as_tensor(np.asarray(offset, np.float32)).view(1, -1, 1, 1)
        self.std = torch.as_tensor(np.asarray(feature_std, np.float32)).view(1, -1, 1, 1)

    @property
    def active(self) -> bool:
        return self.illumination > 0 or self.noise > 0

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.illumination > 0:
            a = 1.0 + self.illumination * (2.0 * torch.rand((x.shape[0], 1, 1, 1), generator=gen) - 1.0)
            x = a * x + (a - 1.0) * self.offset
        if self.noise > 0:
            x = x + self.noise * self.std * torch.randn(x.shape, generator=gen)
        return x


def source_index(i: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Image index (0..n-1) that padded position `i` (image coordinates, may be < 0 or >= n) reads under
    `mode`, exactly as np.pad does for pads up to n - 1 (reflect) or any pad (edge)."""
    i = np.asarray(i, dtype=np.int64)
    if mode == "edge":
        return np.clip(i, 0, n - 1)
    i = np.abs(i)  # -k -> k
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


class PatchBank:
    """Preprocessed pixels around the labelled pixels only, kept as square tiles of the image grid.

    The streaming counterpart of padding the whole cube at once (tests/oracles.PatchSource): `gather(rows, cols)`
    returns the same (N, B, p, p) patches, bit for bit, borders included (the padding is applied as an index
    mapping, not as a copy), but memory holds only the tiles that some patch touches, so a raster larger than memory
    can be trained on when its labels are not everywhere. Tiles are filled with `put(window, x)` as
    windows of the raster are read and preprocessed; `block(...)` cuts padded windows for fully
    convolutional assessment (tiles not held read as 0).
    """

    def __init__(self, height: int, width: int, n_features: int, patch_size: int, tile: int, needed=None):
        self.h, self.w, self.f = int(height), int(width), int(n_features)
        self.p, self.r, self.tile = int(patch_size), int(patch_size) // 2, max(1, int(tile))
        self.mode = pad_mode(self.h, self.w, self.p)
        gh, gw = -(-self.h // self.tile), -(-self.w // self.tile)
        needed = np.ones((gh, gw), bool) if needed is None else np.asarray(needed, bool)
        if needed.shape != (gh, gw):
            raise ValueError(f"needed tile grid {needed.shape} != {(gh, gw)}")
        n = int(needed.sum())
        grid = np.full((gh, gw), n, np.int64)  # tile n: all zeros, stands in for tiles not held
        grid[needed] = np.arange(n)
        self.grid = torch.from_numpy(grid)
        # tiles never exceed the image: a small image in a large tile costs only the image
        th, tw = min(self.tile, self.h), min(self.tile, self.w)
        self.data = torch.zeros((n + 1, th, tw, self.f), dtype=torch.float32)
        off = np.arange(self.p) - self.r
        self._off = off

    @staticmethod
    def tiles_for(rows, cols, height: int, width: int, patch_size: int, tile: int) -> np.ndarray:
        """(grid rows, grid cols) bool: tiles holding some pixel of the patches centred on (rows, cols)."""
        r = patch_size // 2
        gh, gw = -(-height // tile), -(-width // tile)
        need = np.zeros((gh, gw), bool)
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        if rows.size == 0:
            return need
        # reflected/edge-padded positions of a patch fall inside its own clipped box (see source_index)
        r0 = np.clip(rows - r, 0, height - 1) // tile
        r1 = np.clip(rows + r, 0, height - 1) // tile
        c0 = np.clip(cols - r, 0, width - 1) // tile
        c1 = np.clip(cols + r, 0, width - 1) // tile
        span = max(int((r1 - r0).max()), int((c1 - c0).max()))
        for dr in range(span + 1):
            for dc in range(span + 1):
                rr, cc = np.minimum(r0 + dr, r1), np.minimum(c0 + dc, c1)
                need[rr, cc] = True
        return need

    def holds(self, window) -> bool:
        r0, c0 = window[0] // self.tile, window[1] // self.tile
        return int(self.grid[r0, c0]) < self.data.shape[0] - 1

    def put(self, window, x: np.ndarray) -> None:
        """Store preprocessed pixels (h, w, B) of `window`, a tile of the grid (row_off, col_off, h, w)."""
        r0, c0, h, w = window
        if r0 % self.tile or c0 % self.tile or h > self.data.shape[1] or w > self.data.shape[2]:
            raise ValueError(f"window {window} is not a tile of size {self.tile}")
        t = int(self.grid[r0 // self.tile, c0 // self.tile])
        if t < self.data.shape[0] - 1:
            self.data[t, :h, :w] = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    @property
    def nbytes(self) -> int:
        return self.data.numel() * 4

    def _lookup(self, rr: np.ndarray, cc: np.ndarray) -> torch.Tensor:
        """Values at image positions rr (..., 1 or n) x cc (..., n) (broadcast) -> (..., n, B)."""
        T = self.tile
        rr, cc = torch.from_numpy(rr), torch.from_numpy(cc)
        t = self.grid[rr // T, cc // T]
        return self.data[t, rr % T, cc % T]

    def pixels(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(N, B) preprocessed spectra at (rows, cols): the per-pixel features of the baselines."""
        return self._lookup(np.asarray(rows, np.int64), np.asarray(cols, np.int64)).numpy()

    def gather(self, rows: np.ndarray, cols: np.ndarray) -> torch.Tensor:
        """(N, B, p, p) patches centred on (rows, cols), as `PatchSource.gather` on the padded cube."""
        rows = np.asarray(rows, np.int64)
        cols = np.asarray(cols, np.int64)
        rr = source_index(rows[:, None] + self._off, self.h, self.mode)[:, :, None]  # (N, p, 1)
        cc = source_index(cols[:, None] + self._off, self.w, self.mode)[:, None, :]  # (N, 1, p)
        T = self.tile
        t = self.grid[torch.from_numpy(rr // T), torch.from_numpy(cc // T)]
        if bool((t == self.data.shape[0] - 1).any()):
            raise RuntimeError("PatchBank.gather: a patch reaches a tile that was not loaded")
        return self.data[t, torch.from_numpy(rr % T), torch.from_numpy(cc % T)].permute(0, 3, 1, 2).contiguous()

    def block(self, r0: int, c0: int, h: int, w: int) -> torch.Tensor:
        """(B, h + 2r, w + 2r): the padded cube's window around image rows r0..r0+h-1, cols c0..c0+w-1."""
        rr = source_index(np.arange(r0 - self.r, r0 + h + self.r), self.h, self.mode)[:, None]
        cc = source_index(np.arange(c0 - self.r, c0 + w + self.r), self.w, self.mode)[None, :]
        return self._lookup(rr, cc).permute(2, 0, 1).contiguous()
