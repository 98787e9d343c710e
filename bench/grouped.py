"""Indian Pines split the way map producers validate: whole ground-truth regions, or whole blocks, to one side.

The ground truth has no polygons, so its connected regions (8-connectivity, per class) stand in for them. Seven
classes are a single region; each of those is cut in two at the median of its longer axis, so that both sides
of the split can hold the class (the protocol says so). The SNN, an RBF SVM and a random forest
(core/training/baselines.py: the same split, the same preprocessed spectra, settings chosen on validation pixels) are
scored on the same test pixels.
"""
from __future__ import annotations

import copy

import numpy as np

REGION_NOTE = ("connected regions of the ground truth (8-connectivity, per class) as polygons; a class that is one "
               "region is cut in two at the median of its longer axis")


def region_polygon_ids(labels: np.ndarray) -> np.ndarray:
    """(H, W) int32 polygon ids: one per connected region of each class, single-region classes cut in two."""
    from scipy import ndimage

    ids = np.zeros(labels.shape, np.int32)
    nxt = 1
    for c in np.unique(labels[labels > 0]):
        regions, n = ndimage.label(labels == c, structure=np.ones((3, 3)))
        if n == 1:
            rr, cc = np.nonzero(regions)
            axis = rr if np.ptp(rr) >= np.ptp(cc) else cc
            half = axis > np.median(axis)
            if not half.any() or half.all():  # a degenerate shape: split by position in the list
                half = np.arange(axis.size) >= axis.size // 2
            regions[rr[half], cc[half]] = 2
            n = 2
        m = regions > 0
        ids[m] = regions[m] + nxt - 1
        nxt += n
    return ids


def grouped_rows(reader, labels, seeds, quick: bool, train_row, headline_config, done, say):
    """Rows for the 'grouped' bench section, one at a time (each is saved before the next trains): polygon-grouped
    and block splits, SNN vs SVM vs RF per seed."""
    regioned = copy.copy(labels)
    regioned.polygon_ids = region_polygon_ids(labels.array)
    for method in ("polygons", "blocks"):
        for seed in seeds:
            label = f"{method} split | seed {seed}"
            if done(label):
                continue
            cfg = headline_config("hybrid", 0.3, seed, quick)
            cfg.split.method = method
            cfg.baseline.kind = "both"
            say(f"[grouped] {label}")
            row = train_row(reader, regioned if method == "polygons" else labels, cfg, label)
            comp = row["_outcome"].comparison
            row["baselines"] = [{"model": r["model"], "oa": r["oa"], "aa": r["aa"], "kappa": r["kappa"],
                                 "train_s": r["train_s"]} for r in comp["rows"][-len(comp["baselines"]):]]
            row["verdicts"] = [b["verdict"] for b in comp["baselines"]]
            row["regions"] = REGION_NOTE if method == "polygons" else None
            yield row
