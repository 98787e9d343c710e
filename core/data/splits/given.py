"""Split method 'given': the user's own split map (1 = train, 2 = test, 0 = unused), e.g. a published split or
independent validation polygons. Without polygons, validation is clusters of connected one-class regions of the
training side.
"""
from __future__ import annotations

import numpy as np

from ...errors import SplitError
from ..spatial_units import cluster_units, label_regions
from .common import SplitMethod
from .units import n_target


def given_split(usable, given_map, shape, warnings, proto):
    """(train, test) as the map marks them, after checking the map."""
    if given_map is None:
        raise SplitError("Split method 'given' needs a split map (1 = train, 2 = test, 0 = unused)")
    g = np.asarray(given_map)
    if g.shape != shape:
        raise SplitError(f"The given split map has shape {g.shape} but the labels have shape {shape}")
    if np.issubdtype(g.dtype, np.floating):
        finite = np.isfinite(g)
        if not np.array_equal(g[finite], np.round(g[finite])):
            raise SplitError("The given split map must hold whole numbers 0, 1 or 2")
        g = np.where(finite, g, 0).astype(np.int64)
    elif not np.issubdtype(g.dtype, np.integer) and g.dtype != bool:
        raise SplitError(f"The given split map must hold integers 0, 1 or 2, got dtype {g.dtype}")
    bad = np.setdiff1d(np.unique(g), [0, 1, 2])
    if bad.size:
        raise SplitError(f"The given split map holds value(s) {bad[:10].tolist()}; only 0 (unused), "
                         "1 (train) and 2 (test) are allowed")
    train = usable & (g == 1)
    test = usable & (g == 2)
    proto["given_unlabelled"] = int(((g > 0) & ~usable).sum())
    if proto["given_unlabelled"]:
        warnings.append(f"{proto['given_unlabelled']} pixel(s) marked in the split map are unlabelled or "
                        "invalid and were ignored.")
    if not train.any():
        raise SplitError("The given split map marks no labelled, valid pixel as training (value 1)")
    if not test.any():
        raise SplitError("The given split map marks no labelled, valid pixel as test (value 2)")
    return train, test


def _split(inp, cfg, proto, warnings):
    train, test = given_split(inp.usable, inp.given_map, inp.shape, warnings, proto)
    return train, test, "User-given split: map value 1 = training, 2 = test"


def _validation_units(inp, cfg, train, proto):
    """No polygons: connected regions of one class on the training side, clustered as polygons are."""
    return cluster_units(label_regions(inp.labels, train), proto.get("guard_radius", 0),
                         n_target(cfg.val_fraction, len(inp.classes)))


METHOD = SplitMethod(
    name="given", split=_split, spatial=True,
    no_train_hint=lambda cfg: "mark some pixels of this class with 1 in the split map",
    validation_units=_validation_units, unit_kind="label regions", unit_desc="label-region clusters")
