"""The plugin's jobs (train, classify, assess, energy) on top of the engine, with GDAL/QGIS I/O.

Shared by the QgsTasks (plugin/tasks.py) and the Processing algorithms (plugin/algorithms/): both
gather their inputs on the main thread (polygons are read from QGIS layers there), then call one of
the `run_*` functions in a worker thread with `progress(fraction, message)`, `is_canceled()` and
`log(text)`. No Qt widgets here. Outputs are all-or-nothing: rasters go through GdalWriter (temporary
file + rename), the model file and reports are written atomically, and nothing is written before the
long computation has finished, so a canceled or failed run leaves no partial output.
"""
from __future__ import annotations

import copy
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from ..core.config import RunConfig
from ..core.errors import Canceled, LabelError, OutputError

Progress = Callable[[float, str], None]
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _noop(*a, **k):
    return None


def _never():
    return False


@dataclass
class ClassStyle:
    """Class names and colours chosen by the user (e.g. a categorized renderer), keyed by the raw
    class value as text ("3", "corn")."""

    entries: Dict[str, tuple] = field(default_factory=dict)  # key -> (name, (r, g, b))

    def apply(self, labels) -> None:
        """Rename/recolour `labels.classes` in place: integer classes by value, text classes by name."""
        if not self.entries:
            return
        low = {k.strip().lower(): v for k, v in self.entries.items()}
        for c in labels.classes:
            hit = self.entries.get(str(c.value)) or low.get(str(c.name).strip().lower())
            if hit is None and str(c.name).startswith("Class "):
                hit = low.get(str(c.name)[6:].strip().lower())
            if hit is None:
                continue
            name, color = hit
            if name and (str(c.name) == f"Class {c.value}" or str(c.name).strip().lower() in low):
                c.name = str(name)
            if color is not None:
                c.color = tuple(int(x) for x in tuple(color)[:3])


@dataclass
class TrainJob:
    raster_path: str
    cfg: RunConfig
    model_path: str
    features: Optional[list] = None
    """Training polygons (core.labels.PolygonFeature) already in the raster's CRS."""
    labels_source: str = ""
    validation_features: Optional[list] = None
    """Independent test polygons (raster CRS): the split becomes 'given' (training polygons train,
    these test)."""
    label_raster: Optional[str] = None
    """Alternative to polygons: a label raster on the image grid."""
    class_style: Optional[ClassStyle] = None
    class_map_path: Optional[str] = None
    """Classify the whole raster after training when set."""
    confidence_path: Optional[str] = None
    report_dir: Optional[str] = None
    report_stem: Optional[str] = None
    provenance: dict = field(default_factory=dict)
    input_warnings: List[str] = field(default_factory=list)
    """Warnings raised while the inputs were gathered on the main thread (e.g. reading the polygons:
    'the raster has no CRS; assuming ...'): logged and reported with the run's own warnings."""


@dataclass
class TrainResult:
    model_path: str
    class_map_path: Optional[str]
    confidence_path: Optional[str]
    report_paths: dict
    classes: list
    summary: dict
    warnings: List[str] = field(default_factory=list)
    model: object = None


