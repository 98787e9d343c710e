"""Turning a raster and its labels into what the trainer consumes: bands, split, preprocessing, patches.

The raster is streamed in tiles twice (core/io/raster.RasterReader), never read whole; see `prepare`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .bands import describe_selection, select_bands
from ..config.schema import RunConfig
from ..errors import Canceled, InputError, LabelError, RasterError
from .labels import Labels
from ..nn.specs import build_specs
from .patches import PatchBank
from .preprocess import Preprocessor, resolve_pca
from ..io.raster import RasterInfo, RasterReader, iter_windows
from .splits import Split, check_disjoint, make_split
from ..training.trainer import PixelSet
from .valid_pixels import empty_bands_message, read_block, valid_mask, where


def _noop_progress(f, m):
    pass


def _never():
    return False


@dataclass
class Prepared:
    """A raster and its labels turned into what the trainer consumes."""

    band_indices: list
    split: Split
    preprocessor: Preprocessor
    source: PatchBank
    """Preprocessed pixels around every train/val/test pixel; `gather(rows, cols)` gives patches."""
    class_values: list
    train: PixelSet
    val: PixelSet
    test: PixelSet
    valid: np.ndarray
    raw: Optional[dict] = None
    """{"train", "val", "test": float32 (n, bands) raw spectra of those pixels}, kept only for the baselines (which
    also try all standardised bands)."""
    data_sha256: str = ""
    """Checksum of the labelled pixels' raw spectra and the valid mask (the data part of the checkpoint
    fingerprint; independent of the streaming window)."""


def _pixels(mask: np.ndarray, labels: np.ndarray, lut: dict) -> PixelSet:
    rows, cols = np.nonzero(mask)
    return PixelSet(rows.astype(np.int64), cols.astype(np.int64),
                    np.array([lut[int(v)] for v in labels[rows, cols]], dtype=np.int64))


def check_band_settings(info: RasterInfo, idx, cfg: RunConfig) -> None:
    """Refuse, before any pixel is read, settings the selected bands cannot satisfy (PCA, spectral kernels)."""
    n = len(idx)
    k = resolve_pca(cfg.preprocess.pca_components, n)
    sel = describe_selection(info, idx)
    if k > n:
        raise InputError(f"{where(info)}: {sel} selected, but pca_components is {k}: PCA cannot keep more "
                         f"components than there are bands; use at most {n} (0 = no PCA)")
    try:
        build_specs(cfg.model, k or n, 2)
    except InputError as e:
        raise InputError(f"{where(info)} ({sel}): {e}") from None


def prepare(reader: RasterReader, labels: Labels, cfg: RunConfig, given_map=None, progress: Callable = None,
            is_canceled: Callable = None, window: Optional[int] = None) -> Prepared:
    """Stream the raster in `window` x `window` tiles (default `cfg.classify.window`), twice.

    Pass 1 finds the valid pixels and keeps the raw spectra of the labelled ones; the split is made and
    the preprocessor fitted on the training spectra. Pass 2 preprocesses only the tiles that some
    train/val/test patch touches into a `PatchBank`. Memory holds one tile of raw pixels, the (H, W)
    masks and the bank, never the whole cube; the patches are the same, bit for bit, as padding the
    whole preprocessed cube (tests/oracles.pad_cube) would give.
    """
    progress = progress or _noop_progress
    is_canceled = is_canceled or _never
    info = reader.info
    if labels.array.shape != (info.height, info.width):
        raise LabelError(f"labels {labels.source} have shape {labels.array.shape} but raster {info.path} is "
                         f"{info.height} x {info.width}: labels must be on the raster's grid")
    idx = select_bands(info, cfg.bands)
    check_band_settings(info, idx, cfg)
    H, W, p = info.height, info.width, cfg.model.patch_size
    tile = int(window or cfg.classify.window)
    if tile < 1:
        raise InputError(f"window must be at least 1 pixel, got {tile}")
    windows = list(iter_windows(H, W, tile))
    lab = labels.array

    # pass 1: validity and the raw spectra of labelled pixels
    valid = np.zeros((H, W), bool)
    flats, spectra = [], []
    for k, win in enumerate(windows):
        if is_canceled():
            raise Canceled("training canceled while reading the raster")
        r, c, h, w = win
        block = read_block(reader, win, idx)
        ok = valid_mask(block, info.nodata)
        valid[r:r + h, c:c + w] = ok
        sel = ok & (lab[r:r + h, c:c + w] > 0)
        if sel.any():
            rr, cc = np.nonzero(sel)
            flats.append((rr + r).astype(np.int64) * W + (cc + c))
            spectra.append(block[sel])
        progress(0.5 * (k + 1) / len(windows), "reading raster (pass 1 of 2)")
    if not valid.any():
        raise InputError(empty_bands_message(reader, idx, windows))
    split = make_split(lab, cfg.split, polygon_ids=labels.polygon_ids, given_map=given_map,
                       valid_mask=valid, patch_size=p, class_names={c.value: c.name for c in labels.classes})
    check_disjoint(split)
    values = [int(v) for v in np.unique(lab[split.train | split.val | split.test]) if v > 0]
    lut = {v: i for i, v in enumerate(values)}
    flat = np.concatenate(flats) if flats else np.zeros(0, np.int64)
    spec = np.concatenate(spectra) if spectra else np.zeros((0, len(idx)))
    del spectra
    order = np.argsort(flat, kind="stable")  # raster order, as cube[mask] gives
    flat, spec = flat[order], spec[order]
    # what the data is, independent of the window size: the labelled pixels' raw spectra and the valid mask
    sha = hashlib.sha256(json.dumps([idx, info.nodata, spec.dtype.str, [H, W]]).encode())
    for a in (flat, spec, np.packbits(valid)):
        sha.update(np.ascontiguousarray(a).tobytes())
    digest = sha.hexdigest()
    raw = None
    if cfg.baseline.kind != "none":
        raw = {k: spec[m.ravel()[flat]].astype(np.float32) for k, m in
               (("train", split.train), ("val", split.val), ("test", split.test))}
    train_spec = spec[split.train.ravel()[flat]].astype(np.float64)
    pre = Preprocessor.from_config(cfg.preprocess, len(idx), len(train_spec)).fit(train_spec)
    del train_spec
    del spec, flat
    train, val, test = (_pixels(m, lab, lut) for m in (split.train, split.val, split.test))

    # pass 2: preprocess the tiles the patches need
    rows = np.concatenate([train.rows, val.rows, test.rows])
    cols = np.concatenate([train.cols, val.cols, test.cols])
    bank = PatchBank(H, W, pre.n_out, p, tile, PatchBank.tiles_for(rows, cols, H, W, p, tile))
    todo = [win for win in windows if bank.holds(win)]
    for k, win in enumerate(todo):
        if is_canceled():
            raise Canceled("training canceled while preprocessing the raster")
        r, c, h, w = win
        ok = valid[r:r + h, c:c + w]
        x = pre.transform(np.where(ok[..., None], read_block(reader, win, idx), 0))
        x[~ok] = 0.0
        bank.put(win, x)
        progress(0.5 + 0.5 * (k + 1) / len(todo), "preprocessing (pass 2 of 2)")
    return Prepared(idx, split, pre, bank, values, train, val, test, valid, raw, digest)
