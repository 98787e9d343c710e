"""Split method 'blocks': spatially disjoint squares. The image is cut into `block_size` squares and whole blocks go
to training or test, greedily, so that each class gets about `train_fraction` of its pixels in training; validation is
whole blocks of the training side.
"""
from __future__ import annotations

import numpy as np

from .common import SplitMethod, pct
from .units import units_split


def blocks_split(labels, usable, classes, frac, bs, rng, warnings, name=str):
    """(train, test) of whole `bs` x `bs` blocks; a class inside one block is said in `warnings`."""
    rows, cols = np.nonzero(usable)
    n_bcols = -(-labels.shape[1] // bs)
    units = (rows // bs) * n_bcols + cols // bs
    train, test, m, in_train = units_split(labels, usable, classes, units, frac, rng)
    single = [name(c) for j, c in enumerate(classes) if (m[:, j] > 0).sum() == 1]
    if single:
        warnings.append(f"Class(es) {', '.join(single)} lie in a single {bs}x{bs} block, so all their pixels are on "
                        "one side; use a smaller block_size to test them.")
    return train, test


def block_ids(shape, block_size: int) -> np.ndarray:
    """Per-pixel block ids, 1-based (0 = none), in raster order of the blocks."""
    rows, cols = np.indices(shape)
    return (rows // block_size) * -(-shape[1] // block_size) + cols // block_size + 1


def _split(inp, cfg, proto, warnings):
    train, test = blocks_split(inp.labels, inp.usable, inp.classes, cfg.train_fraction, cfg.block_size, inp.rng,
                               warnings, inp.name)
    proto.update(train_fraction=float(cfg.train_fraction), block_size=int(cfg.block_size))
    desc = (f"Spatially disjoint block split: the image cut into {cfg.block_size}x{cfg.block_size}-pixel "
            f"blocks, whole blocks to training (about {pct(cfg.train_fraction)} of each class) or test")
    return train, test, desc


METHOD = SplitMethod(
    name="blocks", split=_split, spatial=True,
    no_train_hint=lambda cfg: f"use a smaller block_size (now {cfg.block_size}) or a larger train_fraction",
    no_test_hint=lambda cfg: (f"; the image holds too few {cfg.block_size}x{cfg.block_size} blocks: use a "
                              "smaller block_size or a smaller train_fraction"),
    validation_units=lambda inp, cfg, train, proto: block_ids(inp.shape, cfg.block_size),
    unit_kind="blocks", unit_desc="blocks")
