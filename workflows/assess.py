"""Accuracy of a class map against reference labels on its grid (polygons, points or a label raster)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .backend import IOBackend, LabelSource
from .callbacks import Callbacks
from .labels import labels_from_source
from .report import ReportTarget, check_report_target, run_report


@dataclass
class AssessJob:
    class_map: str
    reference: LabelSource
    report: Optional[ReportTarget] = None
    exclude_mask: Optional[np.ndarray] = None
    """Pixels to leave out (e.g. those the model was trained on), on the map's grid."""
    title: Optional[str] = None
    area_adjusted: bool = False
    """Add area-adjusted accuracy and class areas with 95 % intervals (core/assess/area_accuracy.py): for a
    reference that is a stratified (by map class) or simple random sample."""


@dataclass
class AssessOutcome:
    """The accuracy of a class map against reference labels, and the report written for it."""

    accuracy: dict
    """core.assess.metrics.assess's result (OA, AA, kappa, per class; area-adjusted estimates when asked)."""
    report: dict
    """The report's content (core/report/schema), written or not."""
    report_paths: dict
    """Kind ("html", "json", "per_class_csv", ...) -> the file written; empty without a report target."""
    n: int
    """Reference pixels compared."""
    warnings: list
    """What the run warned about (nodata in the reference, classes missing from the map, ...)."""


def run_assess(job: AssessJob, backend: IOBackend, cb: Optional[Callbacks] = None) -> AssessOutcome:
    from ..core.assess.metrics import assess

    cb = cb or Callbacks()
    check_report_target(job.report, "accuracy report", [(job.class_map, "class map")] + job.reference.input_files(),
                        "--report-dir")
    with cb.capture_warnings():
        r = backend.open_raster(job.class_map)
        try:
            pred, info = r.read(None, [0])[:, :, 0], r.info
        finally:
            r.close()
        names, colors = backend.read_class_metadata(job.class_map)
        labels = labels_from_source(backend, job.reference, info, names={v: n for v, n in names.items()})
        nodata = int(info.nodata) if info.nodata is not None and np.isfinite(info.nodata) else 0
        present = {int(v) for v in np.unique(pred) if int(v) != nodata and int(v) > 0}
        values = sorted({int(c.value) for c in labels.classes} | {int(v) for v in names if int(v) > 0} | present)
        mask, excluded = None, 0
        if job.exclude_mask is not None:
            mask = ~np.asarray(job.exclude_mask, bool)
            excluded = int(((labels.array > 0) & ~mask).sum())
        a = assess(labels.array, pred.astype("int64"), values, mask=mask, pred_nodata=nodata)
        cls_names = {v: names.get(v) or next((c.name for c in labels.classes if c.value == v), f"Class {v}")
                     for v in values}
        classes = [{"value": v, "name": cls_names[v],
                    "color": colors.get(v) or next((c.color for c in labels.classes if c.value == v), None)}
                   for v in values]
        desc = f"all labelled pixels of {labels.source or 'the reference'} used as reference"
        desc += (f"; {excluded} pixels used in training excluded" if excluded
                 else "; exclude training pixels for an unbiased estimate")
        accuracy = a.to_dict(cls_names)
        if job.area_adjusted:
            accuracy["area_adjusted"] = _area_adjusted(a, pred, nodata, info, cls_names, cb)
        report = {"title": job.title or f"Accuracy of {Path(job.class_map).name}", "accuracy": accuracy,
                  "split_protocol": {"description": desc}}
        paths = run_report(job.report, report, class_map=pred, classes=classes, map_nodata=nodata) if job.report else {}
    cb.log(f"OA {100 * a.oa:.2f} %  AA {100 * a.aa:.2f} %  kappa {a.kappa:.4f}  ({a.n} reference pixels)")
    return AssessOutcome(report["accuracy"], report, paths, a.n, list(cb.warnings))


def _area_adjusted(a, pred, nodata: int, info, cls_names: dict, cb: Callbacks) -> Optional[dict]:
    """Olofsson et al. (2014) estimates from the assessment's sample and the map's class counts; a map
    class without reference samples leaves them out with a warning instead of failing the assessment."""
    from ..core.assess.area_accuracy import area_adjusted, pixel_area_ha
    from ..core.errors import InputError

    valid = pred[pred != nodata].astype("int64")
    counts = {int(v): int(c) for v, c in zip(*np.unique(valid, return_counts=True))}
    pixel_area, unit = pixel_area_ha(info.transform, info.crs_wkt)
    try:
        est = area_adjusted(a.confusion, [counts.get(v, 0) for v in a.class_values], a.class_values,
                            pixel_area=pixel_area, area_unit=unit)
    except InputError as e:
        cb.warn(f"Area-adjusted estimates not computed: {e}")
        return {"error": str(e)}
    d = est.to_dict(cls_names)
    cb.log(f"Area-adjusted OA {100 * est.oa:.2f} % +- {100 * 1.96 * est.oa_se:.2f} (95 %), areas in {unit}")
    return d
