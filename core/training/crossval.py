"""Map production as analysts do it (split method 'cv'): the final model trains on every label; its accuracy is
estimated by grouped k-fold cross-validation over spatial clusters of the labels (EnMAP-Box's classification
workflow fits the final model on all samples and reports cross-validated accuracy the same way).

Why: a hold-out split leaves the map model with only part of the analyst's polygons. Here each fold's model trains
on the other folds' clusters exactly as the final model trains on all of them (fixed epochs: the final model has no
pixel left to validate on, so neither does a fold), and is scored on its own clusters with the leakage guard (pixels
within the patch radius of another fold's training pixel are not scored). The pooled fold predictions are the
accuracy assessment; it estimates the procedure that made the map model, not the map model itself, and the report
says so. Folds cost k extra trainings.
"""
from __future__ import annotations

from typing import List

import numpy as np

from ..errors import SplitError
from ..data.spatial_units import cluster_units, label_regions, seam_drops


SEAM_TOLERANCE = 0.5
"""How much class balance a fold may give up to keep a cluster beside its neighbours: among the folds whose class
fill (after the cluster) is within this share of the cluster's largest class share of the best, the cluster goes to
the one that adds the fewest seam pixels. 0 balances classes only (Potsdam west at patch 5: 44 % of the labels
dropped by the folds' guard); 0.5 gives 19 % there, with every class still in two folds or more (a class held by one
fold so far goes to another fold when it can: in one fold it cannot be cross-validated)."""


def seam_lengths(clusters: np.ndarray, radius: int) -> np.ndarray:
    """(G + 1, G + 1) counts of pixel pairs of clusters u != v within `radius` (Chebyshev) of each other: how long
    the seam between u and v is, i.e. what the leakage guard drops when they fall in different folds. Computed over
    the labelled pixels only, one shift at a time, so a large sparse scene costs its labels, not its size."""
    clusters = np.asarray(clusters)
    rows, cols = np.nonzero(clusters > 0)
    g = int(clusters.max()) + 1
    h, w = clusters.shape
    own = clusters[rows, cols]
    out = np.zeros(g * g)
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            if not (dr or dc):
                continue
            rr, cc = rows + dr, cols + dc
            ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            other = clusters[rr[ok], cc[ok]]
            mine = own[ok]
            sel = (other > 0) & (other != mine)
            out += np.bincount(mine[sel] * g + other[sel], minlength=g * g)
    return out.reshape(g, g)


def assign_folds(labels, clusters, classes, k: int, rng, radius: int = 0) -> np.ndarray:
    """Fold (1..k) of every cluster id (index 0 unused). Clusters, largest first (ties in random order), each go to
    a fold where the classes it holds have about the smallest share so far (folds roughly stratified) and, among
    those (SEAM_TOLERANCE), to the one that puts it beside the most of its neighbours: a seam between clusters of
    different folds costs the guard `radius` pixels on both sides, one within the same fold costs nothing."""
    ids = np.unique(clusters[clusters > 0])
    cls_idx = {c: j for j, c in enumerate(classes)}
    m = np.zeros((ids.max() + 1, len(classes)))
    rows, cols = np.nonzero(clusters > 0)
    np.add.at(m, (clusters[rows, cols], [cls_idx[int(v)] for v in labels[rows, cols]]), 1)
    total = np.maximum(m.sum(0), 1)
    seams = seam_lengths(clusters, int(radius)) if radius > 0 else np.zeros((ids.max() + 1,) * 2)
    fill = np.zeros((k, len(classes)))
    fold = np.zeros(ids.max() + 1, np.int64)
    for u in sorted(ids, key=lambda u: (-m[u].sum(), rng.random())):
        share = m[u] / total
        balance = fill @ share + 1e-6 * fill.sum(1)  # where its classes are least filled
        cut = np.array([seams[u][(fold > 0) & (fold != f + 1)].sum() for f in range(k)])
        near_best = balance <= balance.min() + SEAM_TOLERANCE * share.max()
        empty = ~fill.any(1)
        if empty.any():  # every fold gets a cluster first (the largest k seed them): no fold is left without pixels
            near_best = empty
        # a class so far in one fold only goes elsewhere when it can: in one fold it cannot be cross-validated
        once = (share > 0) & ((fill > 0).sum(0) == 1)
        repeats = (fill[:, once] > 0).sum(1)
        near_best &= repeats <= repeats[near_best].min()
        f = int(np.argmin(np.where(near_best, cut, np.inf) + 1e-9 * balance))
        fold[u] = f + 1
        fill[f] += share
    return fold


