"""Train a model (CNN -> SNN) from a raster and labels; optionally classify the raster with it; write the model
file and the training report. Every output location is checked before any pixel is read."""
from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from ..core.config.schema import RunConfig, SplitConfig
from ..core.errors import Canceled, OutputError
from ..core.io.files import check_output_file, check_outputs
from .backend import IOBackend, LabelSource
from .callbacks import Callbacks
from .classify import ClassifyJob, check_classify_outputs
from .labels import ClassStyle, training_labels
from .report import ReportTarget, check_report_not_foreign, run_report


@dataclass
class TrainJob:
    """A training run as every front end describes it (CLI, the train dialog's task, Processing, the demo)."""

    raster: str
    labels: LabelSource
    """The training labels: a label raster, a vector file with its class field, or features already read."""
    cfg: RunConfig
    model_path: str
    """The model file (.hsnn) to write."""
    validation: Optional[LabelSource] = None
    """Independent test polygons: every training pixel trains, these test (split 'given')."""
    split_map: Optional[str] = None
    """A raster with 1 = train, 2 = test (split 'given')."""
    class_map: Optional[str] = None
    """Classify the whole raster after training when set."""
    confidence: Optional[str] = None
    """The confidence map beside the class map (the winning class's probability)."""
    energy_map: Optional[str] = None
    """The energy map beside the class map (SNN energy and spikes per pixel)."""
    report: Optional[ReportTarget] = None
    """Where the training report goes (`default_report_target` for the plugin's default); None: no report."""
    checkpoint_dir: Optional[str] = None
    class_style: Optional[ClassStyle] = None
    provenance: dict = field(default_factory=dict)
    title: Optional[str] = None
    inputs: list = field(default_factory=list)
    """Other input files of the run, as (path, what) (e.g. the settings file), that no output may replace."""
    input_warnings: List[str] = field(default_factory=list)
    """Warnings raised while the inputs were gathered (e.g. by QGIS on the main thread), reported with the run's."""
    replace_reports: bool = False
    """The user agreed (e.g. a dialog asked) to replace the report folder's files of the report's names even where
    HyperSNN did not write them; otherwise such a file stops the run (check_report_not_foreign)."""


@dataclass
class TrainResult:
    model_path: str
    class_map: Optional[str]
    confidence: Optional[str]
    energy_map: Optional[str]
    report_paths: dict
    report: dict
    classes: list
    summary: dict
    model: object
    outcome: object
    """core.pipeline.TrainOutcome (accuracies, energy, timings)."""
    warnings: List[str] = field(default_factory=list)


def default_report_target(model_path: str, class_map: Optional[str] = None) -> ReportTarget:
    """Beside the class map, or the model file, as <stem>_report.*."""
    base = class_map or model_path
    return ReportTarget(os.path.dirname(os.path.abspath(base)), Path(base).stem + "_report")


def check_train_outputs(job: TrainJob) -> Optional[ReportTarget]:
    """OutputError now, before any work, for an output that cannot be written, is an input or another output."""
    model_path = check_output_file(job.model_path, "model file", [".hsnn"])
    if not model_path:
        raise OutputError("No model file given: choose where to save the trained model (.hsnn)")
    target = job.report.check() if job.report is not None else None
    if not job.replace_reports:
        check_report_not_foreign(target, "training report", "--report-dir")
    outs = [(model_path, "model file")] + (target.outputs() if target else [])
    if job.class_map:
        cj = ClassifyJob(job.raster, None, job.class_map, job.confidence, None, job.energy_map)
        check_classify_outputs(cj)
        outs += [(job.class_map, "class map"), (job.confidence, "confidence map"), (job.energy_map, "energy map")]
    elif job.confidence or job.energy_map:
        raise OutputError("a confidence or energy map needs a class map path (the raster is classified after training)")
    ins = [(job.raster, "input raster"), (job.split_map, "split map")] + job.labels.input_files() + list(job.inputs)
    if job.validation is not None:
        ins += job.validation.input_files()
    check_outputs(outs, ins)
    return target


