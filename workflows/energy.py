"""Accuracy and compute energy of a model on a raster: energy counted on a sample of reference pixels (or of
valid pixels without a reference), accuracy on the reference pixels the model was not trained on."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..core.config.schema import DEFAULT_WINDOW, EnergyConfig
from .backend import IOBackend, LabelSource
from .callbacks import Callbacks
from .labels import labels_from_source
from .report import ReportTarget, check_report_target, run_report


@dataclass
class EnergyJob:
    model: object
    """A model file path, or a loaded core.model.HyperSNNModel."""
    raster: str
    reference: Optional[LabelSource] = None
    report: Optional[ReportTarget] = None
    sample: int = 1024
    include_training: bool = False
    seed: int = 0
    window: int = DEFAULT_WINDOW
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    title: Optional[str] = None


@dataclass
class EnergyOutcome:
    """A model's energy (and accuracy where reference labels were given) on a raster, and the report."""

    energy: dict
    """core.energy.costs.energy_report's result: operation counts and their energy, per convention."""
    accuracy: Optional[dict]
    """Accuracy on the reference labels (core.assess.metrics.assess's result); None without them."""
    report: dict
    """The report's content (core/report/schema), written or not."""
    report_paths: dict
    """Kind ("html", "json", ...) -> the file written; empty without a report target."""
    pixels: int
    """Reference pixels scored; `excluded_training_pixels` more were left out as the model's own training."""
    excluded_training_pixels: int
    warnings: list


def run_energy(job: EnergyJob, backend: IOBackend, cb: Optional[Callbacks] = None) -> EnergyOutcome:
    from ..core.energy.costs import energy_lines
    from ..core.mapping.evaluation import evaluate_model
    from ..core.models.torch_model import HyperSNNModel
    from ..core.report.schema import build_report

    cb = cb or Callbacks()
    model_path = job.model if isinstance(job.model, (str, Path)) else None
    ins = [(job.raster, "input raster"), (model_path and str(model_path), "model file")]
    check_report_target(job.report, "energy report", ins + (job.reference.input_files() if job.reference else []))
    model = HyperSNNModel.load(job.model) if model_path else job.model
    name = Path(model_path).name if model_path else "model"
    with cb.capture_warnings():
        reader = backend.open_raster(job.raster)
        try:
            labels = None
            if job.reference is not None:
                labels = labels_from_source(backend, job.reference, reader.info,
                                            names={c["value"]: c["name"] for c in model.classes})
            ev = evaluate_model(model, reader, labels, sample=job.sample, include_training=job.include_training,
                                seed=job.seed, window=job.window, energy_cfg=job.energy, progress=cb.progress,
                                is_canceled=cb.is_canceled)
        finally:
            reader.close()
        rep = build_report(model, ev.assessment, None, ev.energy, title=job.title or f"HyperSNN report: {name}")
        rep["split_protocol"] = dict(rep.get("split_protocol", {}), evaluation=ev.description(
            Path(job.raster).name, labels.source if labels is not None else ""))
        paths = run_report(job.report, rep, class_map=ev.class_map, classes=model.classes) if job.report else {}
    cb.progress(1.0, "done")
    for line in energy_lines(ev.energy):
        cb.log(line.strip())
    return EnergyOutcome(ev.energy, rep.get("accuracy"), rep, paths, ev.energy_pixels, ev.excluded_training_pixels,
                         list(cb.warnings))
