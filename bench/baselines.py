"""Per-pixel spectral baselines analysts use in QGIS plugins today (RBF SVM, random forest), for the bench's
random and block splits.

They are the product's own baselines (`core/baseline.fit_baseline`: SVM C and gamma chosen on the split's
validation pixels, a 200-tree random forest), so a bench row and `--baseline` in a report mean the same thing.
Here they see every selected band, standardised on the training pixels (no PCA), as an analyst would give them.
"""
from __future__ import annotations

import time

import numpy as np

from hypersnn.core.baseline import NAMES, fit_baseline
from hypersnn.core.metrics import assess


def run_baselines(reader, labels, split, seed: int = 0) -> list:
    """Fit on the training pixels of `split`, choose on its validation pixels, score on its test pixels; also time
    full-scene prediction."""
    cube = reader.read().astype(np.float32)
    h, w = labels.array.shape
    x_train = cube[split.train]
    mean, std = x_train.mean(0), x_train.std(0)
    std[std == 0] = 1.0

    def xs(mask):
        return (cube[mask] - mean) / std

    y = labels.array
    values = sorted(int(v) for v in np.unique(y) if v > 0)
    scene = (cube.reshape(h * w, -1) - mean) / std
    rows = []
    for kind in ("svm", "rf"):
        model, params, val_oa, fit_s = fit_baseline(kind, xs(split.train), y[split.train], xs(split.val),
                                                    y[split.val], seed)
        pred = model.predict(xs(split.test))
        a = assess(y[split.test][None, :], pred[None, :], values)
        t0 = time.perf_counter()
        model.predict(scene)
        scene_s = time.perf_counter() - t0
        rows.append({"model": NAMES[kind], "params": {k: v for k, v in params.items() if k != "chosen_on"},
                     "val_oa": val_oa, "oa": a.oa, "aa": a.aa, "kappa": a.kappa, "fit_s": fit_s,
                     "scene_pixels_per_s": h * w / scene_s, "test_pixels": a.n})
    return rows
