"""Area-adjusted accuracy and class-area estimates with 95 % intervals (Olofsson et al. 2013, 2014).

Why: the pixel counts of a class map are biased area estimates (every omission and commission error
shifts them), and accuracies computed from a sample that was not drawn in proportion to the mapped
classes do not describe the map. For a stratified random sample with the map classes as strata (or a
simple random sample), the estimators below are unbiased: each sample count is weighted by the mapped
share of its stratum.

References:
  Olofsson, P., Foody, G. M., Stehman, S. V., Woodcock, C. E. (2013). Making better use of accuracy data
    in land change studies. Remote Sens. Environ. 129, 122-131 (eqs. 2-5 for the variances used here).
  Olofsson, P., Foody, G. M., Herold, M., Stehman, S. V., Woodcock, C. E., Wulder, M. A. (2014). Good
    practices for estimating area and assessing accuracy of land change. Remote Sens. Environ. 148,
    42-57 (the worked example in tests/test_area_accuracy.py).

Conventions: `sample` is a confusion matrix of sample counts with rows = reference and columns = map
(as everywhere in HyperSNN, core/assess/metrics.py); it is transposed here to the papers' (map, reference)
layout. Intervals are +- 1.96 standard errors. A stratum with a single sample unit has no variance
estimate: its intervals are NaN and a note says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from ..errors import InputError
from .metrics import Z95, _f, _names

DESIGN_NOTE = ("Area-adjusted estimates (Olofsson et al. 2014) are unbiased only when the reference is a "
               "simple random sample or a stratified random sample with the map classes as strata; for "
               "training-style polygons they are indicative only.")


@dataclass
class AreaAccuracy:
    """Stratified estimates of accuracy and area; proportions are fractions of the mapped area."""

    class_values: List[int]
    mapped_pixels: np.ndarray
    pixel_area: float
    area_unit: str
    sample_per_stratum: np.ndarray
    proportion: np.ndarray
    proportion_se: np.ndarray
    users: np.ndarray
    users_se: np.ndarray
    producers: np.ndarray
    producers_se: np.ndarray
    oa: float
    oa_se: float
    notes: List[str] = field(default_factory=list)

    @property
    def total_area(self) -> float:
        return float(self.mapped_pixels.sum()) * self.pixel_area

    @property
    def area(self) -> np.ndarray:
        return self.proportion * self.total_area

    @property
    def area_ci95(self) -> np.ndarray:
        """Half-width of the 95 % interval of each class area."""
        return Z95 * self.proportion_se * self.total_area

    def to_dict(self, class_names=None) -> dict:
        names = _names(self.class_values, class_names)
        per = []
        for i, (v, nm) in enumerate(zip(self.class_values, names)):
            per.append({
                "value": v, "name": nm, "mapped_pixels": int(self.mapped_pixels[i]),
                "mapped_area": _f(self.mapped_pixels[i] * self.pixel_area),
                "sample": int(self.sample_per_stratum[i]),
                "area": _f(self.area[i]), "area_ci95": _f(self.area_ci95[i]),
                "users_accuracy": _f(self.users[i]), "users_ci95": _f(Z95 * self.users_se[i]),
                "producers_accuracy": _f(self.producers[i]), "producers_ci95": _f(Z95 * self.producers_se[i]),
            })
        return {"method": "Olofsson et al. 2014, stratified estimators (strata = map classes)",
                "area_unit": self.area_unit, "pixel_area": _f(self.pixel_area),
                "total_area": _f(self.total_area), "oa": _f(self.oa), "oa_ci95": _f(Z95 * self.oa_se),
                "per_class": per, "notes": [DESIGN_NOTE] + list(self.notes)}


def area_adjusted(sample, mapped_pixels: Sequence[float], class_values: Optional[Sequence[int]] = None,
                  pixel_area: float = 1.0, area_unit: str = "pixels") -> AreaAccuracy:
    """Estimates from a sample confusion matrix (rows reference, columns map) and the map's class counts.

    Raises InputError when a mapped class has no sample unit: its area could not be allotted to the
    reference classes, and any figure would be biased.
    """
    cm = np.asarray(sample, float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] < 1:
        raise InputError(f"Area-adjusted accuracy needs a square confusion matrix, got shape {cm.shape}")
    if (cm < 0).any():
        raise InputError("A confusion matrix cannot hold negative counts")
    k = cm.shape[0]
    values = list(range(1, k + 1)) if class_values is None else [int(v) for v in class_values]
    mapped = np.asarray(mapped_pixels, float)
    if mapped.shape != (k,) or (mapped < 0).any() or not np.isfinite(mapped).all():
        raise InputError(f"Mapped pixel counts must be {k} non-negative numbers, got {mapped.tolist()}")
    if not (math.isfinite(pixel_area) and pixel_area > 0):
        raise InputError(f"The pixel area must be a positive number, got {pixel_area}")
    if mapped.sum() <= 0:
        raise InputError("The class map has no classified pixel: there is no mapped area to adjust")
    n = cm.T  # rows: map class (stratum), columns: reference class
    n_i = n.sum(1)
    empty = [v for v, m, s in zip(values, mapped, n_i) if m > 0 and s == 0]
    if empty:
        raise InputError(f"Map class value(s) {empty} cover mapped pixels but hold no reference sample: "
                         "area-adjusted estimates need reference samples in every mapped class "
                         "(a stratified random sample, e.g. from the sampling tool)")
    w = mapped / mapped.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_i[:, None] > 0, n / np.maximum(n_i, 1)[:, None], 0.0)  # n_ij / n_i.
        df = np.where(n_i > 1, n_i - 1, np.nan)
        p = w[:, None] * share
        p_col = p.sum(0)
        users = np.where(n_i > 0, np.diag(share), np.nan)
        users_var = users * (1 - users) / df
        producers = np.where(p_col > 0, np.diag(p) / p_col, np.nan)
        oa = float(np.diag(p).sum())
        # Rows of unsampled, unmapped classes add nothing; a one-sample stratum makes its terms NaN.
        oa_var = float(np.where(n_i > 0, w ** 2 * users * (1 - users) / df, 0.0).sum())
        strata_var = np.where(n_i[:, None] > 0, share * (1 - share) / df[:, None], 0.0)  # (map i, ref j)
        prop_var = (w[:, None] ** 2 * strata_var).sum(0)
        # Producer's accuracy (Olofsson et al. 2013, eq. 5): N_i. mapped pixels, N^_.j estimated pixels.
        big_n = mapped
        n_hat_col = (big_n[:, None] * share).sum(0)
        prod_var = np.full(k, np.nan)
        for j in range(k):
            if n_hat_col[j] <= 0 or n_i[j] == 0:
                continue
            first = big_n[j] ** 2 * (1 - producers[j]) ** 2 * users[j] * (1 - users[j]) / df[j]
            others = sum(big_n[i] ** 2 * strata_var[i, j] for i in range(k) if i != j)
            prod_var[j] = (first + producers[j] ** 2 * others) / n_hat_col[j] ** 2
    notes = []
    single = [v for v, s in zip(values, n_i) if s == 1]
    if single:
        notes.append(f"Map class value(s) {single} hold one reference sample: their variances, and every "
                     "interval they enter, are undefined (NaN). Sample at least 2 (better 50) per class.")
    return AreaAccuracy(class_values=values, mapped_pixels=mapped, pixel_area=float(pixel_area),
                        area_unit=area_unit, sample_per_stratum=n_i.astype(np.int64), proportion=p_col,
                        proportion_se=np.sqrt(prop_var),
                        users=users, users_se=np.sqrt(users_var), producers=producers,
                        producers_se=np.sqrt(prod_var), oa=oa, oa_se=math.sqrt(oa_var), notes=notes)


def pixel_area_ha(transform, crs_wkt: str):
    """(area of one pixel in hectares, "ha") for a projected CRS whose linear unit is known, else (1, "pixels").

    Geographic or unknown CRSs have no fixed pixel area, so areas are then given in pixels.
    """
    import re

    wkt = (crs_wkt or "").strip()
    if not re.match(r"(PROJCS|PROJCRS|PROJECTEDCRS)\[", wkt):
        return 1.0, "pixels"
    units = re.findall(r'(?:LENGTHUNIT|UNIT)\["[^"]*",\s*([0-9.eE+-]+)', wkt)
    try:
        to_m = float(units[-1])
    except (IndexError, ValueError):
        return 1.0, "pixels"
    x0, dx, rx, y0, ry, dy = transform
    area_m2 = abs(dx * dy - rx * ry) * to_m ** 2
    if not (math.isfinite(area_m2) and area_m2 > 0):
        return 1.0, "pixels"
    return area_m2 / 1e4, "ha"
