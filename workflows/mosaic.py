"""One map from a batch's scenes (`hypersnn batch --mosaic`): the per-scene maps put on one pixel grid.

Why per-scene maps first and the mosaic after: every scene's map is the resumable, checksummed unit of a batch
(workflows/batch.py), and a mosaic built from finished maps is cheap to rebuild when one scene changes. The
scenes must share a pixel grid (core/io/grids.mosaic_grid: same CRS and pixel size, origins whole pixels apart);
a mosaic never resamples a class map.

Where scenes overlap, the scene whose classification is the most confident at that pixel wins (ties: the scene
listed first), and every map kind (classes, confidence, probabilities, energy) takes the winning scene's pixel,
so the layers of the mosaic agree with each other. That is why a mosaic needs the confidence maps.

Memory is bounded by a strip of rows across the mosaic (STRIP_ROWS), not by the mosaic: a 30,000-pixel-wide
mosaic reads and writes 256 x 30,000 pixels per scene and kind at a time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from ..core.errors import Canceled, InputError
from ..core.io.grids import mosaic_grid
from ..core.io.raster import OutputSpec

STRIP_ROWS = 256
KINDS = ("class_map", "confidence", "probabilities", "energy_map")
SUFFIXES = {"class_map": "", "confidence": "_confidence", "probabilities": "_probabilities",
            "energy_map": "_energy"}


@dataclass
class MosaicOutcome:
    outputs: Dict[str, str]
    """kind -> path of the mosaic written"""
    width: int
    height: int
    scenes: int
    valid_pixels: int
    overlap_pixels: int
    """pixels where more than one scene holds a class (the most confident won)"""


def mosaic_paths(class_path: str, kinds) -> Dict[str, str]:
    """The mosaic's files: the class map at `class_path`, the other kinds beside it (X.tif, X_confidence.tif,
    X_probabilities.tif, X_energy.tif)."""
    stem, ext = os.path.splitext(os.path.abspath(os.fspath(class_path)))
    if ext.lower() not in (".tif", ".tiff"):
        raise InputError(f"mosaic {class_path}: HyperSNN writes GeoTIFF; give the file a .tif extension")
    return {k: stem + SUFFIXES[k] + ext for k in KINDS if k in kinds}


def write_mosaic(scene_maps: List[Dict[str, str]], out: Dict[str, str], backend, open_writer,
                 progress=None, is_canceled=None) -> MosaicOutcome:
    """Mosaic `scene_maps` ([{kind: path}], each with class_map and confidence) into `out` ({kind: path}, the
    kinds every scene has). All outputs are written to temporary files and renamed into place only when every
    one is complete, so a failed or canceled mosaic leaves the previous one as it was."""
    if not scene_maps:
        raise InputError("a mosaic needs at least one classified scene")
    for m in scene_maps:
        if "confidence" not in m:
            raise InputError(f"mosaic: {m['class_map']} has no confidence map (the most confident scene wins "
                             f"where scenes overlap)")
    if "class_map" not in out:
        raise InputError("a mosaic writes a class map")
    read_kinds = list(out) + [k for k in ("confidence",) if k not in out]  # confidence picks the winner
    readers = {}
    writers = []
    try:
        for i, m in enumerate(scene_maps):
            for kind in read_kinds:
                readers[i, kind] = backend.open_raster(m[kind])
        infos = [(scene_maps[i]["class_map"], readers[i, "class_map"].info) for i in range(len(scene_maps))]
        grid, offsets = mosaic_grid(infos)
        for i in range(len(scene_maps)):  # every map of a scene on its class map's grid
            for kind in read_kinds:
                info = readers[i, kind].info
                if (info.height, info.width, tuple(info.transform)) != (infos[i][1].height, infos[i][1].width,
                                                                         tuple(infos[i][1].transform)):
                    raise InputError(f"mosaic: {scene_maps[i][kind]} is not on the grid of {scene_maps[i]['class_map']}")
        names, colors = backend.read_class_metadata(scene_maps[0]["class_map"])
        specs = {}
        for kind, path in out.items():
            first = readers[0, kind].info
            for i in range(1, len(scene_maps)):
                other = readers[i, kind].info
                if (other.count, other.dtype) != (first.count, first.dtype):
                    raise InputError(f"mosaic: {scene_maps[i][kind]} has {other.count} band(s) of {other.dtype}, "
                                     f"{scene_maps[0][kind]} {first.count} of {first.dtype}: not maps of one model")
            if kind == "class_map":
                other_names = [backend.read_class_metadata(m["class_map"])[0] for m in scene_maps[1:]]
                for m, n in zip(scene_maps[1:], other_names):
                    if n != names:
                        raise InputError(f"mosaic: {m['class_map']} and {scene_maps[0]['class_map']} hold different "
                                         f"classes: classify every scene with the same model")
            specs[kind] = OutputSpec(path, _like(grid, first), first.count, first.dtype, nodata=first.nodata,
                                     band_names=list(first.band_names),
                                     colors=colors if kind == "class_map" and colors else None,
                                     category_names=names if kind == "class_map" and names else None)
        for kind in out:
            writers.append(open_writer(specs[kind]))
        by_kind = dict(zip(out, writers))
        valid = overlap = 0
        for r0 in range(0, grid.height, STRIP_ROWS):
            if is_canceled and is_canceled():
                raise Canceled(f"mosaic canceled at row {r0} of {grid.height}")
            h = min(STRIP_ROWS, grid.height - r0)
            winner, hits, held = _winners(readers, scene_maps, offsets, r0, h, grid.width)
            valid += int((winner >= 0).sum())
            overlap += int((hits > 1).sum())
            for kind, w in by_kind.items():
                spec = specs[kind]
                fill = spec.nodata if spec.nodata is not None else 0
                strip = np.full((h, grid.width, spec.count), fill, dtype=spec.dtype)
                for i, win in _overlapping(scene_maps, readers, offsets, r0, h):
                    (sr, sc, wh, ww), (dr, dc) = win
                    take = winner[dr:dr + wh, dc:dc + ww] == i
                    if take.any():
                        block = held.get((i, kind))
                        if block is None:
                            block = readers[i, kind].read((sr, sc, wh, ww))
                        strip[dr:dr + wh, dc:dc + ww][take] = block[take]
                w.write((r0, 0, h, grid.width), strip)
            if progress:
                progress(min(1.0, (r0 + h) / grid.height), f"mosaic: {r0 + h}/{grid.height} rows")
        for w in writers:
            w.close()
        writers = []
    finally:
        for w in writers:
            w.abort()
        for r in readers.values():
            r.close()
    return MosaicOutcome(dict(out), grid.width, grid.height, len(scene_maps), valid, overlap)


def _like(grid, first):
    from dataclasses import replace

    return replace(grid, count=first.count, dtype=first.dtype, nodata=first.nodata, band_names=list(first.band_names),
                   path="")


def _overlapping(scene_maps, readers, offsets, r0: int, h: int):
    """(scene index, ((row, col, rows, cols) in the scene, (row, col) in the strip)) for each scene that
    reaches rows r0 .. r0 + h of the mosaic."""
    for i in range(len(scene_maps)):
        info = readers[i, "class_map"].info
        orow, ocol = offsets[i]
        top, bottom = max(r0, orow), min(r0 + h, orow + info.height)
        if top < bottom:
            yield i, ((top - orow, 0, bottom - top, info.width), (top - r0, ocol))


def _winners(readers, scene_maps, offsets, r0: int, h: int, width: int):
    """(index of the winning scene per strip pixel, -1 where none holds a class; how many scenes hold one; the
    class and confidence blocks read, by (scene, kind), so the strip's writing does not read them again)."""
    best = np.full((h, width), -np.inf, dtype=np.float64)
    winner = np.full((h, width), -1, dtype=np.int32)
    hits = np.zeros((h, width), dtype=np.int16)
    held = {}
    for i, ((sr, sc, wh, ww), (dr, dc)) in _overlapping(scene_maps, readers, offsets, r0, h):
        held[i, "class_map"] = readers[i, "class_map"].read((sr, sc, wh, ww))
        held[i, "confidence"] = readers[i, "confidence"].read((sr, sc, wh, ww))
        cls = held[i, "class_map"][:, :, 0]
        conf = held[i, "confidence"][:, :, 0].astype(np.float64)
        has = cls != 0
        b = best[dr:dr + wh, dc:dc + ww]
        better = has & (conf > b)
        b[better] = conf[better]
        winner[dr:dr + wh, dc:dc + ww][better] = i
        hits[dr:dr + wh, dc:dc + ww] += has
    return winner, hits, held
