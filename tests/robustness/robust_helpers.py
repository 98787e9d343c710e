"""Shared helpers of the robustness tests: fast configs, in-memory scenes, limited readers, cancelers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fixtures_data as fd
from hypersnn.core.data.labels import labels_from_array
from hypersnn.core.io.raster import ArrayReader, RasterInfo
from tiny import tiny_config


def fast_config(**train):
    """tiny_config with fewer epochs: for cases that test plumbing, not accuracy."""
    kw = dict(cnn_epochs=3, snn_epochs=2)
    kw.update(train)
    return tiny_config(**kw)


def scene_info(cube=None, **kw) -> RasterInfo:
    h, w, b = (cube.shape if cube is not None else (fd.H, fd.W, fd.B))
    args = dict(width=w, height=h, count=b, dtype=str(cube.dtype) if cube is not None else "int16",
                nodata=fd.NODATA, wavelengths=list(fd.WAVELENGTHS_NM[:b]) if b <= fd.B else None,
                path="scene.tif", transform=fd.GDAL_TRANSFORM)
    args.update(kw)
    return RasterInfo(**args)


def scene_reader(cube=None, **kw) -> ArrayReader:
    if cube is None:
        cube = fd.synthetic_scene()[0]
    return ArrayReader(cube, scene_info(cube, **kw))


def scene_labels(gt=None):
    return labels_from_array(fd.synthetic_scene()[1] if gt is None else gt, source="gt")


class LimitedReader:
    """A reader that refuses to read more than `max_rows` rows or `max_cols` columns at once (or the
    whole raster): what reading a raster larger than memory must look like."""

    def __init__(self, inner, max_rows: int, max_cols: int = None):
        self.inner, self.info = inner, inner.info
        self.max_rows, self.max_cols = max_rows, max_cols or max_rows
        self.reads = []

    def read(self, window=None, bands=None):
        if window is None:
            raise AssertionError("the whole raster was requested at once")
        r, c, h, w = window
        if h > self.max_rows or w > self.max_cols:
            raise AssertionError(f"window {window} is larger than {self.max_rows} x {self.max_cols}")
        self.reads.append(tuple(window))
        return self.inner.read(window, bands)

    def close(self):
        self.inner.close()


class StageCancel:
    """progress + is_canceled pair: cancels `after` checks once a progress message starting with `stage`
    has been seen (stages: "CNN epoch", "converting", "SNN epoch", "assessing", "classified window",
    "reading raster", "preprocessing")."""

    def __init__(self, stage: str, after: int = 1):
        self.stage, self.after = stage, after
        self.armed, self.calls, self.fired = False, 0, False

    def progress(self, f, m):
        if m.startswith(self.stage):
            self.armed = True

    def is_canceled(self):
        if self.armed:
            self.calls += 1
            if self.calls >= self.after:
                self.fired = True
                return True
        return False


def cancel_after(n: int):
    """is_canceled that answers True from its n-th call on."""
    calls = [0]

    def is_canceled():
        calls[0] += 1
        return calls[0] >= n
    return is_canceled


def folder_state(folder) -> dict:
    """{name: bytes} of every file in `folder` (hidden temporary files included)."""
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


def reflectance(cube=None) -> np.ndarray:
    """The synthetic scene as reflectance 0..1 (float64), nodata pixels as NaN."""
    if cube is None:
        cube = fd.synthetic_scene()[0]
    r = (cube.astype(np.float64) - 500.0) / 4000.0
    r[(cube == fd.NODATA).all(-1)] = np.nan
    return r