def run_train(job: TrainJob, backend: IOBackend, cb: Optional[Callbacks] = None) -> TrainResult:
    from ..core.energy.costs import energy_lines, flat_summary
    from ..core.training.pipeline import train
    from ..core.mapping.predict import classify_raster

    cb = cb or Callbacks()
    t0 = time.perf_counter()
    cfg = copy.deepcopy(job.cfg).validate()
    target = check_train_outputs(job)
    span = 0.85 if job.class_map else 0.97
    for text in job.input_warnings:
        cb.warn(text)
    res = None
    with cb.capture_warnings():
        reader = backend.open_raster(job.raster)
        try:
            labels, given = training_labels(backend, job.labels, reader.info, job.validation, job.split_map,
                                            job.class_style)
            if given is not None and cfg.split.method != "given":
                if job.validation is None and cfg.split.method != SplitConfig().method:
                    cb.warn(f"a split map was given: split method {cfg.split.method!r} replaced by 'given'")
                cfg.split.method = "given"
            cb.log(f"labels: {int((labels.array > 0).sum())} labelled pixels in {len(labels.classes)} classes ("
                   + ", ".join(f"{c.value} {c.name}" for c in labels.classes) + ")")
            if cb.is_canceled():
                raise Canceled("training canceled")
            outcome = train(reader, labels, cfg, None, progress=cb.span(0.0, span), is_canceled=cb.is_canceled,
                            checkpoint_dir=job.checkpoint_dir, given_map=given, log=cb.log,
                            provenance=dict(job.provenance))
            if job.class_map:
                cb.progress(span, "classifying the raster")
                res = classify_raster(outcome.model, reader, backend.open_writer, job.class_map, job.confidence, None,
                                      cfg.classify, progress=cb.span(span, 0.97), is_canceled=cb.is_canceled,
                                      energy_path=job.energy_map)
                cb.log(f"class map written: {job.class_map} ({res.valid_pixels} pixels in {res.seconds:.1f} s)")
        finally:
            reader.close()
        # Past this point the run is finished: the model and report are written even if cancel is pressed now.
        cb.progress(0.97, "writing model file and report")
        outcome.model.save(job.model_path)
        cb.log(f"model written: {job.model_path}")
        class_map = None
        if job.class_map:
            r = backend.open_raster(job.class_map)
            try:
                class_map = r.read(None, [0])[:, :, 0]
            finally:
                r.close()
        report = outcome.report
        report["title"] = job.title or f"HyperSNN training report: {Path(job.model_path).name}"
        report["inputs"] = {"raster": job.raster, "labels": job.labels.name, "model": job.model_path,
                            "class_map": job.class_map or "", "confidence": job.confidence or "",
                            "energy_map": job.energy_map or ""}
        timing = dict(outcome.seconds)
        if res is not None:
            timing.update(classify=res.seconds, classify_pixels_per_s=res.pixels_per_second)
            if res.energy:
                report.setdefault("energy", {})["scene_map"] = res.energy
        timing["total"] = time.perf_counter() - t0
        report["timing"] = timing
        if cb.warnings:
            report["warnings"] = list(cb.warnings)
        paths = run_report(target, report, class_map=class_map, classes=outcome.model.classes) if target else {}
    for line in energy_lines(outcome.energy):
        cb.log(line.strip())
    cb.progress(1.0, "done")
    a = outcome.test_snn
    summary = {
        "oa": a.oa if a else None, "aa": a.aa if a else None, "kappa": a.kappa if a else None,
        "n_test": a.n if a else 0, "cnn_oa": outcome.test_cnn.oa if outcome.test_cnn else None,
        "energy_ratios": flat_summary(outcome.energy), "seconds": time.perf_counter() - t0,
        "baseline_oa": max(b["oa"] for b in outcome.comparison["baselines"]) if outcome.comparison else None,
        "verdict": outcome.comparison["verdict"] if outcome.comparison else None,
        "trust_warnings": list(report.get("trust_warnings") or []),
        "accuracy_kind": ("cross-validated" if (report.get("split_protocol") or {}).get("method") == "cv" else "test"),
    }
    return TrainResult(job.model_path, job.class_map, job.confidence, job.energy_map, paths, report,
                       list(outcome.model.classes), summary, outcome.model, outcome, list(cb.warnings))
