"""The engine's jobs as plain functions: train, classify, assess, energy, report.

Callers (CLI, QGIS task, Processing algorithms) open the raster and labels with their own I/O (a
RasterReader, a Labels) and pass `progress(fraction, message)` / `is_canceled()`; nothing here knows
which library read the pixels.
"""
from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from .bands import select_bands
from .config import RunConfig
from .energy import count_ops, energy_report
from .errors import InputError, LabelError
from .labels import Labels
from .metrics import Assessment, assess
from .model import BandContract, HyperSNNModel
from .patches import PatchSource, pad_cube
from .predict import predict_padded, valid_mask
from .preprocess import Preprocessor
from .raster import RasterReader
from .splits import Split, make_split
from .train import PixelSet, Trainer

ENERGY_SAMPLE = 1024


def _noop_progress(f, m):
    pass


def _never():
    return False


@dataclass
class Prepared:
    """A raster and its labels turned into what the trainer consumes."""

    band_indices: list
    split: Split
    preprocessor: Preprocessor
    source: PatchSource
    class_values: list
    train: PixelSet
    val: PixelSet
    test: PixelSet
    valid: np.ndarray


def _pixels(mask: np.ndarray, labels: np.ndarray, lut: dict) -> PixelSet:
    rows, cols = np.nonzero(mask)
    return PixelSet(rows.astype(np.int64), cols.astype(np.int64),
                    np.array([lut[int(v)] for v in labels[rows, cols]], dtype=np.int64))


def prepare(reader: RasterReader, labels: Labels, cfg: RunConfig, given_map=None) -> Prepared:
    info = reader.info
    if labels.array.shape != (info.height, info.width):
        raise LabelError(f"labels {labels.source} have shape {labels.array.shape} but raster {info.path} is "
                         f"{info.height} x {info.width}: labels must be on the raster's grid")
    idx = select_bands(info, cfg.bands)
    cube = reader.read(None, idx)
    valid = valid_mask(cube, info.nodata)
    if not valid.any():
        raise InputError(f"raster {info.path}: every pixel is nodata or non-finite in the selected bands")
    split = make_split(labels.array, cfg.split, polygon_ids=labels.polygon_ids, given_map=given_map,
                       valid_mask=valid, patch_size=cfg.model.patch_size)
    values = [int(v) for v in np.unique(labels.array[split.train | split.val | split.test]) if v > 0]
    lut = {v: i for i, v in enumerate(values)}
    pre = Preprocessor.from_config(cfg.preprocess).fit(cube[split.train].astype(np.float64))
    x = pre.transform(np.where(valid[..., None], cube, 0))
    x[~valid] = 0.0
    del cube
    source = PatchSource(pad_cube(x, cfg.model.patch_size), cfg.model.patch_size)
    return Prepared(idx, split, pre, source, values, _pixels(split.train, labels.array, lut),
                    _pixels(split.val, labels.array, lut), _pixels(split.test, labels.array, lut), valid)


@dataclass
class TrainOutcome:
    model: HyperSNNModel
    test_snn: Optional[Assessment]
    test_cnn: Optional[Assessment]
    energy: dict
    report: dict
    seconds: dict = field(default_factory=dict)