def _check_output_file(path: Optional[str], what: str, ext: Optional[str] = None) -> Optional[str]:
    if not path:
        return None
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise OutputError(f"The folder for the {what} does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"The folder for the {what} is not writable: {folder}")
    if os.path.isdir(path):
        raise OutputError(f"The {what} path is a folder: {path}")
    if ext and not path.lower().endswith(ext):
        raise OutputError(f"The {what} must end in {ext}: {path}")
    return path


def _check_not_input(outputs, reader) -> None:
    """Refuse, before training, an output that would overwrite the input raster (or its ENVI header)."""
    from ..core.raster import same_file

    inputs = [p for p in (reader.path, getattr(reader, "data_path", None), getattr(reader, "header_path", None)) if p]
    for path, what in outputs:
        if path and any(same_file(path, p) for p in inputs):
            raise OutputError(f"The {what} {path} is the input raster; choose another output file")


def _record_warnings(log):
    """Context manager turning engine warnings into log lines (and a list)."""

    class _Rec:
        def __init__(self):
            self.items: List[str] = []
            self._cm = warnings.catch_warnings(record=True)

        def __enter__(self):
            self._rec = self._cm.__enter__()
            warnings.simplefilter("always")
            return self

        def __exit__(self, *exc):
            for w in self._rec:
                text = str(w.message)
                if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
                    continue
                # only the engine's own, user-facing warnings (labels, bands, files), not library noise
                if not os.path.abspath(w.filename or "").startswith(_PACKAGE_DIR) or "requires_grad" in text:
                    continue
                if text not in self.items:
                    self.items.append(text)
                    log(f"warning: {text}")
            return self._cm.__exit__(*exc)

    return _Rec()


def call_with_warnings(fn, *args, **kwargs):
    """(fn(*args, **kwargs), [the engine's user-facing warnings it raised]): for inputs read on the main
    thread before a job starts, whose warnings would otherwise reach no one."""
    with _record_warnings(_noop) as rec:
        result = fn(*args, **kwargs)
    return result, rec.items


def build_labels(job: TrainJob, info):
    """(Labels, given_map or None) for a training job, on the raster grid of `info`."""
    import numpy as np

    from ..core.labels import labels_from_polygons
    from .io_gdal import rasterize_gdal, read_label_raster

    if job.label_raster:
        labels = read_label_raster(job.label_raster, info)
        given = None
    else:
        if not job.features:
            raise LabelError("No training polygons: draw some in the training layer first")
        feats = list(job.features)
        n_train = len(feats)
        if job.validation_features:
            feats += list(job.validation_features)
        labels = labels_from_polygons(feats, info, rasterize_gdal, source=job.labels_source)
        given = None
        if job.validation_features:
            pid = labels.polygon_ids
            given = np.where(pid > 0, np.where(pid <= n_train, 1, 2), 0).astype(np.uint8)
            given[labels.array == 0] = 0
            if not (given == 1).any():
                raise LabelError("No training pixels left: every training polygon is covered by validation "
                                 "polygons or lies outside the raster")
            if not (given == 2).any():
                raise LabelError("The validation polygons cover no pixel of the raster (check that they overlap "
                                 "it); clear the validation layer to use a split of the training polygons instead")
    if job.class_style is not None:
        job.class_style.apply(labels)
    return labels, given


def _read_band1(path):
    from .io_gdal import open_raster

    r = open_raster(path)
    try:
        return r.read(None, [0])[:, :, 0], r.info
    finally:
        r.close()


def run_train(job: TrainJob, progress: Progress = None, is_canceled=None, log=None) -> TrainResult:
    """Train (CNN -> SNN), optionally classify the raster, then write model file and reports."""
    from ..core.energy import energy_lines, flat_summary
    from ..core.pipeline import train
    from ..core.predict import classify_raster
    from ..core.report import write_report
    from .io_gdal import GdalWriter, open_raster

    progress = progress or _noop
    is_canceled = is_canceled or _never
    log = log or _noop
    t0 = time.perf_counter()
    cfg = copy.deepcopy(job.cfg)
    model_path = _check_output_file(job.model_path, "model file", ".hsnn")
    if not model_path:
        raise OutputError("No model file given: choose where to save the trained model (.hsnn)")
    class_path = _check_output_file(job.class_map_path, "class map")
    conf_path = _check_output_file(job.confidence_path, "confidence map")
    report_dir = job.report_dir or os.path.dirname(class_path or model_path)
    stem = job.report_stem or (Path(class_path).stem if class_path else Path(model_path).stem) + "_report"
    _check_output_file(os.path.join(report_dir, stem + ".html"), "report")
    if job.validation_features:
        cfg.split.method = "given"
    span = 0.85 if class_path else 0.97

    with _record_warnings(log) as rec:
        for text in job.input_warnings:
            if text not in rec.items:
                rec.items.append(text)
                log(f"warning: {text}")
        reader = open_raster(job.raster_path)
        try:
            _check_not_input([(class_path, "class map"), (conf_path, "confidence map")], reader)
            labels, given = build_labels(job, reader.info)
            log(f"labels: {int((labels.array > 0).sum())} labelled pixels in {len(labels.classes)} classes ("
                + ", ".join(f"{c.value} {c.name}" for c in labels.classes) + ")")
            if is_canceled():
                raise Canceled("training canceled")
            outcome = train(reader, labels, cfg, None, progress=lambda f, m: progress(span * f, m),
                            is_canceled=is_canceled, given_map=given, log=log,
                            provenance=dict(job.provenance, tool="HyperSNN QGIS plugin"))
            class_map = None
            res = None
            if class_path:
                progress(span, "classifying the raster")
                res = classify_raster(outcome.model, reader, GdalWriter, class_path, conf_path, None, cfg.classify,
                                      progress=lambda f, m: progress(span + (0.97 - span) * f, m),
                                      is_canceled=is_canceled)
                log(f"class map written: {class_path} ({res.valid_pixels} pixels in {res.seconds:.1f} s)")
        finally:
            reader.close()
        # Past this point the run is finished: outputs are written even if cancel is pressed now.
        progress(0.97, "writing model file and report")
        outcome.model.save(model_path)
        log(f"model written: {model_path}")
        if class_path:
            class_map, _ = _read_band1(class_path)
        report = outcome.report
        report["title"] = f"HyperSNN training report: {Path(model_path).name}"
        report["inputs"] = {"raster": job.raster_path, "labels": job.labels_source or job.label_raster or "",
                            "model": model_path, "class_map": class_path or "", "confidence": conf_path or ""}
        timing = dict(outcome.seconds)
        if res is not None:
            timing.update(classify=res.seconds, classify_pixels_per_s=res.pixels_per_second)
        timing["total"] = time.perf_counter() - t0
        report["timing"] = timing
        paths = write_report(report_dir, stem, report, class_map=class_map, classes=outcome.model.classes)
    progress(1.0, "done")
    a = outcome.test_snn
    summary = {
        "oa": a.oa if a else None, "aa": a.aa if a else None, "kappa": a.kappa if a else None,
        "n_test": a.n if a else 0,
        "cnn_oa": outcome.test_cnn.oa if outcome.test_cnn else None,
        "energy_ratios": flat_summary(outcome.energy),
        "energy_lines": energy_lines(outcome.energy),
        "seconds": time.perf_counter() - t0,
    }
    return TrainResult(model_path, class_path, conf_path, paths, list(outcome.model.classes), summary, rec.items,
                       outcome.model)


@dataclass
class ClassifyOutput:
    class_map_path: str
    confidence_path: Optional[str]
    probabilities_path: Optional[str]
    classes: list
    valid_pixels: int
    seconds: float
    class_counts: dict
    energy_map_path: Optional[str] = None
    energy: Optional[dict] = None


def load_model(path):
    from ..core.model import HyperSNNModel

    return HyperSNNModel.load(path)


def run_classify(raster_path: str, model, class_map_path: str, confidence_path: Optional[str] = None,
                 probabilities_path: Optional[str] = None, ccfg=None, progress: Progress = None,
                 is_canceled=None, log=None, energy_map_path: Optional[str] = None) -> ClassifyOutput:
    """Classify a whole raster with a model (object or .hsnn path); all outputs or none."""
    from ..core.config import ClassifyConfig
    from ..core.predict import classify_raster
    from .io_gdal import GdalWriter, open_raster

    log = log or _noop
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    class_map_path = _check_output_file(class_map_path, "class map")
    if not class_map_path:
        raise OutputError("No class map file given")
    confidence_path = _check_output_file(confidence_path, "confidence map")
    probabilities_path = _check_output_file(probabilities_path, "probability raster")
    energy_map_path = _check_output_file(energy_map_path, "energy map")
    ccfg = ccfg or ClassifyConfig(window=128)
    with _record_warnings(log):
        reader = open_raster(raster_path)
        try:
            model.bands.check(reader.info)
            res = classify_raster(model, reader, GdalWriter, class_map_path, confidence_path, probabilities_path,
                                  ccfg, progress=progress, is_canceled=is_canceled, energy_path=energy_map_path)
        finally:
            reader.close()
    log(f"class map written: {class_map_path} ({res.valid_pixels} pixels in {res.seconds:.1f} s, "
        f"{res.pixels_per_second:.0f} px/s)")
    if res.energy:
        log(f"energy map written: {energy_map_path}; scene SNN energy {res.energy['snn_mj']:.4f} mJ "
            f"({res.energy['snn_pj_per_pixel'] / 1e3:.2f} nJ per pixel, complete convention, per map pixel)")
    return ClassifyOutput(res.class_path, res.confidence_path, res.probabilities_path, list(model.classes),
                          res.valid_pixels, res.seconds, res.class_counts, res.energy_path, res.energy)


# ------------------------------------------------------------------------------------------------
# reference labels for assessment


def features_to_class_values(features: list, names: Dict[int, str], where: str) -> list:
    """Reference polygons whose class field holds text are matched to the class map's class names."""
    from ..core.labels import PolygonFeature

    texts = [f.value for f in features if isinstance(f.value, str) and f.value.strip()
             and not f.value.strip().lstrip("-").isdigit()]
    if not texts:
        return features
    lut = {str(n).strip().lower(): int(v) for v, n in names.items() if int(v) > 0}
    unknown = sorted({t for t in texts if t.strip().lower() not in lut})
    if unknown:
        raise LabelError(f"{where}: class name(s) {unknown[:10]} are not among the class map's classes "
                         f"({', '.join(f'{v}: {n}' for v, n in sorted(names.items()) if v > 0) or 'none named'}); "
                         f"use a class field with the numeric class values")
    return [PolygonFeature(f.geometry, lut[f.value.strip().lower()] if isinstance(f.value, str) and
                           f.value.strip().lower() in lut else f.value, f.fid) for f in features]


def reference_labels(info, features: Optional[list] = None, label_raster: Optional[str] = None,
                     names: Optional[dict] = None, source: str = ""):
    from ..core.labels import labels_from_polygons
    from .io_gdal import rasterize_gdal, read_label_raster

    if label_raster:
        return read_label_raster(label_raster, info)
    if not features:
        raise LabelError("No reference data: give reference polygons or a reference label raster")
    feats = features_to_class_values(features, names or {}, source or "reference polygons")
    return labels_from_polygons(feats, info, rasterize_gdal, source=source)


@dataclass
class AssessOutput:
    accuracy: dict
    report_paths: dict
    n: int


def _report_target(html_path: str):
    html_path = _check_output_file(html_path, "report")
    p = Path(html_path)
    stem = p.stem if p.suffix.lower() in (".html", ".htm", ".json") else p.name
    return str(p.parent), stem


def run_assess(map_path: str, report_html: Optional[str], features: Optional[list] = None,
               label_raster: Optional[str] = None, source: str = "", exclude_mask=None,
               log=None, title: Optional[str] = None) -> AssessOutput:
    """Accuracy of a class map against reference polygons (map CRS) or a reference label raster."""
    import numpy as np

    from ..core.metrics import assess
    from ..core.report import write_report
    from .io_gdal import read_class_metadata

    log = log or _noop
    with _record_warnings(log):
        pred, info = _read_band1(map_path)
        names, colors = read_class_metadata(map_path)
        labels = reference_labels(info, features, label_raster, names, source)
        nodata = int(info.nodata) if info.nodata is not None and np.isfinite(info.nodata) else 0
        present = {int(v) for v in np.unique(pred) if int(v) != nodata and int(v) > 0}
        values = sorted({int(c.value) for c in labels.classes} | {int(v) for v in names if int(v) > 0} | present)
        mask = None
        excluded = 0
        if exclude_mask is not None:
            mask = ~np.asarray(exclude_mask, bool)
            excluded = int(((labels.array > 0) & ~mask).sum())
        a = assess(labels.array, pred.astype("int64"), values, mask=mask, pred_nodata=nodata)
        cls_names = {v: names.get(v) or next((c.name for c in labels.classes if c.value == v), f"Class {v}")
                     for v in values}
        classes = [{"value": v, "name": cls_names[v],
                    "color": colors.get(v) or next((c.color for c in labels.classes if c.value == v), None)}
                   for v in values]
        desc = f"all labelled pixels of {labels.source or 'the reference'} used as reference"
        if excluded:
            desc += f"; {excluded} pixels used in training excluded"
        else:
            desc += "; exclude training pixels for an unbiased estimate"
        report = {"title": title or f"Accuracy of {Path(map_path).name}", "accuracy": a.to_dict(cls_names),
                  "split_protocol": {"description": desc}}
        paths = {}
        if report_html:
            out_dir, stem = _report_target(report_html)
            paths = write_report(out_dir, stem, report, class_map=pred, classes=classes, map_nodata=nodata)
    log(f"OA {100 * a.oa:.2f} %  AA {100 * a.aa:.2f} %  kappa {a.kappa:.4f}  ({a.n} reference pixels)")
    return AssessOutput(report["accuracy"], paths, a.n)


# ------------------------------------------------------------------------------------------------
# energy report


def run_energy(model, raster_path: str, report_html: Optional[str], features: Optional[list] = None,
               label_raster: Optional[str] = None, source: str = "", sample: int = 1024,
               include_training: bool = False, seed: int = 0, window: int = 128, progress: Progress = None,
               is_canceled=None, log=None, title: Optional[str] = None, energy_table: Optional[str] = None) -> dict:
    """Energy per pixel of a model (SNN vs FP32 and k-bit CNN) measured on a sample of reference pixels
    (or of valid pixels when no reference is given), plus the accuracy on the reference pixels that
    were not used in training. Reads the raster window by window."""
    from ..core.evaluation import evaluate_model
    from ..core.pipeline import build_report
    from ..core.report import write_report
    from .io_gdal import open_raster

    progress = progress or _noop
    is_canceled = is_canceled or _never
    log = log or _noop
    if isinstance(model, (str, os.PathLike)):
        model_name = Path(model).name
        model = load_model(model)
    else:
        model_name = "model"
    with _record_warnings(log):
        reader = open_raster(raster_path)
        try:
            labels = None
            if features or label_raster:
                labels = reference_labels(reader.info, features, label_raster,
                                          {c["value"]: c["name"] for c in model.classes}, source)
            ev = evaluate_model(model, reader, labels, sample=sample, include_training=include_training, seed=seed,
                                window=window, energy_table=energy_table, progress=progress,
                                is_canceled=is_canceled)
        finally:
            reader.close()
        energy, a, pred, excluded = ev.energy, ev.assessment, ev.class_map, ev.excluded_training_pixels
        rep = build_report(model, a, None, energy, title=title or f"HyperSNN energy report: {model_name}")
        evaluation = ev.description(Path(raster_path).name, labels.source if labels is not None else "")
        rep["split_protocol"] = dict(rep.get("split_protocol", {}), evaluation=evaluation)
        paths = {}
        if report_html:
            out_dir, stem = _report_target(report_html)
            paths = write_report(out_dir, stem, rep, class_map=pred if pred is not None else None,
                                 classes=model.classes)
    progress(1.0, "done")
    from ..core.energy import energy_lines
    for line in energy_lines(energy):
        log(line.strip())
    return {"energy": energy, "accuracy": rep.get("accuracy"), "report_paths": paths, "pixels": ev.energy_pixels,
            "excluded_training_pixels": excluded}
