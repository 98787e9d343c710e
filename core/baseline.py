"""Per-pixel baselines trained beside the SNN, and the comparison the report prints.

Why: an analyst will only switch to an SNN if it classifies at least as well as the tools already at hand
(an RBF SVM or a random forest on the spectra, as in EnMAP-Box or dzetsaka). The baseline sees exactly what
the SNN saw: the same training pixels, the same preprocessed spectra (bands, scaling, PCA) and the same
validation pixels for its choices; it is scored on the same test pixels. Its hyper-parameters are chosen on
validation pixels only (SVM: C and gamma on a small grid); the random forest uses the usual 200 trees and
sqrt(features) per split. scikit-learn is an optional dependency: it is imported only here.

The comparison is paired (the same test pixels), so the verdict uses McNemar's test (continuity-corrected
chi-square on the pixels where exactly one of the two classifiers is right).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .errors import InputError
from .metrics import Assessment

NAMES = {"svm": "RBF SVM", "rf": "random forest"}
SVM_C = (1.0, 10.0, 100.0, 1000.0)
SVM_GAMMA_FACTORS = (0.1, 1.0, 10.0)
"""Multiples of scikit-learn's 'scale' gamma, 1 / (n_features x variance)."""
RF_TREES = 200


@dataclass
class BaselineResult:
    kind: str
    name: str
    params: dict
    val_oa: Optional[float]
    predictions: np.ndarray
    """Class indices at the test pixels."""
    fit_seconds: float
    predict_pixels_per_second: float


def _sklearn(kind: str):
    try:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.svm import SVC
    except ImportError:
        raise InputError(f"The {NAMES[kind]} baseline (--baseline {kind}, Processing BASELINE) needs scikit-learn, "
                         "which is not installed: pip install scikit-learn (or apt-get install python3-sklearn), "
                         "or train without a baseline") from None
    return SVC, RandomForestClassifier


def fit_baseline(kind: str, x_train, y_train, x_val, y_val, seed: int = 0):
    """(fitted model, params, validation OA or None, fit seconds) for `kind` "svm" or "rf"."""
    if kind not in NAMES:
        raise InputError(f"Unknown baseline {kind!r}; choose one of {sorted(NAMES)}")
    SVC, RandomForestClassifier = _sklearn(kind)
    x_train, x_val = np.asarray(x_train, np.float64), np.asarray(x_val, np.float64)
    has_val = len(y_val) > 0
    t0 = time.perf_counter()
    if kind == "rf":
        model = RandomForestClassifier(n_estimators=RF_TREES, random_state=seed)  # one thread: safe inside QGIS
        model.fit(x_train, y_train)
        params = {"n_estimators": RF_TREES, "max_features": "sqrt"}
        val_oa = float((model.predict(x_val) == y_val).mean()) if has_val else None
        return model, params, val_oa, time.perf_counter() - t0
    var = float(x_train.var()) or 1.0
    scale = 1.0 / (x_train.shape[1] * var)
    grid = [(c, f) for c in SVM_C for f in SVM_GAMMA_FACTORS] if has_val else [(100.0, 1.0)]
    best = None
    for c, f in grid:
        m = SVC(C=c, gamma=f * scale, kernel="rbf")
        m.fit(x_train, y_train)
        score = float((m.predict(x_val) == y_val).mean()) if has_val else math.nan
        if best is None or score > best[0]:  # ties keep the earlier, smaller C and gamma
            best = (score, m, c, f)
    score, model, c, f = best
    params = {"C": c, "gamma": f * scale, "gamma_vs_scale": f,
              "chosen_on": "validation pixels" if has_val else "no validation pixels: C=100, gamma='scale'"}
    return model, params, (score if has_val else None), time.perf_counter() - t0


def run_baseline(kind: str, bank, train, val, test, seed: int = 0) -> BaselineResult:
    """Fit on the training pixels' preprocessed spectra (`bank.pixels`), choose on validation, predict the test pixels."""
    model, params, val_oa, fit_s = fit_baseline(kind, bank.pixels(train.rows, train.cols), train.y,
                                                bank.pixels(val.rows, val.cols), val.y, seed)
    x_test = bank.pixels(test.rows, test.cols).astype(np.float64)
    t0 = time.perf_counter()
    pred = model.predict(x_test) if len(x_test) else np.zeros(0, np.int64)
    pps = len(x_test) / max(time.perf_counter() - t0, 1e-9)
    return BaselineResult(kind, NAMES[kind], params, val_oa, np.asarray(pred, np.int64), fit_s, pps)


def mcnemar(y, pred_a, pred_b) -> dict:
    """Paired comparison of two classifiers on the same pixels: a_only (a right, b wrong), b_only, and the
    continuity-corrected McNemar chi-square with its two-sided p-value (1 degree of freedom)."""
    y, a, b = (np.asarray(v) for v in (y, pred_a, pred_b))
    ra, rb = a == y, b == y
    n01, n10 = int((ra & ~rb).sum()), int((~ra & rb).sum())
    if n01 + n10 == 0:
        return {"a_only": 0, "b_only": 0, "chi2": 0.0, "p_value": 1.0}
    chi2 = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
    return {"a_only": n01, "b_only": n10, "chi2": chi2, "p_value": math.erfc(math.sqrt(chi2 / 2))}


def verdict(snn: Assessment, base: Assessment, base_name: str, test: dict) -> str:
    """One sentence saying plainly which classifier won on the shared test pixels."""
    d = 100 * (snn.oa - base.oa)
    sig = test["p_value"] < 0.05
    where = f"on the same {snn.n} test pixels (McNemar p = {test['p_value']:.3g})"
    if d < 0:
        return (f"The SNN loses to the {base_name}: OA {100 * snn.oa:.2f} % vs {100 * base.oa:.2f} % {where}"
                + ("." if sig else "; the difference is not significant at the 5 % level."))
    if d > 0:
        return (f"The SNN beats the {base_name}: OA {100 * snn.oa:.2f} % vs {100 * base.oa:.2f} % {where}"
                + ("." if sig else "; the difference is not significant at the 5 % level."))
    return f"The SNN and the {base_name} tie: OA {100 * snn.oa:.2f} % {where}."
