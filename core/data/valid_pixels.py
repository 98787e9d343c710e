"""Which pixels and bands hold usable values: one rule (finite, not nodata) for training (core/data/prepare.py) and
mapping (core/mapping/predict.py), and the message naming the bands at fault when no pixel is usable. A module of its
own so that neither of those two imports the other."""
from __future__ import annotations

import numpy as np

from ..errors import RasterError
from ..io.raster import RasterInfo, RasterReader


def valid_mask(block: np.ndarray, nodata) -> np.ndarray:
    """True where every band is finite and differs from nodata (nodata/NaN pixels are never classified)."""
    ok = np.isfinite(block).all(axis=-1) if block.dtype.kind == "f" else np.ones(block.shape[:2], bool)
    if nodata is not None and np.isfinite(nodata):
        ok &= ~(block == nodata).any(axis=-1)
    return ok


def where(info: RasterInfo) -> str:
    """How messages name a raster: "raster <path>", or "the raster" for one in memory."""
    return f"raster {info.path}" if info.path else "the raster"


def read_block(reader: RasterReader, window, idx) -> np.ndarray:
    """The (rows, cols, bands) pixels of `window`, checked for shape and a numeric type."""
    block = reader.read(window, idx)
    r, c, h, w = window
    if block.ndim != 3 or block.shape != (h, w, len(idx)):
        raise RasterError(f"{where(reader.info)}: reading window {window} gave an array of shape "
                          f"{getattr(block, 'shape', None)}, expected {(h, w, len(idx))}")
    if block.dtype.kind not in "biuf":
        raise RasterError(f"{where(reader.info)} holds {block.dtype} pixels; HyperSNN needs real numbers")
    return block


def empty_bands_message(reader: RasterReader, idx, windows) -> str:
    """Which selected bands hold no usable value anywhere (read again: only on this failure path)."""
    info = reader.info
    good = np.zeros(len(idx), np.int64)
    for win in windows:
        b = read_block(reader, win, idx)
        ok = np.isfinite(b) if b.dtype.kind == "f" else np.ones(b.shape, bool)
        if info.nodata is not None and np.isfinite(info.nodata):
            ok &= b != info.nodata
        good += ok.sum(axis=(0, 1))
    empty = [i for i, g in zip(idx, good) if g == 0]
    nd = f"nodata ({info.nodata:g})" if info.nodata is not None else "nodata"
    if empty and len(empty) < len(idx):
        names = ", ".join(f"{i + 1} ({info.band_names[i]})" for i in empty[:10])
        return (f"{where(info)}: no pixel is usable because band(s) {names}{' ...' if len(empty) > 10 else ''} "
                f"hold only {nd} or NaN/inf values; leave them out of the band selection")
    return f"{where(info)}: every pixel is {nd} or non-finite (NaN/inf) in the selected bands"
