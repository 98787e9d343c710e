"""Training from a raster and its labels, end to end: prepare, CNN -> SNN, assess, count energy, model file.

Callers (core/workflows, the bench, tests) open the raster and labels with their own I/O (a RasterReader, a
Labels) and pass `progress(fraction, message)` / `is_canceled()`; nothing here knows which library read the
pixels.
"""
from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import numpy as np

from ..config.schema import RunConfig
from ..energy.costs import model_file_summary
from ..errors import Canceled
from ..mapping.evaluation import assess_indices, measure_energy, predict_test
from ..io.files import check_output_file, check_outputs
from ..data.labels import Labels
from ..assess.metrics import Assessment
from ..models.torch_model import BandContract, HyperSNNModel
from ..data.prepare import prepare
from ..io.raster import RasterInfo, RasterReader
from ..report.schema import build_report
from .trainer import Trainer
from .trust import trust_warnings


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
    comparison: Optional[dict] = None
    """SNN, its CNN and the baseline on the same test pixels (`cfg.baseline`), with the verdict; None without."""
    test_equivalent_ann: Optional[Assessment] = None
    """The equivalent low-bit ANN's accuracy on the same test pixels (`cfg.baseline.equivalent_ann`); None without."""


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
    pre = prep.preprocessor
    auto = "auto: " if cfg.preprocess.pca_components == -1 else ""
    if pre.pca_components and pre.reduction == "bins":
        how = f"{auto}{pre.pca_components} bins of contiguous bands averaged"
    elif pre.pca_components:
        how = (f"PCA {auto}{pre.pca_components} components, "
               f"{100 * float(np.sum(pre.explained_variance_ratio)):.2f} % of the training variance")
    else:
        how = "no PCA" + (" (auto: 64 bands or fewer)" if auto else "")
    log(f"{len(prep.band_indices)} bands -> {pre.n_out} features ({how}); split: "
        f"{len(prep.train)} train / {len(prep.val)} val / {len(prep.test)} test pixels; "
        f"patch bank {prep.source.nbytes / 2 ** 20:.1f} MiB")
    names = {c.value: c.name for c in labels.classes}
    colors = {c.value: list(c.color) for c in labels.classes}
    classes = [{"value": v, "name": names.get(v, f"Class {v}"), "color": colors.get(v, [128, 128, 128])}
               for v in prep.class_values]

    def stage_progress(f, m):
        progress(0.02 + 0.9 * f, m)

    cv = None
    if prep.split.folds is not None:  # map production: the folds first, then the final model on every label
        from .crossval import cross_validate

        k = len(prep.split.scored)
        share = k / (k + 1)
        cv_y, cv_pred, cv_folds = cross_validate(prep, cfg, len(classes), lambda f, m: stage_progress(share * f, m),
                                                 is_canceled, log)
        cv = {"y": cv_y, "pred": cv_pred, "folds": cv_folds}
        span = (share, 1.0)
    else:
        span = (0.0, 1.0)

    def final_progress(f, m):
        stage_progress(span[0] + (span[1] - span[0]) * f, m)

    trainer = Trainer(cfg.model, cfg.train, prep.preprocessor.n_out, len(classes), final_progress,
                      is_canceled, checkpoint_dir, log)
    # the raw pixels and preprocessing settings, not the fitted numbers (whose last bits depend on BLAS threads)
    trainer.data_key = hashlib.sha256(json.dumps(
        [prep.data_sha256, asdict(cfg.preprocess), prep.class_values], sort_keys=True).encode()).hexdigest()
    trainer.illumination_offset = prep.preprocessor.illumination_offset()
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
    preds, rates = {}, {}
    if len(prep.test):
        nets = {"snn": net}
        if cnn_state:
            model.meta["cnn_bits"] = cfg.train.weight_bits if cfg.train.cnn_qat else 0
            nets["cnn"] = model.cnn_net()
        for key, n in nets.items():
            t_inf = time.perf_counter()
            preds[key] = predict_test(n, prep, is_canceled)
            rates[key] = len(prep.test) / max(time.perf_counter() - t_inf, 1e-9)
        test_snn = assess_indices(prep.test.y, preds["snn"], prep.class_values)
        if "cnn" in preds:
            test_cnn = assess_indices(prep.test.y, preds["cnn"], prep.class_values)
    test_ann = None
    if cfg.baseline.equivalent_ann and not len(prep.test):
        warnings.warn("The equivalent low-bit ANN (--equivalent-ann, Processing EQUIVALENT_ANN) was not trained: this "
                      "split keeps no test pixels to score it on (split 'cv', map production, or an empty test side); "
                      "choose a hold-out split such as 'auto', 'blocks' or 'polygons' to compare it with the SNN")
    elif cfg.baseline.equivalent_ann and trainer.cnn_state is not None:
        progress(0.94, "training the equivalent low-bit ANN on the same pixels")
        ann = trainer.fit_equivalent_ann(prep.source, prep.train, prep.val,
                                         progress=lambda f, m: progress(0.94 + 0.01 * f, f"equivalent ANN: {m}"))
        test_ann = assess_indices(prep.test.y, predict_test(ann, prep, is_canceled), prep.class_values)
        log(f"equivalent {ann.act_bits}-bit-activation ANN: test OA {100 * test_ann.oa:.2f} %")
    if cv is not None and len(cv["y"]):
        test_snn = assess_indices(cv["y"], cv["pred"], prep.class_values)
        test_snn.notes.append("cross-validated: pooled predictions of the fold models on their own folds' pixels")
    energy = measure_energy(net, prep.source, prep.test if len(prep.test) else prep.train, cfg,
                            scene_pixels=int(prep.valid.sum()))
    val_energy = measure_energy(net, prep.source, prep.val, cfg) if len(prep.val) else None
    if test_ann is not None:  # beside its energy, in every table that costs it
        energy["equivalent_ann_accuracy"] = {"oa": test_ann.oa, "aa": test_ann.aa, "kappa": test_ann.kappa,
                                             "n_test": int(len(prep.test)), "activation_bits": ann.act_bits,
                                             "snn_oa": test_snn.oa if test_snn is not None else None}
    seconds = {"prepare": t_prep, **trainer.history.seconds,
               "assess": time.perf_counter() - t1 - trainer.history.seconds.get("equivalent_ann", 0.0)}
    if cv is not None:
        seconds["cross_validation"] = sum(sum(f["seconds"].values()) for f in cv["folds"])
        prep.split.protocol["cv_folds"] = [{k: v for k, v in f.items() if k != "seconds"} for f in cv["folds"]]
    comparison = None
    if cfg.baseline.kind != "none":
        progress(0.95, f"training the {cfg.baseline.kind} baseline on the same pixels")
        comparison = compare_with_baseline(cfg, prep, test_snn, test_cnn, preds, rates, seconds, log, cv)
    model.meta.update({
        "config": cfg.to_dict(),
        "split_protocol": prep.split.protocol,
        "split_masks": {"shape": list(prep.split.shape)},
        "metrics": {"test_snn": test_snn.to_dict([c["name"] for c in classes]) if test_snn else None,
                    "test_cnn": test_cnn.to_dict([c["name"] for c in classes]) if test_cnn else None,
                    "best_val": trainer.history.best_val,
                    **({"test_equivalent_ann": test_ann.to_dict([c["name"] for c in classes])} if test_ann else {}),
                    **({"baselines": [{k: x[k] for k in ("kind", "name", "params", "oa", "verdict")}
                                      for x in comparison["baselines"]]} if comparison else {})},
        "energy": model_file_summary(energy),
        "history": {"epochs": trainer.history.epochs, "thresholds_init": trainer.history.thresholds,
                    "epochs_run": dict(trainer.history.epochs_run)},
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
    if comparison:
        report["comparison"] = comparison
    if trainer.history.resumed:
        report["resumed_after"] = list(trainer.history.resumed)
    report["trust_warnings"] = trust_warnings(report)
    progress(1.0, "done")
    return TrainOutcome(model, test_snn, test_cnn, energy, report, seconds, list(trainer.history.resumed), val_energy,
                        comparison, test_ann)


def compare_with_baseline(cfg: RunConfig, prep, test_snn, test_cnn, preds: dict, rates: dict, seconds: dict,
                          log: Callable[[str], None], cv: Optional[dict] = None) -> Optional[dict]:
    """Train `cfg.baseline.kind` (svm, rf or both) on the run's split and features; SNN, CNN and baselines side by
    side, with one verdict per baseline. Under split 'cv' each baseline is cross-validated on the same folds."""
    from .baselines import mcnemar, run_baseline, verdict

    if cv is None and not len(prep.test):
        log("no test pixels: the baseline was not compared")
        return None
    snn_train = sum(seconds.get(k, 0.0) for k in ("cnn", "convert", "snn"))

    def row(model, a, train_s, pps):
        return {"model": model, "oa": a.oa, "aa": a.aa, "kappa": a.kappa, "train_s": train_s, "test_pixels_per_s": pps}

    t, b = cfg.train, cfg.train.weight_bits
    rows = [row(f"SNN (T={t.time_steps}, {b}-bit)" if b else f"SNN (T={t.time_steps}, full precision)", test_snn,
                snn_train, rates.get("snn", float("nan")))]
    if test_cnn is not None:
        rows.append(row("its CNN" + (f" ({b}-bit)" if b and t.cnn_qat else ""), test_cnn, seconds.get("cnn", 0.0),
                        rates["cnn"]))
    if cv is None:
        parts = [(prep.train.rows, prep.train.cols, prep.val.rows, prep.val.cols, prep.test.rows, prep.test.cols)]
        y_test, snn_pred = prep.test.y, preds["snn"]
    else:
        parts = []
        for f, scored in enumerate(prep.split.scored, 1):
            fr, fc = np.nonzero((prep.split.folds > 0) & (prep.split.folds != f))
            sr, sc = np.nonzero(scored)
            parts.append((fr, fc, fr[:0], fc[:0], sr, sc))
        y_test, snn_pred = cv["y"], cv["pred"]
    raw_at = _raw_lookup(prep)
    baselines = []
    for kind in (("svm", "rf") if cfg.baseline.kind == "both" else (cfg.baseline.kind,)):
        pred, fit_s, pps, params, val_oa = [], 0.0, [], None, []
        for part in parts:
            features, test_features, y_side, groups = baseline_inputs(prep, part, raw_at)
            base = run_baseline(kind, features, test_features, y_side, groups, seed=cfg.train.seed)
            pred.append(base.predictions)
            fit_s += base.fit_seconds
            pps.append(base.predict_pixels_per_second)
            params = params or base.params
            val_oa.append(base.val_oa)
        pred = np.concatenate(pred)
        test_base = assess_indices(y_test, pred, prep.class_values)
        test = mcnemar(y_test, snn_pred, pred)
        rows.append(row(base.name[0].upper() + base.name[1:], test_base, fit_s, float(np.mean(pps))))
        text = verdict(test_snn, test_base, base.name, test)
        log(text)
        baselines.append({"kind": base.kind, "name": base.name, "params": params, "val_oa": float(np.mean(val_oa)),
                          "oa": test_base.oa, "mcnemar_snn_vs_baseline": test, "verdict": text})
    strongest = max(baselines, key=lambda x: x["oa"])
    how = (f"{len(parts)}-fold cross-validation (split cv): in each fold every baseline is fit on the fold's training "
           "pixels" if cv is not None else
           f"one split ({prep.split.protocol.get('method', '?')}, seed {cfg.split.seed}): each baseline is fit on the "
           f"same {len(prep.train) + len(prep.val)} training-side pixels (the SNN's training and validation pixels)")
    return {"baselines": baselines, "rows": rows, "strongest": strongest["name"], "verdict": strongest["verdict"],
            "basis": (f"{how} and chooses its settings and its input (the engine's features or all standardised bands) "
                      "by grouped cross-validation over spatial clusters of them; all are scored on the same "
                      f"{len(y_test)} pixels as the SNN (params shown: the first fit's). Training time: the SNN's "
                      "includes its CNN stage and conversion (0 when resumed from checkpoints). Speed: test pixels "
                      "classified per second on this machine (the SNN and CNN compute the windows around them, so "
                      "their full-scene rate is higher).")}


def _raw_lookup(prep):
    """(rows, cols) -> raw spectra of labelled pixels (kept by prepare for the baselines), or None."""
    if prep.raw is None:
        return None
    H, W = prep.split.shape
    pos = np.full((H, W), -1, np.int64)
    arrays, n = [], 0
    for key, ps in (("train", prep.train), ("val", prep.val), ("test", prep.test)):
        pos[ps.rows, ps.cols] = n + np.arange(len(ps))
        arrays.append(prep.raw[key])
        n += len(ps)
    allraw = np.concatenate(arrays)
    return lambda rows, cols: allraw[pos[rows, cols]]


def baseline_inputs(prep, part, raw_at):
    """What the baselines see: the training side (`part`: training + validation pixels, then test pixels, as row and
    column arrays) as the engine's features and as all standardised bands (when the engine reduces the bands), the
    same for the test pixels, the class indices, and the spatial groups of the training side for grouped
    cross-validation (label regions, touching ones together, cut into compact clusters)."""
    from .baselines import spatial_groups

    tr_r, tr_c, va_r, va_c, te_r, te_c = part
    side_rows, side_cols = np.concatenate([tr_r, va_r]), np.concatenate([tr_c, va_c])
    H, W = prep.split.shape
    idx = np.full((H, W), -1, np.int64)
    for ps in (prep.train, prep.val, prep.test):
        idx[ps.rows, ps.cols] = ps.y
    y = idx[side_rows, side_cols]
    feats = {"engine features": prep.source.pixels(side_rows, side_cols)}
    tests = {"engine features": prep.source.pixels(te_r, te_c)}
    if raw_at is not None and (prep.preprocessor.pca_components or not prep.preprocessor.standardize):
        side = raw_at(side_rows, side_cols).astype(np.float64)
        mu, sd = side.mean(0), side.std(0)
        sd[sd == 0] = 1.0
        feats["all standardised bands"] = (side - mu) / sd
        tests["all standardised bands"] = (raw_at(te_r, te_c).astype(np.float64) - mu) / sd
    return feats, tests, y, spatial_groups(side_rows, side_cols, y, prep.split.shape)
