"""Train / validation / test split protocols for a labelled image: `make_split`, the dispatcher.

Every protocol is seeded (a numpy Generator built from `SplitConfig.seed`), returns boolean (H, W)
masks that never share a pixel, and a JSON-friendly `protocol` dict that states what was done, so a
report can say exactly how the accuracy was measured.

Methods (`SplitConfig.method`):
  cv       the default, map production (core/training/crossval.py): every label trains the map model; grouped k-fold
           cross-validation over spatial clusters of the labels gives the accuracy. The hold-out methods below
           leave the map model with only part of the analyst's labels; they serve benchmarks and published splits.
  auto     `polygons` when the labels come from polygons and every class has at least 2 of them,
           else `random` (with a warning when polygons were too few), because map producers validate on
           pixels from other polygons: a random pixel split of polygon data puts neighbours of one polygon on
           both sides and flatters the accuracy.
  random   stratified: `train_fraction` of each class to train (>= 1 pixel in train and in test).
  count    `train_count` pixels per class; a class with <= train_count pixels keeps half for test.
  blocks   spatially disjoint: whole `block_size` squares go to train or test, chosen greedily so that
           each class gets about `train_fraction` of its pixels in train.
  polygons whole polygons (`polygon_ids`) go to train or test, stratified by class.
  given    a user map: 1 = train, 2 = test, 0 = unused.

Validation pixels are `val_fraction` of each class's training pixels, taken from train: whole blocks or
polygons for those methods (pixels of a training unit would flatter validation as they flatter test), pixel by
pixel otherwise.
For the spatial methods (blocks, polygons, given) `patch_size` enables a guard band: a test pixel
within patch_size // 2 (Chebyshev distance) of a training pixel lies inside a training patch, so its
spectrum was seen during training; such pixels are dropped from test and counted. Random and count
splits interleave train and test pixel by pixel by design: the guard would empty their test set, so
it is not applied there and the protocol says so.

Layout: one module per method (pixels: random and count; blocks; polygons; given; auto; cv), each declaring a
`SplitMethod` (common.py: its name, whether it is spatial, its hints, its validation units); `METHOD_TABLE` below
holds them and `make_split` looks the method up there, then applies what all hold-out methods share: the leakage guard
(common.apply_guard), the result's checks, validation (validation.py) and the per-class protocol.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ...config.schema import SplitConfig
from ...errors import SplitError
from . import auto, blocks, cv, given, pixels, polygons
from .common import (DROP_WARN, FEW_PIXELS, Split, SplitInput, SplitMethod, apply_guard, check_cfg, check_disjoint,
                     check_labels, check_mask, namer, pct)
# the validation minimums are passed in from here at each call, so `splits.MIN_VAL_PIXELS` is the one knob to turn
from .validation import MIN_VAL_PIXELS, MIN_VAL_UNITS, check_validation, take_val, take_val_units

__all__ = ["Split", "SplitMethod", "check_disjoint", "make_split", "METHODS", "SPATIAL_METHODS", "METHOD_TABLE",
           "FEW_PIXELS", "DROP_WARN", "MIN_VAL_PIXELS", "MIN_VAL_UNITS"]

METHOD_TABLE: Dict[str, SplitMethod] = {m.name: m for m in (
    auto.METHOD, pixels.RANDOM, pixels.COUNT, blocks.METHOD, polygons.METHOD, given.METHOD, cv.METHOD)}
"""Every value of SplitConfig.method and what its module declares about it."""
METHODS = tuple(METHOD_TABLE)
SPATIAL_METHODS = tuple(name for name, m in METHOD_TABLE.items() if m.spatial)


def make_split(labels_array, cfg: SplitConfig, polygon_ids=None, given_map=None, valid_mask=None,
               patch_size: Optional[int] = None, class_names: Optional[dict] = None) -> Split:
    """Split the labelled pixels (value > 0) of `labels_array` as `cfg` asks.

    `valid_mask` (True where the image has finite, non-nodata data) removes invalid pixels from all
    sets. `patch_size` enables the leakage guard for the spatial methods (see module docstring).
    `class_names` (value -> name) lets messages name classes, not only number them.
    """
    name = namer(class_names)
    labels = check_labels(labels_array)
    shape = labels.shape
    check_cfg(cfg)
    rng = np.random.default_rng(int(cfg.seed))

    usable = labels > 0
    n_labelled_all = int(usable.sum())
    excluded_invalid = 0
    if valid_mask is not None:
        valid = check_mask(valid_mask, shape, "valid_mask")
        excluded_invalid = int((usable & ~valid).sum())
        usable &= valid
    classes = [int(v) for v in np.unique(labels[usable])]
    if len(classes) < 2:
        found = f"only class {name(classes[0])}" if classes else "no labelled pixels"
        extra = f" ({excluded_invalid} labelled pixel(s) fall on invalid/nodata image pixels)" \
            if excluded_invalid else ""
        raise SplitError(f"Classification needs labelled pixels of at least 2 classes; the labels have "
                         f"{found}{extra}")
    inp = SplitInput(labels=labels, usable=usable, classes=classes, polygon_ids=polygon_ids, given_map=given_map,
                     patch_size=patch_size, rng=rng, name=name)

    warnings: List[str] = []
    notes: List[str] = []
    method = METHOD_TABLE[cfg.method]  # check_cfg has refused any other name
    if method.choose is not None:
        method = METHOD_TABLE[method.choose(inp, warnings)]
    proto = {"method": method.name, "seed": int(cfg.seed), "val_fraction": float(cfg.val_fraction)}
    if cfg.method == "auto":
        proto["requested"] = "auto"
    if method.whole is not None:
        return method.whole(inp, cfg, proto, warnings, notes, n_labelled_all, excluded_invalid, MIN_VAL_PIXELS)
    train, test, desc = method.split(inp, cfg, proto, warnings)
    test, dropped = apply_guard(method, cfg, inp, train, test, proto, warnings, notes)
    _check_sides(method, cfg, labels, classes, train, test, dropped, warnings, name)
    train, val, desc = _validation(method, cfg, inp, train, proto, warnings, notes, desc)
    desc += f" (seed {int(cfg.seed)})."
    per_class = _per_class(labels, usable, classes, train, val, test, dropped, warnings, name)
    proto.update(
        description=desc, classes=classes, per_class=per_class,
        totals={"labelled": n_labelled_all, "usable": int(usable.sum()), "train": int(train.sum()),
                "val": int(val.sum()), "test": int(test.sum())},
        excluded_invalid=excluded_invalid, warnings=warnings, notes=notes,
    )
    split = Split(train=train, val=val, test=test, protocol=proto)
    check_disjoint(split)
    return split


def _check_sides(method, cfg, labels, classes, train, test, dropped, warnings, name):
    """Every class trains and some pixels test (SplitError otherwise, with the method's hint); a class without test
    pixels is warned about."""
    for c in classes:
        if not (train & (labels == c)).any():
            raise SplitError(f"Class {name(c)} has no training pixels after the '{method.name}' split; "
                             f"{method.no_train_hint(cfg)}")
    if not test.any():
        if dropped.any():
            hint = (f" after the leakage guard dropped {int(dropped.sum())}; use a smaller patch_size "
                    "or a larger block_size")
        else:
            hint = method.no_test_hint(cfg)
        raise SplitError(f"The '{method.name}' split left no test pixels{hint}")
    for c in classes:
        if not (test & (labels == c)).any():
            warnings.append(f"Class {name(c)} has no test pixels: its accuracy cannot be assessed.")


def _validation(method, cfg, inp, train, proto, warnings, notes, desc):
    """(train, val, description): validation taken from the training side in whole units where the method has them,
    pixel by pixel otherwise, then checked (MIN_VAL_PIXELS, MIN_VAL_UNITS, read here at each call)."""
    labels, classes, name = inp.labels, inp.classes, inp.name
    units = method.validation_units(inp, cfg, train, proto) if method.validation_units is not None else None
    if units is not None and cfg.val_fraction > 0:
        train, val, vnote = take_val_units(labels, train, classes, units, cfg.val_fraction, inp.rng,
                                           proto.get("guard_radius", 0), method.unit_kind, name)
        proto["validation"] = vnote
        notes.append(vnote["text"])
    else:
        train, val = take_val(labels, train, classes, cfg.val_fraction, inp.rng)
    if cfg.val_fraction > 0:
        train, val = check_validation(train, val, units, labels, classes, proto, warnings, notes, name,
                                      min_pixels=MIN_VAL_PIXELS, min_units=MIN_VAL_UNITS)
    if cfg.val_fraction > 0 and proto.get("validation_check", {}).get("fallback"):
        desc += ("; the validation set was too small to decide, so every stage trained fixed epochs on all training "
                 "pixels")
    elif cfg.val_fraction > 0:
        if units is not None:
            desc += (f"; whole {method.unit_desc} holding about "
                     f"{pct(cfg.val_fraction)} of each class's training pixels held out for validation")
        else:
            desc += f"; {pct(cfg.val_fraction)} of each class's training pixels held out for validation"
    return train, val, desc


def _per_class(labels, usable, classes, train, val, test, dropped, warnings, name) -> list:
    """The protocol's per-class counts; a class with fewer than FEW_PIXELS training or test pixels is warned about."""
    per_class = []
    for c in classes:
        cm = labels == c
        per_class.append({
            "class": c, "labelled": int(cm.sum()),
            "usable": int((cm & usable).sum()), "train": int((cm & train).sum()),
            "val": int((cm & val).sum()), "test": int((cm & test).sum()),
            "dropped_for_leakage": int((cm & dropped).sum()),
        })
        u = per_class[-1]["usable"]
        per_class[-1]["train_share"] = round((per_class[-1]["train"] + per_class[-1]["val"]) / u, 4) if u else 0.0
        n_train, n_test = per_class[-1]["train"] + per_class[-1]["val"], per_class[-1]["test"]
        if 0 < n_train < FEW_PIXELS:
            warnings.append(f"Class {name(c)} has only {n_train} training pixel(s): too few to learn it reliably "
                            f"(label more, or merge it with a related class).")
        if 0 < n_test < FEW_PIXELS:
            warnings.append(f"Class {name(c)} has only {n_test} test pixel(s): its accuracy is very uncertain.")
    return per_class
