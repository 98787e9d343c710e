"""Accuracy and energy of a trained model: on a raster, streamed window by window (`evaluate_model`), and on
the test and validation pixels of a training run (`assess_net`, `measure_energy`).

One implementation for `hypersnn report` and QGIS's Energy report algorithm: the scene is classified
fully convolutionally window by window (memory bounded by the window), reference pixels used in
training are left out when the model knows them, and the operation counts come from the real forward
pass on a seeded sample of reference pixels (or of valid pixels when there is no reference).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from ..config.schema import DEFAULT_WINDOW
from ..config.schema import ENERGY_TABLES as TABLES
from ..config.schema import RunConfig
from ..config.schema import EnergyConfig
from ..energy.costs import energy_report, scene_energy
from ..energy.ops import count_ops
from ..errors import Canceled, InputError
from ..data.labels import Labels
from ..assess.metrics import Assessment, assess
from ..models.torch_model import HyperSNNModel
from ..data.patches import PatchBank
from .predict import WindowClassifier
from ..io.raster import RasterReader, iter_windows
from ..training.trainer import PixelSet

ENERGY_SAMPLE = 1024
ASSESS_WINDOW = 64


@dataclass
class ModelEvaluation:
    assessment: Optional[Assessment]
    energy: dict
    class_map: Optional[np.ndarray]
    energy_pixels: int
    excluded_training_pixels: int

    def description(self, raster_name: str, labels_source: str = "") -> str:
        text = (f"energy measured on {self.energy_pixels} "
                + ("reference pixels" if self.assessment is not None else "randomly sampled valid pixels")
                + f" of {raster_name}")
        if self.assessment is not None:
            text += f"; accuracy on {self.assessment.n} reference pixels from {labels_source}"
            if self.excluded_training_pixels:
                text += f" ({self.excluded_training_pixels} pixels used in training excluded)"
        return text


def evaluate_model(model: HyperSNNModel, reader: RasterReader, labels: Optional[Labels] = None,
                   sample: int = 1024, include_training: bool = False, seed: int = 0, window: int = DEFAULT_WINDOW,
                   energy_cfg: Optional[EnergyConfig] = None, progress=None, is_canceled=None) -> ModelEvaluation:
    progress = progress or (lambda f, m: None)
    is_canceled = is_canceled or (lambda: False)
    if sample < 1:
        raise InputError(f"The energy sample must hold at least 1 pixel, got {sample}")
    info = reader.info
    wc = WindowClassifier(model, reader)
    h, w = info.height, info.width
    if labels is not None and labels.array.shape != (h, w):
        raise InputError(f"reference labels {labels.source} are {labels.array.shape[0]} x {labels.array.shape[1]} "
                         f"but the raster {info.path} is {h} x {w}")
    mask = labels.array > 0 if labels is not None else None
    excluded = 0
    tm = model.training_mask((h, w))
    if mask is not None and tm is not None and not include_training:
        excluded = int((mask & tm).sum())
        mask &= ~tm
    rng = np.random.default_rng(seed)
    if mask is not None:
        rows, cols = np.nonzero(mask)
    else:
        rows, cols = np.divmod(np.arange(h * w), w)
    # without a reference, draw twice the sample: nodata pixels among them are skipped
    n_pick = min(sample * (1 if mask is not None else 2), len(rows))
    pick = np.sort(rng.choice(len(rows), n_pick, replace=False)) if len(rows) else np.zeros(0, int)
    srows, scols = rows[pick], cols[pick]
    pred = np.zeros((h, w), np.int64) if labels is not None else None
    values = np.array(model.class_values)
    windows = list(iter_windows(h, w, window))
    patches = []
    r = wc.r
    valid_total, drawn, drawn_ok = 0, 0, 0
    for k, win in enumerate(windows):
        if is_canceled():
            raise Canceled(f"evaluation canceled at window {k + 1}/{len(windows)}")
        r0, c0, hh, ww = win
        sel = (srows >= r0) & (srows < r0 + hh) & (scols >= c0) & (scols < c0 + ww)
        if pred is None and not sel.any():
            continue
        x, ok = wc.window_input(win)
        if pred is not None:
            out = wc.scores(x[None])[0]
            pred[r0:r0 + hh, c0:c0 + ww] = np.where(ok, values[out.argmax(0)], 0)
            valid_total += int(ok.sum())
        for pr, pc in zip(srows[sel] - r0, scols[sel] - c0):
            drawn += 1
            drawn_ok += bool(ok[pr, pc])
            if ok[pr, pc] and len(patches) < sample:
                patches.append(x[:, pr:pr + 2 * r + 1, pc:pc + 2 * r + 1])
        progress(0.9 * (k + 1) / len(windows), f"window {k + 1}/{len(windows)}")
    if not patches:
        raise InputError(f"No valid pixel to measure energy on in {info.path} (all sampled pixels are nodata)")
    progress(0.92, "counting operations")
    batches = [torch.from_numpy(np.stack(patches[i:i + 256])) for i in range(0, len(patches), 256)]
    energy_cfg = energy_cfg or EnergyConfig()
    if energy_cfg.table not in TABLES and energy_cfg == EnergyConfig(table=energy_cfg.table, accumulator_bits=energy_cfg.accumulator_bits,
                                                                    activation_bits=energy_cfg.activation_bits):
        raise InputError(f"Unknown energy table {energy_cfg.table!r}; known: {', '.join(TABLES)} (or give your own "
                         f"per-operation energies in a settings file)")
    energy = energy_report(count_ops(model.net, batches), energy_cfg)
    if pred is not None:
        energy["scene"] = scene_energy(energy, valid_total, f"mean per-map-pixel energy of {len(patches)} sampled "
                                       f"pixels x {valid_total} valid pixels of the scene (window halo "
                                       "recomputation not included)")
    elif drawn:
        est = int(round(h * w * drawn_ok / drawn))
        energy["scene"] = scene_energy(energy, est, f"mean per-map-pixel energy of {len(patches)} sampled pixels x "
                                       f"about {est} valid pixels (share of valid pixels among {drawn} drawn)")
    a = assess(labels.array, pred, list(model.class_values), mask=mask) if labels is not None else None
    progress(1.0, "done")
    return ModelEvaluation(a, energy, pred, len(patches), excluded)


def assess_net(net, prep, is_canceled=None) -> Assessment:
    """Test-set assessment of `net`, classifying fully convolutionally the windows that hold test pixels."""
    return assess_indices(prep.test.y, predict_test(net, prep, is_canceled), prep.class_values)


def predict_test(net, prep, is_canceled=None) -> np.ndarray:
    """Class indices of `net` at the test pixels."""
    return predict_at(net, prep.source, prep.test.rows, prep.test.cols, is_canceled=is_canceled).argmax(1)


@torch.no_grad()
def predict_at(net, bank: PatchBank, rows, cols, window: int = ASSESS_WINDOW, is_canceled=None) -> np.ndarray:
    """Class probabilities (N, K) at pixels (rows, cols): the windows of the whole padded cube that hold one of
    them are cut from the bank (padded as the whole cube would be) and run fully convolutionally, so the values
    equal those of the whole padded cube's (tests/oracles.predict_padded)."""
    net.eval()
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    out = np.zeros((len(rows), net.n_classes), np.float32)
    if not len(rows):
        return out
    n_wc = -(-bank.w // window)
    key = (rows // window) * n_wc + cols // window
    order = np.argsort(key, kind="stable")
    uniq, starts = np.unique(key[order], return_index=True)
    ends = list(starts[1:]) + [len(order)]
    for u, s, e in zip(uniq, starts, ends):
        if is_canceled and is_canceled():
            raise Canceled("assessment canceled")
        r0, c0 = int(u // n_wc) * window, int(u % n_wc) * window
        hh, ww = min(window, bank.h - r0), min(window, bank.w - c0)
        x = bank.block(r0, c0, hh, ww)[None]
        prob = torch.softmax(net(x)[0], 0)
        sel = order[s:e]
        out[sel] = prob[:, torch.from_numpy(rows[sel] - r0), torch.from_numpy(cols[sel] - c0)].T.numpy()
    return out


def assess_indices(y_true_idx, y_pred_idx, class_values) -> Assessment:
    """Assessment over pixel lists given as class indices 0..K-1."""
    v = np.asarray(class_values)
    return assess(v[np.asarray(y_true_idx)][None, :], v[np.asarray(y_pred_idx)][None, :], list(class_values))


def measure_energy(net, source: PatchBank, pixels: PixelSet, cfg: RunConfig, sample: int = ENERGY_SAMPLE,
                   scene_pixels: Optional[int] = None, seed: Optional[int] = None) -> dict:
    """Operation counts on (a seeded sample of) the given pixels, turned into energies (core/energy/costs.py)."""
    rng = np.random.default_rng([cfg.train.seed if seed is None else seed, 7])
    n = min(len(pixels), sample)
    idx = np.sort(rng.choice(len(pixels), n, replace=False))
    batches = [source.gather(pixels.rows[idx[i:i + 256]], pixels.cols[idx[i:i + 256]]) for i in range(0, n, 256)]
    return energy_report(count_ops(net, batches), cfg.energy, scene_pixels=scene_pixels)
