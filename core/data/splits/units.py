"""Whole units (blocks, polygon clusters, label regions) assigned to one side of a split, class by class.

Why a module of its own: the blocks and polygons methods cut training from test this way, and validation is cut from
training the same way (validation.py), so all three share one greedy, seeded assignment.
"""
from __future__ import annotations

import math

import numpy as np


def unit_matrix(units, cls_idx, n_classes):
    """Per unit (block/polygon) pixel counts per class: (U, C) int64, plus the per-pixel unit index."""
    uniq, inv = np.unique(units, return_inverse=True)
    m = np.bincount(inv * n_classes + cls_idx, minlength=uniq.size * n_classes).reshape(uniq.size, n_classes)
    return uniq, inv, m


def assign_units(m, frac, rng):
    """Greedy seeded assignment of whole units to train so each class gets about `frac` of its pixels.

    Units are visited in random order; a unit goes to train when that brings the per-class train
    counts closer (relative to class size) to their targets. A fix-up pass then gives every class at
    least one training unit and, where it spans two or more units, at least one test unit.
    """
    n_units, n_classes = m.shape
    total = m.sum(0).astype(float)
    target = frac * total
    w = 1.0 / np.maximum(total, 1)
    cur = np.zeros(n_classes)
    in_train = np.zeros(n_units, bool)
    for u in rng.permutation(n_units):
        row = m[u]
        nz = row > 0
        before = np.abs(target[nz] - cur[nz]) @ w[nz]
        after = np.abs(target[nz] - cur[nz] - row[nz]) @ w[nz]
        if after < before:
            in_train[u] = True
            cur += row
    sizes = m.sum(1)
    present = m > 0
    for c in range(n_classes):  # every class needs a training unit
        units_c = np.flatnonzero(present[:, c])
        if not in_train[units_c].any():
            in_train[units_c[np.argmin(sizes[units_c])]] = True
    for c in range(n_classes):  # and a test unit where it spans two or more
        units_c = np.flatnonzero(present[:, c])
        if units_c.size < 2 or (~in_train[units_c]).any():
            continue
        for u in units_c[np.argsort(sizes[units_c], kind="stable")]:
            others = in_train.copy()
            others[u] = False
            if (present[others].any(0) | ~present.any(0)).all():  # no class loses its last train unit
                in_train[u] = False
                break
    return in_train


def units_split(labels, usable, classes, units, frac, rng):
    """(train, test, per-unit class counts, per-unit in_train) for `units` (one id per usable pixel)."""
    cls_idx = np.searchsorted(np.asarray(classes), labels[usable])
    uniq, inv, m = unit_matrix(units, cls_idx, len(classes))
    in_train = assign_units(m, frac, rng)
    pix_train = in_train[inv]
    train = np.zeros(labels.shape, bool)
    test = np.zeros(labels.shape, bool)
    train[usable] = pix_train
    test[usable] = ~pix_train
    return train, test, m, in_train


def n_target(frac: float, n_classes: int) -> int:
    """How many spatial clusters to aim for when `frac` of the pixels goes to one side: enough that the greedy
    assignment can approach `frac` for each class (cut further only where the guard allows, spatial_units)."""
    f = min(max(float(frac), 1e-3), 1 - 1e-3)
    return int(max(2 * n_classes, math.ceil(3 / min(f, 1 - f))))
