"""Stratified random validation points from a class map (`hypersnn sample`, Processing "sample").

The points land at pixel centres of the map, in its CRS, with the map's class in `map_value` / `map_class`
and an empty `ref_value` for the analyst to fill from field visits or imagery. `hypersnn evaluate --polygons
points.gpkg --class-field ref_value --area-adjusted` then gives the area-adjusted accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core.files import check_output_file, check_outputs
from ..core.sampling import SampleDesign, draw, pixel_centres
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


def run_sample(job: SampleJob, backend: IOBackend, cb: Optional[Callbacks] = None) -> SampleOutcome:
    cb = cb or Callbacks()
    job.design.validate()
    check_output_file(job.out, "point file", ext=[".gpkg"])
    check_outputs([(job.out, "point file")], [(job.class_map, "class map")])
    with cb.capture_warnings():
        r = backend.open_raster(job.class_map)
        try:
            info = r.info
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
