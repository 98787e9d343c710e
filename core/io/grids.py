"""Grids by georeferencing: a label raster put on the image's grid by position, not by pixel count, and the
one grid a batch's maps are mosaicked onto.

A label, reference or split raster is matched to the image by its georeferencing: the same grid is used as
it is; a grid in the same CRS with other pixel sizes or offsets is resampled to the nearest label pixel at each
image pixel centre (pixels outside it become unlabelled); any other grid (another CRS, rotated axes, no
overlap) is refused with both grids named. A raster without georeferencing (no CRS, GDAL's default transform)
matches only pixel for pixel, and is said to have none.

Two CRSs are the same when their WKT texts agree or when the I/O backend says they are equivalent
(`same_crs`: GDAL's IsSame in QGIS, rasterio's CRS equality on the command line): an ENVI header's
`map info` UTM 15N and a GeoTIFF's EPSG:32615 are one CRS written two ways. core reads no CRS database itself.
"""
from __future__ import annotations

import re
import warnings
from typing import Callable, Optional, Tuple

import numpy as np

from ..errors import InputError, LabelError
from .raster import RasterInfo

_NO_TRANSFORMS = ((0.0, 1.0, 0.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 0.0, 0.0, -1.0))
"""What readers report for a raster without a geotransform: GDAL's default (0, 1, 0, 0, 0, 1), and the
north-up form of it."""
SameCrs = Callable[[str, str], bool]


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
    return bool(info.crs_wkt) or tuple(float(v) for v in info.transform) not in _NO_TRANSFORMS


def crs_equal(a: str, b: str, same_crs: Optional[SameCrs] = None) -> bool:
    """Whether two CRS WKTs name the same CRS: the same text, or equivalent by the backend's `same_crs`.
    A missing CRS equals only a missing CRS."""
    if not a or not b:
        return not a and not b
    if _norm(a) == _norm(b):
        return True
    if same_crs is None:
        return False
    try:
        return bool(same_crs(a, b))
    except Exception:  # noqa: BLE001 - a WKT the backend cannot parse is not shown to be the same
        return False


def same_grid(a: RasterInfo, b: RasterInfo) -> bool:
    if (a.height, a.width) != (b.height, b.width):
        return False
    tol = 1e-6 * max(abs(a.transform[1]), abs(a.transform[5]), 1e-12)
    return all(abs(p - q) <= tol for p, q in zip(a.transform, b.transform))


def align_to(array: np.ndarray, src: RasterInfo, dst: RasterInfo, what: str,
             same_crs: Optional[SameCrs] = None) -> np.ndarray:
    """`array` (on the grid of `src`) on the grid of `dst`; LabelError naming both grids when it cannot be.
    `same_crs`: the backend's CRS equivalence (see the module's docstring)."""
    if same_grid(src, dst) and (not src.crs_wkt or not dst.crs_wkt or crs_equal(src.crs_wkt, dst.crs_wkt, same_crs)):
        return array
    if not (_georeferenced(src) and _georeferenced(dst)):
        which = " and ".join(n for n, i in ((what, src), ("the image", dst)) if not _georeferenced(i))
        if (src.height, src.width) == (dst.height, dst.width):
            if _georeferenced(src) or _georeferenced(dst):
                warnings.warn(f"{which} has no georeferencing (no CRS, no geotransform); the {what} was matched to "
                              f"the image pixel for pixel, as both are {dst.height} x {dst.width} pixels")
            return array
        raise LabelError(f"{which} {'have' if ' and ' in which else 'has'} no georeferencing (no CRS, no "
                         f"geotransform), so the {what} ({src.height} x {src.width} pixels) can only be matched to "
                         f"the image ({dst.height} x {dst.width} pixels) pixel for pixel, and their sizes differ: "
                         f"use a {what.split()[0]} raster on the image grid, georeference it, or use polygons")
    where = f"{what} ({describe(src)}) and the image ({describe(dst)})"
    if not src.crs_wkt or not dst.crs_wkt:
        which = what if not src.crs_wkt else "the image"
        raise LabelError(f"{where}: {which} has no coordinate reference system, so it cannot be reprojected: assign it "
                         f"the right CRS (e.g. gdal_edit.py -a_srs), or use a {what.split()[0]} raster on the image "
                         f"grid, or polygons")
    if not crs_equal(src.crs_wkt, dst.crs_wkt, same_crs):
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
