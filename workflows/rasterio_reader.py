"""Rasters read through rasterio (the command line's backend, workflows/rasterio_backend.py): the reader, class
metadata of a class map, and CRS equality.

Never imported in QGIS: rasterio brings its own GDAL, and two GDALs in one process crash (tests/test_layers.py).
What does not depend on the library (ENVI headers, scale/offset, band names, class names) is in
core/io/backend_common.py, shared with QGIS's GDAL backend (plugin/io_gdal.py).
"""
from __future__ import annotations

import os
import warnings
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

# GDAL's block cache defaults to 5 % of RAM (1.2 GB on a 24 GB machine): reading a pixel-interleaved
# 200-band raster fills it, so peak memory would be set by the cache, not by the classification window.
# A 256 MB cache keeps every read tile-efficient; set GDAL_CACHEMAX yourself to override. The other rasterio
# modules import this one before rasterio, so the setting comes first whichever of them loads first.
os.environ.setdefault("GDAL_CACHEMAX", "256")

import rasterio  # noqa: E402  (after the cache setting, which GDAL reads when it first caches a block)
from rasterio.crs import CRS  # noqa: E402
from rasterio.errors import NotGeoreferencedWarning, RasterioError  # noqa: E402
from rasterio.windows import Window as RioWindow  # noqa: E402

from ..core.errors import RasterError  # noqa: E402
from ..core.io.backend_common import (band_last, check_one_data_type, class_names_item,  # noqa: E402
                                      describe_raster, envi_source)
from ..core.io.raster import RasterInfo, Window, checked_read  # noqa: E402


def quiet_open(path, *args, **kwargs):
    """rasterio.open without the warning for a raster without georeferencing (the engine works on pixels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return rasterio.open(path, *args, **kwargs)


class RasterioReader:
    """A GeoTIFF/ENVI (or any GDAL raster) read through rasterio; see `open_raster`."""

    def __init__(self, path: str):
        self.path = path
        data, self.header_path, hdr = envi_source(path)
        self.data_path = data
        try:
            self._ds = quiet_open(data)
        except RasterioError as e:
            raise RasterError(f"Cannot read raster {self.path}: {e}") from None
        try:
            self.info = self._make_info(hdr)
        except Exception:
            self._ds.close()
            raise

    def _make_info(self, hdr) -> RasterInfo:
        src = self._ds
        check_one_data_type(self.path, src.dtypes)
        return describe_raster(
            path=self.path, header_path=self.header_path, hdr=hdr, width=src.width, height=src.height,
            dtype=src.dtypes[0], transform=src.transform.to_gdal(), crs_wkt=src.crs.to_wkt() if src.crs else "",
            scales=[float(s) for s in src.scales], offsets=[float(o) for o in src.offsets], nodata=src.nodata,
            descriptions=src.descriptions,
            band_metadata=lambda b, ns: src.tags(b, ns=ns) if ns else src.tags(b),
            dataset_metadata=lambda ns: src.tags(ns=ns) if ns else src.tags())

    def read(self, window: Optional[Window] = None, bands: Optional[Sequence[int]] = None) -> np.ndarray:
        """(rows, cols, bands) pixels; float32 with scale/offset applied when declared (nodata kept as is)."""
        (r, c, h, w), idx = checked_read(self.info, self.path, window, bands)
        try:
            a = self._ds.read(indexes=[b + 1 for b in idx], window=RioWindow(c, r, w, h))
        except RasterioError as e:
            raise RasterError(f"Cannot read pixels of raster {self.path} at window {(r, c, h, w)}: {e}") from None
        return band_last(a, self.info, idx)

    def close(self) -> None:
        self._ds.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_raster(path) -> RasterioReader:
    """Open a GeoTIFF or ENVI raster (the data file or its .hdr) and describe it as a RasterInfo."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise RasterError(f"Raster not found: {path}")
    if os.path.isdir(path):
        raise RasterError(f"Raster path is a folder, not a file: {path}")
    if not os.access(path, os.R_OK):
        raise RasterError(f"Raster is not readable (permission denied): {path}")
    return RasterioReader(path)


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    """rasterio's CRS equality (GDAL's IsSame): an ENVI `map info` UTM zone and the EPSG code of the same zone
    are one CRS."""
    return CRS.from_wkt(wkt_a) == CRS.from_wkt(wkt_b)


def read_class_metadata(path) -> Tuple[Dict[int, str], Dict[int, tuple]]:
    """(names, colours) by class value embedded in a class raster (as `RasterioWriter` writes them):
    the `class_names` JSON tag and the colour table of band 1. Empty dicts when absent."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise RasterError(f"Raster not found: {path}")
    try:
        with quiet_open(path) as ds:
            tags = ds.tags(1)
            try:
                cmap = ds.colormap(1)
            except ValueError:  # no colour table
                cmap = {}
    except RasterioError as e:
        raise RasterError(f"Cannot read raster {path}: {e}") from None
    names = class_names_item(tags.get("class_names"), path)
    if names:
        colors = {v: tuple(cmap[v][:3]) for v in names if v in cmap}
    else:  # unnamed table: keep the entries that were actually set
        colors = {int(v): tuple(c[:3]) for v, c in cmap.items()
                  if v >= 1 and tuple(c) not in ((0, 0, 0, 0), (0, 0, 0, 255))}
    return names, colors