def cv_split(labels, usable, classes, polygon_ids, radius: int, k: int, rng, warnings: List[str], proto: dict,
             name=str):
    """(train = every usable pixel, per-pixel fold map 1..k, per-fold scored masks) for split method 'cv'."""
    if polygon_ids is not None and (np.asarray(polygon_ids)[usable] > 0).any():
        pid = np.asarray(polygon_ids)
        no_poly = usable & (pid <= 0)
        if no_poly.any():
            warnings.append(f"{int(no_poly.sum())} labelled pixel(s) belong to no polygon (id 0) and were left out.")
        usable = usable & (pid > 0)
        units, what = np.where(usable, pid, 0), "polygons"
    else:
        units, what = label_regions(labels, usable), "label regions"
    clusters = cluster_units(units, radius, max(3 * k, 2 * len(classes)))
    n_clusters = int(np.unique(clusters[clusters > 0]).size)
    if n_clusters < k:
        clusters = cluster_units(units, radius, max(3 * k, 2 * len(classes)), min_width=1)
        n_clusters = int(np.unique(clusters[clusters > 0]).size)
        warnings.append(f"Cross-validation: the guard-safe clusters were fewer than {k} folds, so the {what} were cut "
                        "more finely; more pixels fall inside another fold's training patches.")
    if n_clusters < 2:
        raise SplitError(f"Cross-validation needs at least 2 spatial clusters of {what}; these labels form "
                         f"{n_clusters}. Label areas in more than one place, or give independent validation polygons.")
    k = min(k, n_clusters)
    fold_of = assign_folds(labels, clusters, classes, k, rng, radius)
    fold = fold_of[clusters] * (clusters > 0)
    scored, dropped = [], 0
    for f in range(1, k + 1):
        side = np.zeros(fold_of.size, bool)
        side[1:] = fold_of[1:] != f
        near = seam_drops(clusters, side, radius)
        mask = (fold == f) & ~near
        scored.append(mask)
        dropped += int(((fold == f) & near).sum())
    n = int(usable.sum())
    proto.update(folds=k, clusters=n_clusters, units=what, cv_dropped_for_leakage=dropped,
                 cv_dropped_share=round(dropped / max(n, 1), 4),
                 fold_pixels=[int(m.sum()) for m in scored])
    for c in classes:
        folds_c = np.unique(fold[usable & (labels == c)])
        if folds_c.size < 2:
            warnings.append(f"Class {name(c)} lies in a single fold: cross-validation cannot test it on areas its model "
                            "did not train on (its accuracy counts as 0 there). Label it in more than one place.")
    return usable, fold, scored


def cross_validate(prep, cfg, n_classes: int, progress, is_canceled, log):
    """Train one model per fold on the other folds (as the final model trains: no validation pixels) and predict its
    scored pixels; returns (true class indices, predicted class indices, per-fold summaries)."""
    from ..mapping.evaluation import predict_at
    from .trainer import PixelSet, Trainer

    split = prep.split
    idx = np.full(split.shape, -1, np.int64)
    idx[prep.train.rows, prep.train.cols] = prep.train.y
    k = len(split.scored)
    ys, ps, per_fold = [], [], []
    for f, scored in enumerate(split.scored, 1):
        fit = (split.folds > 0) & (split.folds != f)
        r, c = np.nonzero(fit)
        tr = PixelSet(r.astype(np.int64), c.astype(np.int64), idx[r, c])
        r, c = np.nonzero(scored)
        te = PixelSet(r.astype(np.int64), c.astype(np.int64), idx[r, c])
        log(f"cross-validation fold {f}/{k}: training on {len(tr)} pixels, scoring {len(te)}")
        trainer = Trainer(cfg.model, cfg.train, prep.preprocessor.n_out, n_classes,
                          lambda x, m, f=f: progress((f - 1 + x) / k, f"fold {f}/{k}: {m}"), is_canceled, None, log)
        trainer.illumination_offset = prep.preprocessor.illumination_offset()
        net = trainer.fit(prep.source, tr, PixelSet(tr.rows[:0], tr.cols[:0], tr.y[:0]))
        pred = predict_at(net, prep.source, te.rows, te.cols, is_canceled=is_canceled).argmax(1) if len(te) else \
            np.zeros(0, np.int64)
        ys.append(te.y)
        ps.append(pred)
        per_fold.append({"fold": f, "train": len(tr), "scored": len(te),
                         "oa": float((pred == te.y).mean()) if len(te) else None, "seconds": trainer.history.seconds})
    return np.concatenate(ys), np.concatenate(ps), per_fold
