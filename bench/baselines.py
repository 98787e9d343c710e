"""Per-pixel spectral baselines analysts use in QGIS plugins today: SVM (RBF) and random forest."""
from __future__ import annotations

import time

import numpy as np

from hypersnn.core.metrics import assess


def spectra(reader, mask):
    cube = reader.read().astype(np.float32)
    return cube[mask]


def run_baselines(reader, labels, split, seed: int = 0, n_jobs: int = 2, n_trees: int = 200) -> list:
    """Fit on train+val pixels of `split`, score on its test pixels; also time full-scene prediction.
    `n_trees`: 200 for the reported figures; the quick smoke test uses fewer."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    fit_mask = split.train | split.val
    x_fit, y_fit = spectra(reader, fit_mask), labels.array[fit_mask]
    x_test, y_test = spectra(reader, split.test), labels.array[split.test]
    values = sorted(int(v) for v in np.unique(labels.array) if v > 0)
    h, w = labels.array.shape
    scene = reader.read().astype(np.float32).reshape(h * w, -1)
    rows = []
    models = {
        "SVM (RBF, C=100, gamma=scale)": make_pipeline(StandardScaler(), SVC(C=100, gamma="scale")),
        f"Random forest ({n_trees} trees)": RandomForestClassifier(n_estimators=n_trees, random_state=seed,
                                                                   n_jobs=n_jobs),
    }
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(x_fit, y_fit)
        fit_s = time.perf_counter() - t0
        pred = model.predict(x_test)
        a = assess(y_test[None, :], pred[None, :], values)
        t0 = time.perf_counter()
        model.predict(scene)
        scene_s = time.perf_counter() - t0
        rows.append({"model": name, "oa": a.oa, "aa": a.aa, "kappa": a.kappa,
                     "per_class": a.to_dict()["per_class"] if "per_class" in a.to_dict() else None,
                     "fit_s": fit_s, "scene_pixels_per_s": h * w / scene_s, "test_pixels": a.n})
    return rows
