"""Accuracy assessment: confusion matrix, OA, AA, kappa, per-class accuracies.

Conventions: confusion rows are the reference (truth), columns the prediction. Producer's accuracy
is per-class recall (row-wise), user's accuracy per-class precision (column-wise). All accuracies
are fractions in 0..1. A class absent from the test set has NaN producer's accuracy and F1 and is
left out of AA; `notes` says so, because silently averaging a 0 would misreport the model. The 95%
OA interval is the normal approximation oa +- 1.96 sqrt(oa (1 - oa) / n).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from ..errors import InputError, LabelError

Z95 = 1.959963984540054


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts from 0-based class indices; rows = reference."""
    t = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise InputError(f"confusion_matrix: y_true has {t.size} values, y_pred {p.size}")
    n = int(n_classes)
    if n < 1:
        raise InputError(f"confusion_matrix: n_classes must be >= 1, got {n_classes}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise InputError(f"confusion_matrix: {name} must hold integer class indices, got dtype {a.dtype}")
        if a.size and (a.min() < 0 or a.max() >= n):
            raise InputError(f"confusion_matrix: {name} holds index {int(a.min() if a.min() < 0 else a.max())} "
                             f"outside 0..{n - 1}")
    return np.bincount(t.astype(np.int64) * n + p, minlength=n * n).reshape(n, n).astype(np.int64)


def _div(a, b):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    out = np.full(a.shape, np.nan)
    np.divide(a, b, out=out, where=b > 0)
    return out


@dataclass
class Assessment:
    """Accuracy figures derived from one confusion matrix (see module docstring for conventions)."""

    confusion: np.ndarray
    class_values: List[int]
    oa: float
    aa: float
    kappa: float
    oa_ci95: tuple
    kappa_ci95: tuple
    producers: np.ndarray
    users: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    predicted: np.ndarray
    n: int
    notes: List[str] = field(default_factory=list)

    @classmethod
    def from_confusion(cls, cm, class_values: Optional[Sequence[int]] = None,
                       notes: Optional[List[str]] = None) -> "Assessment":
        cm = np.asarray(cm)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] < 1:
            raise InputError(f"A confusion matrix must be square (classes x classes), got shape {cm.shape}")
        if (cm < 0).any():
            raise InputError("A confusion matrix cannot hold negative counts")
        cm = cm.astype(np.int64)
        k = cm.shape[0]
        values = list(range(1, k + 1)) if class_values is None else [int(v) for v in class_values]
        if len(values) != k:
            raise InputError(f"{len(values)} class values given for a {k}x{k} confusion matrix")
        n = int(cm.sum())
        if n == 0:
            raise InputError("No test pixels to assess: the reference and prediction share no labelled, "
                             "valid pixel")
        diag = np.diag(cm).astype(float)
        support = cm.sum(1)
        predicted = cm.sum(0)
        producers = _div(diag, support)
        users = _div(diag, predicted)
        with np.errstate(invalid="ignore"):
            f1 = np.where(producers + users > 0, 2 * producers * users / (producers + users), 0.0)
        f1 = np.where(np.isnan(producers) | np.isnan(users), np.nan, f1)
        # A class present in the reference but never predicted has UA undefined but F1 = 0.
        f1 = np.where((support > 0) & (predicted == 0), 0.0, f1)
        oa = float(diag.sum() / n)
        pe = float((support.astype(float) * predicted).sum() / n ** 2)
        kappa = (oa - pe) / (1 - pe) if pe < 1 else math.nan
        present = support > 0
        aa = float(producers[present].mean())
        half = Z95 * math.sqrt(oa * (1 - oa) / n)
        oa_ci = (max(0.0, oa - half), min(1.0, oa + half))
        if pe < 1:
            k_half = Z95 * math.sqrt(oa * (1 - oa) / (n * (1 - pe) ** 2))
            kappa_ci = (kappa - k_half, min(1.0, kappa + k_half))
        else:
            kappa_ci = (math.nan, math.nan)
        notes = list(notes or [])
        absent = [v for v, p in zip(values, present) if not p]
        if absent:
            notes.append(f"Class value(s) {absent} have no test pixels: producer's accuracy and F1 are "
                         f"undefined (NaN) and AA averages the other {int(present.sum())} class(es).")
        never = [v for v, s, p in zip(values, support, predicted) if s > 0 and p == 0]
        if never:
            notes.append(f"Class value(s) {never} were never predicted: user's accuracy is undefined (NaN).")
        return cls(confusion=cm, class_values=values, oa=oa, aa=aa, kappa=float(kappa), oa_ci95=oa_ci,
                   kappa_ci95=kappa_ci, producers=producers, users=users, f1=f1, support=support,
                   predicted=predicted, n=n, notes=notes)

    def to_dict(self, class_names=None) -> dict:
        """JSON-friendly: NaN -> None. `class_names`: list aligned with class_values, or {value: name}."""
        names = _names(self.class_values, class_names)
        per_class = [
            {"value": v, "name": nm, "producers_accuracy": _f(self.producers[i]),
             "users_accuracy": _f(self.users[i]), "f1": _f(self.f1[i]), "support": int(self.support[i]),
             "predicted": int(self.predicted[i])}
            for i, (v, nm) in enumerate(zip(self.class_values, names))
        ]
        return {
            "oa": _f(self.oa), "aa": _f(self.aa), "kappa": _f(self.kappa),
            "oa_ci95": [_f(x) for x in self.oa_ci95], "kappa_ci95": [_f(x) for x in self.kappa_ci95],
            "n_test": int(self.n), "class_values": list(self.class_values), "class_names": names,
            "per_class": per_class, "confusion": self.confusion.tolist(), "notes": list(self.notes),
        }


