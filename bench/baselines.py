"""Per-pixel spectral baselines analysts use in QGIS plugins today (RBF SVM, random forest), for the bench's
random and block splits.

They are the product's own baselines (`core/training/baselines.fit_baseline`: SVM C and gamma, and the forest's features per
split, chosen by grouped cross-validation on the split's training side), so a bench row and `--baseline` in a report
mean the same thing.
Here they see every selected band, standardised on the training pixels (no PCA), as an analyst would give them.
"""
from __future__ import annotations

import time

import numpy as np

from hypersnn.core.training.baselines import NAMES, fit_baseline, spatial_groups
from hypersnn.core.assess.metrics import assess


def run_baselines(reader, labels, split, seed: int = 0) -> list:
    """Fit on the training side of `split` (training and validation pixels; grouped cross-validation chooses), score
    on its test pixels; also time full-scene prediction."""
    cube = reader.read().astype(np.float32)
    h, w = labels.array.shape
    x_train = cube[split.train | split.val]
    mean, std = x_train.mean(0), x_train.std(0)
    std[std == 0] = 1.0

    def xs(mask):
        return (cube[mask] - mean) / std

    y = labels.array
    values = sorted(int(v) for v in np.unique(y) if v > 0)
    scene = (cube.reshape(h * w, -1) - mean) / std
    rows = []
    side = split.train | split.val
    r, c = np.nonzero(side)
    groups = spatial_groups(r, c, y[side], side.shape)
    for kind in ("svm", "rf"):
        model, _, params, val_oa, fit_s = fit_baseline(kind, {"all standardised bands": xs(side)}, y[side], groups, seed)
        pred = model.predict(xs(split.test))
        a = assess(y[split.test][None, :], pred[None, :], values)
        t0 = time.perf_counter()
        model.predict(scene)
        scene_s = time.perf_counter() - t0
        rows.append({"model": NAMES[kind], "params": {k: v for k, v in params.items() if k not in ("chosen_on", "cv_oa_per_features")},
                     "val_oa": val_oa, "oa": a.oa, "aa": a.aa, "kappa": a.kappa, "fit_s": fit_s,
                     "scene_pixels_per_s": h * w / scene_s, "test_pixels": a.n})
    return rows
