"""Training from a raster and its labels, end to end: prepare, CNN -> SNN, assess, count energy, model file.

Callers (core/workflows, the bench, tests) open the raster and labels with their own I/O (a RasterReader, a
Labels) and pass `progress(fraction, message)` / `is_canceled()`; nothing here knows which library read the
pixels.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import numpy as np

from .config import RunConfig
from .energy import model_file_summary
from .errors import Canceled
from .evaluation import assess_net, measure_energy
from .files import check_output_file, check_outputs
from .labels import Labels
from .metrics import Assessment
from .model import BandContract, HyperSNNModel
from .prepare import prepare
from .raster import RasterInfo, RasterReader
from .report import build_report
from .train import Trainer


def _noop_progress(f, m):
    pass


def _never():
    return False


@dataclass
class TrainOutcome:
    model: HyperSNNModel
    test_snn: Optional[Assessment]
    test_cnn: Optional[Assessment]
    energy: dict
    report: dict
    seconds: dict = field(default_factory=dict)
    """Wall-clock durations per stage (kept here and in the report, not in the model file)."""
    resumed: list = field(default_factory=list)
    """Checkpoints the run resumed from (e.g. ["cnn epoch 3"]); empty for an uninterrupted run."""
    val_energy: Optional[dict] = None
    """The energy report measured on the validation pixels (for choosing settings without test data)."""


def check_model_output(path, info: RasterInfo, labels_source: str = "") -> str:
    """Refuse, before training, a model path that could not be written or would overwrite an input."""
    path = check_output_file(path, "model file")
    check_outputs([(path, "model file")], [(info.path, "input raster"), (labels_source, "training labels")])
    return path


def train(reader: RasterReader, labels: Labels, cfg: RunConfig, model_path: Optional[str] = None,
          progress: Callable = None, is_canceled: Callable = None, checkpoint_dir=None, given_map=None,
          log: Callable[[str], None] = lambda s: None, provenance: Optional[dict] = None,
          window: Optional[int] = None) -> TrainOutcome:
    """Prepare, train CNN -> SNN, assess on the test pixels, count energy, save the model file.

    The model file depends only on the inputs, the settings and the seed: the same run twice gives
    byte-identical files (durations and dates go to the outcome's report, not into the file).
    """
    cfg.validate()
    progress = progress or _noop_progress
    is_canceled = is_canceled or _never
    if model_path:
        check_model_output(model_path, reader.info, labels.source)
    t0 = time.perf_counter()
    progress(0.0, "reading raster and labels")
    prep = prepare(reader, labels, cfg, given_map, progress=lambda f, m: progress(0.02 * f, m),
                   is_canceled=is_canceled, window=window)
    t_prep = time.perf_counter() - t0
    log(f"{len(prep.band_indices)} bands -> {prep.preprocessor.n_out} features; split: "
        f"{len(prep.train)} train / {len(prep.val)} val / {len(prep.test)} test pixels; "
        f"patch bank {prep.source.nbytes / 2 ** 20:.1f} MiB")
    names = {c.value: c.name for c in labels.classes}
    colors = {c.value: list(c.color) for c in labels.classes}
    classes = [{"value": v, "name": names.get(v, f"Class {v}"), "color": colors.get(v, [128, 128, 128])}
               for v in prep.class_values]

    def stage_progress(f, m):
        progress(0.02 + 0.9 * f, m)

    trainer = Trainer(cfg.model, cfg.train, prep.preprocessor.n_out, len(classes), stage_progress,
                      is_canceled, checkpoint_dir, log)
    # the raw pixels and preprocessing settings, not the fitted numbers (whose last bits depend on BLAS threads)
    trainer.data_key = hashlib.sha256(json.dumps(
        [prep.data_sha256, asdict(cfg.preprocess), prep.class_values], sort_keys=True).encode()).hexdigest()
    net = trainer.fit(prep.source, prep.train, prep.val)

    progress(0.93, "assessing on test pixels")
    t1 = time.perf_counter()
    cnn_state = {k: v.detach().numpy().copy() for k, v in (trainer.cnn_state or {}).items()}
    model = HyperSNNModel(
        net=net,
        bands=BandContract(reader.info.count, [int(i) for i in prep.band_indices],
                           [reader.info.band_names[i] for i in prep.band_indices],
                           [reader.info.wavelengths[i] for i in prep.band_indices] if reader.info.wavelengths else None),
        preprocessor=prep.preprocessor, classes=classes, cnn_state=cnn_state or None)
    test_snn = test_cnn = None
    if len(prep.test):
        test_snn = assess_net(net, prep, is_canceled)
        if cnn_state:
            model.meta["cnn_bits"] = cfg.train.weight_bits if cfg.train.cnn_qat else 0
            test_cnn = assess_net(model.cnn_net(), prep, is_canceled)
    energy = measure_energy(net, prep.source, prep.test if len(prep.test) else prep.train, cfg,
                            scene_pixels=int(prep.valid.sum()))
    val_energy = measure_energy(net, prep.source, prep.val, cfg) if len(prep.val) else None
    seconds = {"prepare": t_prep, **trainer.history.seconds, "assess": time.perf_counter() - t1}
    model.meta.update({
        "config": cfg.to_dict(),
        "split_protocol": prep.split.protocol,
        "split_masks": {"shape": list(prep.split.shape)},
        "metrics": {"test_snn": test_snn.to_dict([c["name"] for c in classes]) if test_snn else None,
                    "test_cnn": test_cnn.to_dict([c["name"] for c in classes]) if test_cnn else None,
                    "best_val": trainer.history.best_val},
        "energy": model_file_summary(energy),
        "history": {"epochs": trainer.history.epochs, "thresholds_init": trainer.history.thresholds},
        "provenance": dict(provenance or {}, labels=labels.source, raster=reader.info.path,
                           seed=cfg.train.seed),
    })
    model.train_mask = np.packbits(prep.split.train | prep.split.val)
    if is_canceled():
        raise Canceled("training canceled before the model file was written")
    if model_path:
        progress(0.98, "writing model file")
        model.save(model_path)
    report = build_report(model, test_snn, test_cnn, energy, seconds)
    if trainer.history.resumed:
        report["resumed_after"] = list(trainer.history.resumed)
    progress(1.0, "done")
    return TrainOutcome(model, test_snn, test_cnn, energy, report, seconds, list(trainer.history.resumed), val_energy)
