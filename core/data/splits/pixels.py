"""Split methods 'random' and 'count': pixel by pixel, stratified by class.

They interleave training and test pixels by design, so the leakage guard is not applied (it would empty the test set)
and validation is taken pixel by pixel; the protocol says so.
"""
from __future__ import annotations

import numpy as np

from ...errors import SplitError
from .common import SplitMethod, class_indices, pct, round_half_up


def random_split(labels, usable, classes, frac, rng, name=str):
    """`frac` of each class's pixels to train (at least 1 on each side), the rest to test."""
    train = np.zeros(labels.size, bool)
    test = np.zeros(labels.size, bool)
    for c, idx in class_indices(labels, usable, classes).items():
        n = idx.size
        if n < 2:
            raise SplitError(f"Class {name(c)} has {n} labelled pixel; a random split needs at least 2 per class "
                             "(one for training, one for testing). Label more pixels or remove the class.")
        k = min(max(round_half_up(n * frac), 1), n - 1)
        perm = rng.permutation(idx)
        train[perm[:k]] = True
        test[perm[k:]] = True
    return train.reshape(labels.shape), test.reshape(labels.shape)


def count_split(labels, usable, classes, k, rng, warnings, name=str):
    """`k` pixels of each class to train; a class with <= k pixels keeps half for test (said in `warnings`)."""
    train = np.zeros(labels.size, bool)
    test = np.zeros(labels.size, bool)
    small = []
    for c, idx in class_indices(labels, usable, classes).items():
        n = idx.size
        if n < 2:
            raise SplitError(f"Class {name(c)} has {n} labelled pixel; a count split needs at least 2 per class "
                             "(one for training, one for testing). Label more pixels or remove the class.")
        kc = k if n > k else n // 2
        if n <= k:
            small.append(f"{name(c)} ({n} px: {kc} train)")
        perm = rng.permutation(idx)
        train[perm[:kc]] = True
        test[perm[kc:]] = True
    if small:
        warnings.append(f"Classes with <= train_count ({k}) pixels keep half for testing: " + ", ".join(small))
    return train.reshape(labels.shape), test.reshape(labels.shape)


def _random(inp, cfg, proto, warnings):
    train, test = random_split(inp.labels, inp.usable, inp.classes, cfg.train_fraction, inp.rng, inp.name)
    proto["train_fraction"] = float(cfg.train_fraction)
    desc = (f"Stratified random split: {pct(cfg.train_fraction)} of each class's labelled pixels "
            f"to training, the rest to test")
    return train, test, desc


def _count(inp, cfg, proto, warnings):
    train, test = count_split(inp.labels, inp.usable, inp.classes, cfg.train_count, inp.rng, warnings, inp.name)
    proto["train_count"] = int(cfg.train_count)
    desc = f"Per-class count split: {cfg.train_count} random pixels of each class to training, the rest to test"
    return train, test, desc


RANDOM = SplitMethod(name="random", split=_random)
COUNT = SplitMethod(name="count", split=_count)
