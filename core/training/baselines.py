"""Per-pixel baselines trained beside the SNN, and the comparison the report prints.

Why: an analyst will only switch to an SNN if it classifies at least as well as the tools already at hand
(an RBF SVM or a random forest on the spectra, as in EnMAP-Box or dzetsaka). The baseline sees exactly what
the SNN saw: the same training pixels, the same preprocessed spectra (bands, scaling, PCA) and the same
training side for its choices; it is scored on the same test pixels. As a competent analyst would, it chooses its
hyper-parameters (SVM: C and gamma; random forest: features per split) and its input (the engine's features, or all
standardised bands) by grouped cross-validation on the training side: folds of whole spatial clusters, so that a
choice is judged on pixels away from those it was fitted on (a handful of validation pixels cannot rank a grid).
scikit-learn is an optional dependency: it is imported only here.

The comparison is paired (the same test pixels), so the verdict uses McNemar's test (continuity-corrected
chi-square on the pixels where exactly one of the two classifiers is right).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import InputError
from ..assess.metrics import Assessment

NAMES = {"svm": "RBF SVM", "rf": "random forest"}
SVM_C = (1.0, 10.0, 100.0, 1000.0, 10000.0)
SVM_GAMMA_FACTORS = (0.1, 0.3, 1.0, 3.0)
"""Multiples of scikit-learn's 'scale' gamma, 1 / (n_features x variance)."""
RF_TREES = 200
RF_MAX_FEATURES = ("sqrt", "log2")
CV_FOLDS = 5
CV_PIXELS = 3000
CV_MAX_DRAWS = 5
"""Grouped folds on the training side choose each baseline's settings and its feature set; on a small training side
they are drawn again (up to CV_MAX_DRAWS times, while draws x pixels stays near CV_PIXELS) and the scores averaged:
one draw of folds over a few hundred pixels ranks neighbouring grid points by noise."""


@dataclass
class BaselineResult:
    kind: str
    name: str
    params: dict
    val_oa: Optional[float]
    """Mean grouped cross-validated OA of the chosen settings on the training side."""
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


def draws(n: int) -> int:
    """How many draws of grouped folds a training side of `n` pixels gets (see CV_PIXELS)."""
    return int(min(CV_MAX_DRAWS, max(1, math.ceil(CV_PIXELS / max(n, 1)))))


def grouped_folds(y, groups, k: int = CV_FOLDS, seed: int = 0, repeats: int = 1):
    """(folds as (fit index, score index) pairs, how they were made): stratified grouped k-fold over `groups`
    (spatial clusters), so a fold is never scored on pixels next to the ones it was fitted on; stratified
    pixel folds only when there are fewer groups than folds (said in the second value)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    y = np.asarray(y)
    n_groups = int(np.unique(groups).size)
    k = int(max(2, min(k, np.bincount(y).max())))
    if n_groups >= k:
        folds = []
        for r in range(repeats):
            cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed * 1000 + r)
            folds += [(a, b) for a, b in cv.split(np.zeros(len(y)), y, groups) if len(a) and len(b)]
        if len(folds) >= 2:
            times = f", {repeats} draws of folds" if repeats > 1 else ""
            return folds, f"grouped {k}-fold cross-validation on the training side ({n_groups} spatial groups{times})"
    k = int(max(2, min(k, np.bincount(y)[np.bincount(y) > 0].min())))
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(y)), y)), (f"{k}-fold pixel cross-validation on the training side (only "
                                                 f"{n_groups} spatial group(s): optimistic)")


GROUPS = 30
"""Spatial groups the training side is cut into for the baselines' grouped folds (core/spatial_units)."""


def spatial_groups(rows, cols, y, shape) -> np.ndarray:
    """Group id per training pixel: connected regions of one class, touching regions together, cut into about
    GROUPS compact clusters, so that neighbouring pixels of one field never sit in two folds."""
    from ..data.spatial_units import cluster_units, label_regions

    lab = np.zeros(shape, np.int64)
    lab[rows, cols] = np.asarray(y, np.int64) + 1
    return cluster_units(label_regions(lab, lab > 0), 1, GROUPS)[rows, cols]


def _candidates(kind, n_features, var):
    SVC, RandomForestClassifier = _sklearn(kind)
    if kind == "rf":
        for mf in RF_MAX_FEATURES:
            yield {"n_estimators": RF_TREES, "max_features": mf}, \
                (lambda mf=mf, seed=0: RandomForestClassifier(n_estimators=RF_TREES, max_features=mf,
                                                              random_state=seed))  # one thread: safe inside QGIS
        return
    scale = 1.0 / (n_features * (var or 1.0))
    for c in SVM_C:
        for f in SVM_GAMMA_FACTORS:
            yield {"C": c, "gamma": f * scale, "gamma_vs_scale": f}, \
                (lambda c=c, g=f * scale, seed=0: SVC(C=c, gamma=g, kernel="rbf"))


def fit_baseline(kind: str, features: dict, y, groups, seed: int = 0):
    """Choose the settings and the feature set by grouped cross-validation on the training side, then fit on all of it.

    `features`: {name: x (n, d)} views of the same training pixels (e.g. the engine's features, all standardised
    bands). Returns (fitted model, chosen feature name, params, mean CV OA, fit seconds)."""
    if kind not in NAMES:
        raise InputError(f"Unknown baseline {kind!r}; choose one of {sorted(NAMES)}")
    _sklearn(kind)
    y = np.asarray(y, np.int64)
    t0 = time.perf_counter()
    folds, how = grouped_folds(y, groups, CV_FOLDS, seed, repeats=draws(len(y)))
    best, tried = None, {}
    for fname, x in features.items():
        x = np.asarray(x, np.float64)
        for params, make in _candidates(kind, x.shape[1], float(x.var())):
            scores = []
            for a, b in folds:
                m = _fit(make, seed, x[a], y[a])
                scores.append(float((m.predict(x[b]) == y[b]).mean()))
            score = float(np.mean(scores))
            tried[fname] = max(score, tried.get(fname, -1.0))
            if best is None or score > best[0] + 1e-12:  # ties keep the earlier: engine features, smaller C / gamma
                best = (score, fname, params, make)
    score, fname, params, make = best
    model = _fit(make, seed, np.asarray(features[fname], np.float64), y)
    params = dict(params, features=fname, chosen_on=how, cv_oa_per_features=tried)
    return model, fname, params, score, time.perf_counter() - t0


class _OneClass:
    """What any classifier learns from one class: that class (scikit-learn's estimators refuse a single class; a
    cross-validation fold of a small scene can hold only one)."""

    def __init__(self, value):
        self.value = value

    def predict(self, x):
        return np.full(len(x), self.value, np.int64)


def _fit(make, seed, x, y):
    if np.unique(y).size < 2:
        return _OneClass(int(y[0]))
    m = make(seed=seed)
    m.fit(x, y)
    return m


def run_baseline(kind: str, features: dict, test_features: dict, y_train, groups, seed: int = 0) -> BaselineResult:
    """Fit on the training side (grouped CV chooses settings and features), predict the test pixels."""
    model, fname, params, cv_oa, fit_s = fit_baseline(kind, features, y_train, groups, seed)
    x_test = np.asarray(test_features[fname], np.float64)
    t0 = time.perf_counter()
    pred = model.predict(x_test) if len(x_test) else np.zeros(0, np.int64)
    pps = len(x_test) / max(time.perf_counter() - t0, 1e-9)
    return BaselineResult(kind, NAMES[kind], params, cv_oa, np.asarray(pred, np.int64), fit_s, pps)


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
