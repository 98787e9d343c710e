"""Classify a whole raster with a model file: class map, confidence, probabilities, energy map."""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Optional

from ..core.config.schema import ClassifyConfig
from ..core.io.files import GEOTIFF_EXTS, check_ending, check_output_file, check_outputs
from .backend import IOBackend
from .callbacks import Callbacks


@dataclass
class ClassifyJob:
    """A classification run as every front end describes it (CLI, the classify dialog's task, Processing, batch)."""

    raster: str
    model: object
    """A model file path, or a loaded model (core.models.torch_model.HyperSNNModel or core.models.engines.OnnxModel)."""
    class_map: str
    """The class map GeoTIFF to write; the other maps are written only when their path is given."""
    confidence: Optional[str] = None
    probabilities: Optional[str] = None
    """One band per class: its probability (large: classes x pixels x 4 bytes)."""
    energy_map: Optional[str] = None
    """SNN energy (pJ, complete convention) and spikes per pixel; needs the torch engine."""
    cfg: ClassifyConfig = field(default_factory=ClassifyConfig)


@dataclass
class ClassifyOutcome:
    class_map: str
    confidence: Optional[str]
    probabilities: Optional[str]
    energy_map: Optional[str]
    classes: list
    pixels: int
    valid_pixels: int
    seconds: float
    class_counts: dict
    energy: Optional[dict]
    warnings: list
    engine: str = "torch"
    """what ran the network: torch, or onnx (ONNX Runtime)"""

    @property
    def pixels_per_second(self) -> float:
        return self.pixels / max(self.seconds, 1e-9)


def check_classify_outputs(job: ClassifyJob) -> None:
    """Every output writable, distinct, named as the GeoTIFF it will be (.tif / .tiff: a map named .png would
    still be a GeoTIFF, which no viewer expects), and none of them an input (the raster or the model file)."""
    if not job.class_map:
        from ..core.errors import OutputError
        raise OutputError("No class map file given")
    outs = []
    for path, what in ((job.class_map, "class map"), (job.confidence, "confidence map"),
                       (job.probabilities, "probability raster"), (job.energy_map, "energy map")):
        outs.append((check_output_file(path, what), what))
    model_path = job.model if isinstance(job.model, (str, os.PathLike)) else None
    check_outputs(outs, [(job.raster, "input raster"), (model_path and os.fspath(model_path), "model file")])
    for path, what in outs:  # after the clashes, which say more ("... is the model file")
        check_ending(path, what, GEOTIFF_EXTS, "GeoTIFF")


def classify_model(job: ClassifyJob):
    """The job's model, loaded for the engine it resolves to (core/models/engines.py); `auto` takes torch when an
    energy map is asked for, since the energy map counts operations on the torch network."""
    from ..core.models.engines import load_classifier

    engine = "torch" if job.energy_map and job.cfg.engine == "auto" else job.cfg.engine
    return load_classifier(job.model, engine)


def map_writer(backend: IOBackend, cfg: ClassifyConfig):
    """The backend's writer for the job's maps: plain tiled GeoTIFF, or with `cfg.cog` a Cloud-Optimized
    GeoTIFF (IOBackend.open_cog_writer)."""
    return backend.open_cog_writer if cfg.cog else backend.open_writer


def run_classify(job: ClassifyJob, backend: IOBackend, cb: Optional[Callbacks] = None,
                 client=None) -> ClassifyOutcome:
    """Classify one raster. With `job.cfg.scheduler` the windows are computed on a Dask cluster
    (workflows/distributed.py; `client`: one already connected, e.g. shared by a batch), else in this process;
    the outputs are the same bytes either way."""
    from ..core.mapping.predict import classify_raster

    cb = cb or Callbacks()
    check_classify_outputs(job)
    open_writer = map_writer(backend, job.cfg)
    if job.cfg.scheduler or client is not None:
        from .distributed import parse_scheduler, require_dask
        parse_scheduler(job.cfg.scheduler)
        require_dask()
    model = classify_model(job)
    with contextlib.ExitStack() as stack:
        runner = None
        if job.cfg.scheduler or client is not None:
            from .distributed import DaskRunner, dask_client, model_payload
            if client is None:
                cb.log(f"starting Dask: {job.cfg.scheduler}")
                client = stack.enter_context(dask_client(job.cfg.scheduler))
            payload, key = model_payload(model, job.model)
            runner = DaskRunner(client, payload, key, model.engine, backend, job.raster)
        with cb.capture_warnings():
            reader = backend.open_raster(job.raster)
            try:
                model.bands.check(reader.info)
                res = classify_raster(model, reader, open_writer, job.class_map, job.confidence, job.probabilities,
                                      job.cfg, progress=cb.progress, is_canceled=cb.is_canceled,
                                      energy_path=job.energy_map, runner=runner)
            finally:
                reader.close()
    where = f", {runner.tasks} Dask tasks" if runner else ""
    cb.log(f"class map written: {res.class_path} ({res.valid_pixels} pixels in {res.seconds:.1f} s, "
           f"{res.pixels_per_second:.0f} px/s, engine {model.engine}{where})")
    if res.energy:
        cb.log(f"energy map written: {res.energy_path}; scene SNN energy {res.energy['snn_mj']:.4f} mJ "
               f"({res.energy['snn_pj_per_pixel'] / 1e3:.2f} nJ per pixel, complete convention, per map pixel)")
    return ClassifyOutcome(res.class_path, res.confidence_path, res.probabilities_path, res.energy_path,
                           list(model.classes), res.pixels, res.valid_pixels, res.seconds, res.class_counts,
                           res.energy, list(cb.warnings), model.engine)