def train(reader: RasterReader, labels: Labels, cfg: RunConfig, model_path: Optional[str] = None,
          progress: Callable = None, is_canceled: Callable = None, checkpoint_dir=None, given_map=None,
          log: Callable[[str], None] = lambda s: None, provenance: Optional[dict] = None) -> TrainOutcome:
    """Prepare, train CNN -> SNN, assess on the test pixels, count energy, save the model file."""
    cfg.validate()
    progress = progress or _noop_progress
    is_canceled = is_canceled or _never
    t0 = time.perf_counter()
    torch.manual_seed(cfg.train.seed)
    progress(0.0, "reading raster and labels")
    prep = prepare(reader, labels, cfg, given_map)
    t_prep = time.perf_counter() - t0
    log(f"{len(prep.band_indices)} bands -> {prep.preprocessor.n_out} features; split: "
        f"{len(prep.train)} train / {len(prep.val)} val / {len(prep.test)} test pixels")
    names = {c.value: c.name for c in labels.classes}
    colors = {c.value: list(c.color) for c in labels.classes}
    classes = [{"value": v, "name": names.get(v, f"Class {v}"), "color": colors.get(v, [128, 128, 128])}
               for v in prep.class_values]

    def stage_progress(f, m):
        progress(0.02 + 0.9 * f, m)

    trainer = Trainer(cfg.model, cfg.train, prep.preprocessor.n_out, len(classes), stage_progress,
                      is_canceled, checkpoint_dir, log)
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
    energy = measure_energy(net, prep.source, prep.test if len(prep.test) else prep.train, cfg)
    seconds = {"prepare": t_prep, **trainer.history.seconds, "assess": time.perf_counter() - t1}
    model.meta.update({
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": cfg.to_dict(),
        "split_protocol": prep.split.protocol,
        "split_masks": {"shape": list(prep.split.shape)},
        "metrics": {"test_snn": test_snn.to_dict([c["name"] for c in classes]) if test_snn else None,
                    "test_cnn": test_cnn.to_dict([c["name"] for c in classes]) if test_cnn else None,
                    "best_val": trainer.history.best_val},
        "energy": {k: energy[k] for k in ("totals", "ratios", "bits", "time_steps")},
        "history": {"epochs": trainer.history.epochs, "thresholds_init": trainer.history.thresholds,
                    "resumed_after": trainer.history.resumed},
        "timing_s": seconds,
        "provenance": dict(provenance or {}, labels=labels.source, raster=reader.info.path,
                           seed=cfg.train.seed),
    })
    model.meta["split_train_mask"] = np.packbits(prep.split.train | prep.split.val).tolist() \
        if prep.split.train.size <= 4_000_000 else None
    if model_path:
        progress(0.98, "writing model file")
        model.save(model_path)
    report = build_report(model, test_snn, test_cnn, energy, seconds)
    progress(1.0, "done")
    return TrainOutcome(model, test_snn, test_cnn, energy, report, seconds)


def assess_net(net, prep: Prepared, is_canceled=None) -> Assessment:
    """Test-set assessment of `net`, classifying the scene fully convolutionally."""
    probs = predict_padded(net, prep.source.padded.numpy(), net.cfg.patch_size, is_canceled=is_canceled)
    pred = probs[prep.test.rows, prep.test.cols].argmax(1)
    return assess_indices(prep.test.y, pred, prep.class_values)


def assess_indices(y_true_idx, y_pred_idx, class_values) -> Assessment:
    """Assessment over pixel lists given as class indices 0..K-1."""
    v = np.asarray(class_values)
    return assess(v[np.asarray(y_true_idx)][None, :], v[np.asarray(y_pred_idx)][None, :], list(class_values))


def measure_energy(net, source: PatchSource, pixels: PixelSet, cfg: RunConfig, sample: int = ENERGY_SAMPLE) -> dict:
    """Operation counts on (a seeded sample of) the evaluated pixels, turned into energies."""
    rng = np.random.default_rng([cfg.train.seed, 7])
    n = min(len(pixels), sample)
    idx = np.sort(rng.choice(len(pixels), n, replace=False))
    batches = [source.gather(pixels.rows[idx[i:i + 256]], pixels.cols[idx[i:i + 256]]) for i in range(0, n, 256)]
    from .energy import TABLES
    table = TABLES.get(cfg.energy.table, cfg.energy) if cfg.energy.table in TABLES else cfg.energy
    return energy_report(count_ops(net, batches), net.bits, table)


def build_report(model: HyperSNNModel, test_snn: Optional[Assessment], test_cnn: Optional[Assessment],
                 energy: Optional[dict], timing: Optional[dict] = None, title: str = "HyperSNN report") -> dict:
    names = [c["name"] for c in model.classes]
    m = model.meta
    rep = {
        "title": title,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model.summary(),
        "split_protocol": m.get("split_protocol", {}),
    }
    if test_snn is not None:
        rep["accuracy"] = test_snn.to_dict(names)
    if test_cnn is not None:
        rep["accuracy_cnn"] = test_cnn.to_dict(names)
    if energy is not None:
        rep["energy"] = energy
    if timing:
        rep["timing"] = timing
    return rep
