"""Stratified random samples from a class map, for independent validation and area-adjusted accuracy.

Why: map producers validate on a probability sample drawn from the map, with the map classes as strata
(Olofsson et al. 2014), not on pixels next to the training polygons. The strata are the mapped classes;
`allocate` decides how many units each gets, `draw` picks them uniformly at random within each class.

Memory stays bounded for any map size: the map is read twice in row strips, once to count each class and
once to turn the drawn ranks (the k-th pixel of class c in row-major order) into positions. A seed fixes
the sample.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np

from ..errors import InputError


@dataclass
class SampleDesign:
    """How many sample units each map class gets.

    `per_class`: the same number in every class (equal allocation). Otherwise `total` units are shared in
    proportion to the mapped area, and no class gets fewer than `min_per_class` (Olofsson et al. 2014
    suggest equal or proportional allocation with a minimum, e.g. 50, for the rare classes). A class with
    fewer pixels than its share gives all it has, and a note says so.
    """

    per_class: Optional[int] = 50
    total: Optional[int] = None
    min_per_class: int = 0
    seed: int = 0

    def validate(self) -> None:
        if (self.per_class is None) == (self.total is None):
            raise InputError("Give either a number of samples per class or a total to share in proportion "
                             "to the mapped area, not both")
        for name in ("per_class", "total"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, np.integer)) or v < 1):
                raise InputError(f"The sample size {name.replace('_', ' ')} must be a positive integer, got {v!r}")
        if not isinstance(self.min_per_class, (int, np.integer)) or self.min_per_class < 0:
            raise InputError(f"The minimum per class must be a non-negative integer, got {self.min_per_class!r}")

    def describe(self) -> str:
        if self.per_class is not None:
            return f"stratified random sample, {self.per_class} per map class (equal allocation), seed {self.seed}"
        return (f"stratified random sample, {self.total} shared in proportion to mapped area, at least "
                f"{self.min_per_class} per map class, seed {self.seed}")


def allocate(counts: Dict[int, int], design: SampleDesign) -> Tuple[Dict[int, int], List[str]]:
    """Sample units per class value from the mapped pixel counts; (allocation, notes)."""
    design.validate()
    counts = {int(v): int(c) for v, c in counts.items() if c > 0}
    if not counts:
        raise InputError("The class map has no classified pixel to sample")
    if design.per_class is not None:
        want = {v: int(design.per_class) for v in counts}
    else:
        total_px = sum(counts.values())
        # Largest-remainder rounding keeps the proportional shares summing to the total.
        exact = {v: design.total * c / total_px for v, c in counts.items()}
        want = {v: int(np.floor(x)) for v, x in exact.items()}
        for v in sorted(exact, key=lambda v: (want[v] - exact[v], v))[:design.total - sum(want.values())]:
            want[v] += 1
        want = {v: max(n, int(design.min_per_class)) for v, n in want.items()}
    alloc = {v: min(n, counts[v]) for v, n in want.items()}
    notes = []
    short = [v for v in counts if alloc[v] < want[v]]
    if short:
        notes.append("Map class value(s) " + ", ".join(f"{v} ({counts[v]} pixels)" for v in sorted(short))
                     + " hold fewer pixels than their share: every pixel of them is in the sample")
    if design.total is not None and sum(alloc.values()) > design.total:
        notes.append(f"The minimum of {design.min_per_class} per class raises the sample to "
                     f"{sum(alloc.values())} units (total asked: {design.total})")
    return alloc, notes


def check_class_map(info, path) -> None:
    """InputError unless `info` (a RasterInfo) describes a class map: one band of integer class values. A
    reflectance image given by mistake would otherwise make every distinct float a "class" of one pixel."""
    if info.count != 1:
        raise InputError(f"{path} has {info.count} bands, so it is not a class map: a class map has one band of "
                         f"integer class values (e.g. the map `hypersnn classify` writes); give the class map, "
                         f"not the image")
    if np.dtype(info.dtype).kind not in "iub":
        raise InputError(f"{path} holds {info.dtype} values, so it is not a class map: a class map holds integer "
                         f"class values (scaled or floating-point data are refused); convert it to an integer type "
                         f"or give the class map")


Strips = Callable[[], Iterable[np.ndarray]]
"""Calls give a fresh iterator over the class map's row strips (2-D int arrays, top to bottom)."""


def count_classes(strips: Strips, nodata: Optional[int]) -> Dict[int, int]:
    """Pixels per class value (> 0, not nodata) over all strips."""
    total: Dict[int, int] = {}
    for strip in strips():
        vals, cnt = np.unique(np.asarray(strip), return_counts=True)
        for v, c in zip(vals.tolist(), cnt.tolist()):
            if v > 0 and v != nodata:
                total[int(v)] = total.get(int(v), 0) + int(c)
    return total


def draw(strips: Strips, nodata: Optional[int], design: SampleDesign):
    """(rows, cols, values, allocation, counts, notes): the sampled pixels in row-major order."""
    counts = count_classes(strips, nodata)
    alloc, notes = allocate(counts, design)
    rng = np.random.default_rng(design.seed)
    ranks = {v: np.sort(rng.choice(counts[v], size=alloc[v], replace=False)) for v in sorted(alloc)}
    seen = {v: 0 for v in ranks}
    rows, cols, values = [], [], []
    r0 = 0
    for strip in strips():
        strip = np.asarray(strip)
        flat = strip.ravel()
        for v, rk in ranks.items():
            pos = np.flatnonzero(flat == v)
            lo, hi = np.searchsorted(rk, [seen[v], seen[v] + pos.size])
            take = pos[rk[lo:hi] - seen[v]]
            rows.append(r0 + take // strip.shape[1])
            cols.append(take % strip.shape[1])
            values.append(np.full(take.size, v, np.int64))
            seen[v] += pos.size
        r0 += strip.shape[0]
    rows, cols, values = (np.concatenate(a) if a else np.zeros(0, np.int64) for a in (rows, cols, values))
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], values[order], alloc, counts, notes


def pixel_centres(rows, cols, transform) -> Tuple[np.ndarray, np.ndarray]:
    """Map coordinates of pixel centres (GDAL geotransform order)."""
    x0, dx, rx, y0, ry, dy = transform
    c, r = np.asarray(cols, float) + 0.5, np.asarray(rows, float) + 0.5
    return x0 + c * dx + r * rx, y0 + c * ry + r * dy
