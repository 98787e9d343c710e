"""Grids by georeferencing: a label raster put on the image's grid by position, not by pixel count, and the
one grid a batch's maps are mosaicked onto.

A label, reference or split raster is matched to the image by its georeferencing: the same grid is used as
it is; a grid in the same CRS with other pixel sizes or offsets is resampled to the nearest label pixel at each
image pixel centre (pixels outside it become unlabelled); any other grid (another CRS, rotated axes, no
overlap) is refused with both grids named. Two rasters without georeferencing match only pixel for pixel.
"""
from __future__ import annotations

import re
import warnings
from typing import Tuple

import numpy as np

from .errors import InputError, LabelError
from .raster import RasterInfo

_NO_TRANSFORM = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def describe(info: RasterInfo) -> str:
    x0, dx, _, y0, _, dy = info.transform
    crs = _crs_name(info.crs_wkt) or "no CRS"
    return (f"{info.height} x {info.width} pixels of {abs(dx):g} x {abs(dy):g}, origin ({x0:.6g}, {y0:.6g}), "
            f"{crs}")


def _crs_name(wkt: str) -> str:
    m = re.search(r'(?:PROJCS|PROJCRS|GEOGCS|GEOGCRS)\["([^"]+)"', wkt or "")
    return m.group(1) if m else (wkt or "")[:40]


def _norm(wkt: str) -> str:
    return re.sub(r"\s+", "", wkt or "")


def _georeferenced(info: RasterInfo) -> bool:
    return bool(info.crs_wkt) or tuple(info.transform) != _NO_TRANSFORM


def same_grid(a: RasterInfo, b: RasterInfo) -> bool:
    if (a.height, a.width) != (b.height, b.width):
        return False
    tol = 1e-6 * max(abs(a.transform[1]), abs(a.transform[5]), 1e-12)
    return all(abs(p - q) <= tol for p, q in zip(a.transform, b.transform))


def align_to(array: np.ndarray, src: RasterInfo, dst: RasterInfo, what: str) -> np.ndarray:
    """`array` (on the grid of `src`) on the grid of `dst`; LabelError naming both grids when it cannot be."""
    if same_grid(src, dst) and (not src.crs_wkt or not dst.crs_wkt or _norm(src.crs_wkt) == _norm(dst.crs_wkt)):
        return array
    if not (_georeferenced(src) and _georeferenced(dst)):
        if (src.height, src.width) == (dst.height, dst.width):
            return array
        raise LabelError(f"{what} is {src.height} x {src.width} pixels but the image is {dst.height} x {dst.width}, "
                         f"and without georeferencing it cannot be placed: use a {what.split()[0]} raster on the image "
                         f"grid, or polygons, which are rasterized onto it")
    where = f"{what} ({describe(src)}) and the image ({describe(dst)})"
    if bool(src.crs_wkt) != bool(dst.crs_wkt) or _norm(src.crs_wkt) != _norm(dst.crs_wkt):
        raise LabelError(f"{where} are in different coordinate reference systems: reproject the {what} to the image's "
                         f"CRS and grid (e.g. gdalwarp -tr/-te with nearest resampling), or use polygons")
    if src.transform[2] or src.transform[4] or dst.transform[2] or dst.transform[4]:
        raise LabelError(f"{where} have rotated grids: warp the {what} onto the image grid first")
    sx0, sdx, _, sy0, _, sdy = src.transform
    x0, dx, _, y0, _, dy = dst.transform
    xs = x0 + (np.arange(dst.width) + 0.5) * dx
    ys = y0 + (np.arange(dst.height) + 0.5) * dy
    cols = np.floor((xs - sx0) / sdx).astype(np.int64)
    rows = np.floor((ys - sy0) / sdy).astype(np.int64)
    okc = (cols >= 0) & (cols < src.width)
    okr = (rows >= 0) & (rows < src.height)
    if not okc.any() or not okr.any():
        raise LabelError(f"{where} do not overlap")
    out = np.zeros((dst.height, dst.width), dtype=array.dtype)
    out[np.ix_(okr, okc)] = array[np.ix_(rows[okr], cols[okc])]
    outside = dst.height * dst.width - int(okr.sum()) * int(okc.sum())
    warnings.warn(f"{what} is on another grid ({describe(src)}); it was resampled to the image grid "
                  f"({describe(dst)}) by nearest pixel"
                  + (f"; {outside} image pixels lie outside it and are unlabelled" if outside else ""))
    return out


def mosaic_grid(scenes) -> Tuple[RasterInfo, list]:
    """(the grid covering every scene, each scene's (row, col) offset on it) for [(name, RasterInfo)] on one
    pixel grid: the same CRS, unrotated, the same pixel size and origins a whole number of pixels apart.
    Anything else is an InputError naming the two scenes and their grids: a mosaic never resamples a class map
    (warp the scenes onto one grid first, e.g. gdalwarp -tap -tr with nearest resampling)."""
    if not scenes:
        raise InputError("a mosaic needs at least one scene")
    name0, ref = scenes[0]
    x0, dx, _, y0, _, dy = ref.transform
    rel = 1e-6
    cols, rows = [], []
    for name, info in scenes:
        where = f"{name} ({describe(info)}) and {name0} ({describe(ref)})"
        if _norm(info.crs_wkt) != _norm(ref.crs_wkt):
            raise InputError(f"cannot mosaic {where}: different coordinate reference systems; reproject the scenes "
                             f"to one CRS and pixel grid first")
        if info.transform[2] or info.transform[4]:
            raise InputError(f"cannot mosaic {name} ({describe(info)}): its grid is rotated; warp it first")
        sx0, sdx, _, sy0, _, sdy = info.transform
        if abs(sdx - dx) > rel * abs(dx) or abs(sdy - dy) > rel * abs(dy):
            raise InputError(f"cannot mosaic {where}: different pixel sizes; resample the scenes to one pixel grid "
                             f"first (gdalwarp -tap -tr, nearest)")
        fc, fr = (sx0 - x0) / dx, (sy0 - y0) / dy
        if abs(fc - round(fc)) > 1e-3 or abs(fr - round(fr)) > 1e-3:
            raise InputError(f"cannot mosaic {where}: their pixel grids are not aligned (offset by {fc:.4g} columns, "
                             f"{fr:.4g} rows); align them first (gdalwarp -tap)")
        cols.append(int(round(fc)))
        rows.append(int(round(fr)))
    c0, r0 = min(cols), min(rows)
    offsets = [(r - r0, c - c0) for r, c in zip(rows, cols)]
    width = max(c + info.width for (_, c), (_, info) in zip(offsets, scenes))
    height = max(r + info.height for (r, _), (_, info) in zip(offsets, scenes))
    info = RasterInfo(width=width, height=height, count=ref.count, dtype=ref.dtype,
                      transform=(x0 + c0 * dx, dx, 0.0, y0 + r0 * dy, 0.0, dy), crs_wkt=ref.crs_wkt,
                      nodata=ref.nodata, band_names=list(ref.band_names))
    return info, offsets
