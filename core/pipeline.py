"""The engine's jobs as plain functions: train, classify, assess, energy, report.

Callers (CLI, QGIS task, Processing algorithms) open the raster and labels with their own I/O (a
RasterReader, a Labels) and pass `progress(fraction, message)` / `is_canceled()`; nothing here knows
which library read the pixels.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from .bands import describe_selection, select_bands
from .config import RunConfig
from .energy import energy_report, model_file_summary
from .errors import Canceled, InputError, LabelError, OutputError, RasterError
from .labels import Labels
from .metrics import Assessment, assess
from .model import BandContract, HyperSNNModel
from .nn.models import build_specs
from .patches import PatchBank
from .predict import valid_mask
from .preprocess import Preprocessor
from .raster import RasterInfo, RasterReader, check_output_folder, iter_windows, same_file
from .splits import Split, check_disjoint, make_split
from .train import PixelSet, Trainer

ENERGY_SAMPLE = 1024
ASSESS_WINDOW = 64
DEFAULT_STREAM_WINDOW = 256
ENVI_DATA_EXTS = ("", ".img", ".dat", ".bsq", ".bil", ".bip", ".raw", ".bin", ".envi")


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
    source: PatchBank
    """Preprocessed pixels around every train/val/test pixel; `gather(rows, cols)` gives patches."""
    class_values: list
    train: PixelSet
    val: PixelSet
    test: PixelSet
    valid: np.ndarray
    data_sha256: str = ""
    """Checksum of the labelled pixels' raw spectra and the valid mask (the data part of the checkpoint
    fingerprint; independent of the streaming window)."""


def _pixels(mask: np.ndarray, labels: np.ndarray, lut: dict) -> PixelSet:
    rows, cols = np.nonzero(mask)
    return PixelSet(rows.astype(np.int64), cols.astype(np.int64),
                    np.array([lut[int(v)] for v in labels[rows, cols]], dtype=np.int64))


def _where(info: RasterInfo) -> str:
    return f"raster {info.path}" if info.path else "the raster"


def check_band_settings(info: RasterInfo, idx, cfg: RunConfig) -> None:
    """Refuse, before any pixel is read, settings the selected bands cannot satisfy (PCA, spectral kernels)."""
    n, k = len(idx), int(cfg.preprocess.pca_components)
    sel = describe_selection(info, idx)
    if k > n:
        raise InputError(f"{_where(info)}: {sel} selected, but pca_components is {k}: PCA cannot keep more "
                         f"components than there are bands; use at most {n} (0 = no PCA)")
    try:
        build_specs(cfg.model, k or n, 2)
    except InputError as e:
        raise InputError(f"{_where(info)} ({sel}): {e}") from None


def _read(reader: RasterReader, window, idx) -> np.ndarray:
    block = reader.read(window, idx)
    r, c, h, w = window
    if block.ndim != 3 or block.shape != (h, w, len(idx)):
        raise RasterError(f"{_where(reader.info)}: reading window {window} gave an array of shape "
                          f"{getattr(block, 'shape', None)}, expected {(h, w, len(idx))}")
    if block.dtype.kind not in "biuf":
        raise RasterError(f"{_where(reader.info)} holds {block.dtype} pixels; HyperSNN needs real numbers")
    return block


def _empty_bands_message(reader: RasterReader, idx, windows) -> str:
    """Which selected bands hold no usable value anywhere (read again: only on this failure path)."""
    info = reader.info
    good = np.zeros(len(idx), np.int64)
    for win in windows:
        b = _read(reader, win, idx)
        ok = np.isfinite(b) if b.dtype.kind == "f" else np.ones(b.shape, bool)
        if info.nodata is not None and np.isfinite(info.nodata):
            ok &= b != info.nodata
        good += ok.sum(axis=(0, 1))
    empty = [i for i, g in zip(idx, good) if g == 0]
    nd = f"nodata ({info.nodata:g})" if info.nodata is not None else "nodata"
    if empty and len(empty) < len(idx):
        names = ", ".join(f"{i + 1} ({info.band_names[i]})" for i in empty[:10])
        return (f"{_where(info)}: no pixel is usable because band(s) {names}{' ...' if len(empty) > 10 else ''} "
                f"hold only {nd} or NaN/inf values; leave them out of the band selection")
    return f"{_where(info)}: every pixel is {nd} or non-finite (NaN/inf) in the selected bands"


def prepare(reader: RasterReader, labels: Labels, cfg: RunConfig, given_map=None, progress: Callable = None,
            is_canceled: Callable = None, window: Optional[int] = None) -> Prepared:
    """Stream the raster in `window` x `window` tiles (default `cfg.classify.window`), twice.

    Pass 1 finds the valid pixels and keeps the raw spectra of the labelled ones; the split is made and
    the preprocessor fitted on the training spectra. Pass 2 preprocesses only the tiles that some
    train/val/test patch touches into a `PatchBank`. Memory holds one tile of raw pixels, the (H, W)
    masks and the bank, never the whole cube; the patches are the same, bit for bit, as padding the
    whole preprocessed cube (`pad_cube`) would give.
    """
    progress = progress or _noop_progress
    is_canceled = is_canceled or _never
    info = reader.info
    if labels.array.shape != (info.height, info.width):
        raise LabelError(f"labels {labels.source} have shape {labels.array.shape} but raster {info.path} is "
                         f"{info.height} x {info.width}: labels must be on the raster's grid")
    idx = select_bands(info, cfg.bands)
    check_band_settings(info, idx, cfg)
    H, W, p = info.height, info.width, cfg.model.patch_size
    tile = int(window or cfg.classify.window or DEFAULT_STREAM_WINDOW)
    if tile < 1:
        raise InputError(f"window must be at least 1 pixel, got {tile}")
    windows = list(iter_windows(H, W, tile))
    lab = labels.array

    # pass 1: validity and the raw spectra of labelled pixels
    valid = np.zeros((H, W), bool)
    flats, spectra = [], []
    for k, win in enumerate(windows):
        if is_canceled():
            raise Canceled("training canceled while reading the raster")
        r, c, h, w = win
        block = _read(reader, win, idx)
        ok = valid_mask(block, info.nodata)
        valid[r:r + h, c:c + w] = ok
        sel = ok & (lab[r:r + h, c:c + w] > 0)
        if sel.any():
            rr, cc = np.nonzero(sel)
            flats.append((rr + r).astype(np.int64) * W + (cc + c))
            spectra.append(block[sel])
        progress(0.5 * (k + 1) / len(windows), "reading raster (pass 1 of 2)")
    if not valid.any():
        raise InputError(_empty_bands_message(reader, idx, windows))
    split = make_split(lab, cfg.split, polygon_ids=labels.polygon_ids, given_map=given_map,
                       valid_mask=valid, patch_size=p)
    check_disjoint(split)
    values = [int(v) for v in np.unique(lab[split.train | split.val | split.test]) if v > 0]
    lut = {v: i for i, v in enumerate(values)}
    flat = np.concatenate(flats) if flats else np.zeros(0, np.int64)
    spec = np.concatenate(spectra) if spectra else np.zeros((0, len(idx)))
    del spectra
    order = np.argsort(flat, kind="stable")  # raster order, as cube[mask] gives
    flat, spec = flat[order], spec[order]
    # what the data is, independent of the window size: the labelled pixels' raw spectra and the valid mask
    sha = hashlib.sha256(json.dumps([idx, info.nodata, spec.dtype.str, [H, W]]).encode())
    for a in (flat, spec, np.packbits(valid)):
        sha.update(np.ascontiguousarray(a).tobytes())
    digest = sha.hexdigest()
    pre = Preprocessor.from_config(cfg.preprocess).fit(spec[split.train.ravel()[flat]].astype(np.float64))
    del spec, flat
    train, val, test = (_pixels(m, lab, lut) for m in (split.train, split.val, split.test))

    # pass 2: preprocess the tiles the patches need
    rows = np.concatenate([train.rows, val.rows, test.rows])
    cols = np.concatenate([train.cols, val.cols, test.cols])
    bank = PatchBank(H, W, pre.n_out, p, tile, PatchBank.tiles_for(rows, cols, H, W, p, tile))
    todo = [win for win in windows if bank.holds(win)]
    for k, win in enumerate(todo):
        if is_canceled():
            raise Canceled("training canceled while preprocessing the raster")
        r, c, h, w = win
        ok = valid[r:r + h, c:c + w]
        x = pre.transform(np.where(ok[..., None], _read(reader, win, idx), 0))
        x[~ok] = 0.0
        bank.put(win, x)
        progress(0.5 + 0.5 * (k + 1) / len(todo), "preprocessing (pass 2 of 2)")
    return Prepared(idx, split, pre, bank, values, train, val, test, valid, digest)


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
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise OutputError(f"Model output {path} is a folder; give a file name such as model.hsnn")
    check_output_folder(folder, f"for model file {path}")
    try:  # a real probe: permissions, read-only file systems and quotas all show here
        fd, probe = tempfile.mkstemp(prefix=".hypersnn-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"Output folder is not writable: {folder} ({e.strerror or e}; for model file {path})") from None
    inputs = [info.path, labels_source]
    if info.path:  # an ENVI raster is two files, whichever of them was opened
        inputs += [info.path + ".hdr", os.path.splitext(info.path)[0] + ".hdr"]
        if info.path.lower().endswith(".hdr"):
            inputs += [info.path[:-4] + ext for ext in ENVI_DATA_EXTS]
    for src in inputs:
        if src and same_file(path, src):
            raise OutputError(f"Model output {path} is an input of this run ({src}); choose another file")
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
    torch.manual_seed(cfg.train.seed)
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
    model.meta["split_train_mask"] = np.packbits(prep.split.train | prep.split.val).tolist() \
        if prep.split.train.size <= 4_000_000 else None
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


def assess_net(net, prep: Prepared, is_canceled=None) -> Assessment:
    """Test-set assessment of `net`, classifying fully convolutionally the windows that hold test pixels."""
    probs = predict_at(net, prep.source, prep.test.rows, prep.test.cols, is_canceled=is_canceled)
    return assess_indices(prep.test.y, probs.argmax(1), prep.class_values)


@torch.no_grad()
def predict_at(net, bank: PatchBank, rows, cols, window: int = ASSESS_WINDOW, is_canceled=None) -> np.ndarray:
    """Class probabilities (N, K) at pixels (rows, cols): the windows of `predict.predict_padded` that hold
    one of them are cut from the bank (padded as the whole cube would be) and run fully convolutionally,
    so the values equal those of `predict_padded` on the padded cube."""
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
    """Operation counts on (a seeded sample of) the given pixels, turned into energies (core/energy.py)."""
    from .ops import count_ops
    rng = np.random.default_rng([cfg.train.seed if seed is None else seed, 7])
    n = min(len(pixels), sample)
    idx = np.sort(rng.choice(len(pixels), n, replace=False))
    batches = [source.gather(pixels.rows[idx[i:i + 256]], pixels.cols[idx[i:i + 256]]) for i in range(0, n, 256)]
    return energy_report(count_ops(net, batches), cfg.energy, scene_pixels=scene_pixels)


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
