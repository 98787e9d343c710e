"""Stratified random validation points from a class map (`hypersnn sample`, Processing "sample").

The points land at pixel centres of the map, in its CRS, with the map's class in `map_value` / `map_class`
and an empty `ref_value` for the analyst to fill from field visits or imagery. `hypersnn evaluate --polygons
points.gpkg --class-field ref_value --area-adjusted` then gives the area-adjusted accuracy.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ..core.errors import OutputError
from ..core.io.files import check_output_file, check_outputs
from ..core.data.sampling import SampleDesign, check_class_map, draw, pixel_centres
from .backend import IOBackend, PointField
from .callbacks import Callbacks

STRIP_ROWS = 256
LAYER = "validation_points"
REFERENCE_FIELD = "ref_value"


@dataclass
class SampleJob:
    class_map: str
    out: str
    """The GeoPackage to write (.gpkg)."""
    design: SampleDesign = field(default_factory=SampleDesign)


@dataclass
class SampleOutcome:
    path: str
    n: int
    allocation: dict
    mapped_pixels: dict
    description: str
    warnings: list


def gpkg_layers(path: str) -> Optional[List[str]]:
    """The layer (table) names a GeoPackage lists, read with SQLite (both backends' GeoPackages are SQLite
    files, and core and workflows may not use GDAL); None when `path` is not a readable GeoPackage."""
    from urllib.parse import quote

    try:
        con = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return [str(r[0]) for r in con.execute("SELECT table_name FROM gpkg_contents ORDER BY table_name")]
    except sqlite3.Error:  # not SQLite, or SQLite without the GeoPackage tables
        return None
    finally:
        con.close()


def check_point_file(path: str) -> None:
    """OutputError when writing the points would destroy what an existing file holds besides them."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    layers = gpkg_layers(path)
    if layers is None:
        raise OutputError(f"The point file {path} exists and is not a GeoPackage HyperSNN can read; it would be "
                          f"replaced. Give a new .gpkg file name, or move that file away first")
    other = [n for n in layers if n != LAYER]
    if other:
        raise OutputError(f"The point file {path} already holds other layers ({', '.join(other)}); the "
                          f"'{LAYER}' layer is written as a GeoPackage of its own, which would replace them. "
                          f"Give a new .gpkg file name")


def run_sample(job: SampleJob, backend: IOBackend, cb: Optional[Callbacks] = None) -> SampleOutcome:
    cb = cb or Callbacks()
    job.design.validate()
    check_output_file(job.out, "point file", ext=[".gpkg"])
    check_outputs([(job.out, "point file")], [(job.class_map, "class map")])
    check_point_file(job.out)
    with cb.capture_warnings():
        r = backend.open_raster(job.class_map)
        try:
            info = r.info
            check_class_map(info, job.class_map)
            nodata = int(info.nodata) if info.nodata is not None and np.isfinite(info.nodata) else None

            def strips():
                for r0 in range(0, info.height, STRIP_ROWS):
                    if cb.is_canceled():
                        raise KeyboardInterrupt("sampling cancelled")
                    h = min(STRIP_ROWS, info.height - r0)
                    yield r.read((r0, 0, h, info.width), [0])[:, :, 0]

            cb.progress(0.1, "counting the map's classes")
            rows, cols, values, alloc, counts, notes = draw(strips, nodata, job.design)
        finally:
            r.close()
        for n in notes:
            cb.warn(n)
        names, _ = backend.read_class_metadata(job.class_map)
        xs, ys = pixel_centres(rows, cols, info.transform)
        cb.progress(0.8, f"writing {rows.size} points")
        fields = [PointField("sample_id", "int", list(range(1, rows.size + 1))),
                  PointField("map_value", "int", values.tolist()),
                  PointField("map_class", "str", [names.get(int(v)) or f"Class {int(v)}" for v in values]),
                  PointField("row", "int", rows.tolist()), PointField("col", "int", cols.tolist()),
                  PointField(REFERENCE_FIELD, "int", [None] * rows.size)]
        backend.write_points(job.out, info.crs_wkt, xs, ys, fields, LAYER)
    desc = job.design.describe()
    cb.log(f"{rows.size} points written to {job.out} ({desc}); fill '{REFERENCE_FIELD}' with the reference class")
    return SampleOutcome(job.out, int(rows.size), alloc, counts, desc, list(cb.warnings))