def _f(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def _names(values, class_names):
    if class_names is None:
        return [f"Class {v}" for v in values]
    if isinstance(class_names, dict):
        return [str(class_names.get(v, class_names.get(str(v), f"Class {v}"))) for v in values]
    names = [str(n) for n in class_names]
    if len(names) != len(values):
        raise InputError(f"{len(names)} class names given for {len(values)} classes {list(values)}")
    return names


def assess(reference, predicted, class_values, mask=None, pred_nodata: int = 0) -> Assessment:
    """Assess a predicted class map against reference labels (both (H, W) class values).

    Reference 0 (unlabelled) pixels, predicted `pred_nodata` pixels and pixels outside `mask` are
    ignored; how many predictions were missing is stated in the notes, since ignoring them flatters.
    """
    ref = np.asarray(reference)
    pred = np.asarray(predicted)
    if ref.shape != pred.shape:
        raise InputError(f"Reference labels have shape {ref.shape} but the class map has {pred.shape}")
    values = [int(v) for v in class_values]
    if len(values) < 1 or len(set(values)) != len(values) or min(values) <= 0:
        raise InputError(f"class_values must be distinct positive class values, got {values}")
    sel = ref != 0
    if mask is not None:
        m = np.asarray(mask, bool)
        if m.shape != ref.shape:
            raise InputError(f"Assessment mask has shape {m.shape} but the labels have {ref.shape}")
        sel &= m
    missing = int((sel & (pred == pred_nodata)).sum())
    sel &= pred != pred_nodata
    r, p = ref[sel], pred[sel]
    cv = np.asarray(values, np.int64)
    order = np.argsort(cv)
    sorted_cv = cv[order]

    def index(a, what, err):
        pos = np.clip(np.searchsorted(sorted_cv, a), 0, len(cv) - 1)
        ok = sorted_cv[pos] == a
        if not ok.all():
            bad = np.unique(a[~ok])[:10].tolist()
            raise err(f"{what} holds class value(s) {bad} that are not among the classes being assessed {values}")
        return order[pos]

    ri = index(r, "The reference labels", LabelError)
    pi = index(p, "The class map", InputError)
    notes = []
    if missing:
        notes.append(f"{missing} reference pixel(s) have no prediction (nodata) and were not assessed.")
    return Assessment.from_confusion(confusion_matrix(ri, pi, len(values)), values, notes)
