"""Train / validation / test split protocols for a labelled image.

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
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ..config.schema import SETTINGS, SplitConfig
from ..errors import InputError, SplitError
from .spatial_units import cluster_units, label_regions

METHODS = ("auto", "random", "count", "blocks", "polygons", "given", "cv")
SPATIAL_METHODS = ("blocks", "polygons", "given")


@dataclass
class Split:
    """Boolean (H, W) masks of the three disjoint sets and the protocol that produced them."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    protocol: dict = field(default_factory=dict)
    folds: Optional[np.ndarray] = None
    """Split 'cv': the fold (1..k) of every training pixel (0 = none); `scored` holds each fold's scored pixels."""
    scored: Optional[list] = None

    @property
    def shape(self):
        return self.train.shape

    def counts(self) -> dict:
        return {"train": int(self.train.sum()), "val": int(self.val.sum()), "test": int(self.test.sum())}


def check_disjoint(split: Split) -> None:
    """Raise SplitError unless the three masks are boolean, equally shaped and share no pixel."""
    masks = {"train": split.train, "val": split.val, "test": split.test}
    for name, m in masks.items():
        if not isinstance(m, np.ndarray) or m.dtype != bool:
            raise SplitError(f"Split.{name} must be a boolean numpy array, got "
                             f"{getattr(m, 'dtype', type(m).__name__)}")
        if m.shape != split.train.shape:
            raise SplitError(f"Split.{name} has shape {m.shape}, Split.train has {split.train.shape}")
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        both = masks[a] & masks[b]
        n = int(both.sum())
        if n:
            r, c = np.argwhere(both)[0]
            raise SplitError(f"Split sets '{a}' and '{b}' share {n} pixel(s), e.g. row {r}, col {c}; "
                             "a pixel may be in one set only")


FEW_PIXELS = 10
"""Below this many training (or test) pixels a class gets a warning: too few to learn (or to assess)."""
DROP_WARN = 0.3
"""Above this share of the labelled pixels dropped by the leakage guard, the split warns."""
MIN_VAL_PIXELS = 50
MIN_VAL_UNITS = 2
"""Per class: a validation set with fewer pixels than this of some class, or fewer units (whole blocks or polygon
clusters for the spatial methods, pixels otherwise) holding it, cannot rank epochs: 50 pixels is two points of that
class's accuracy per pixel, and all its pixels in one unit test one place. The split then returns the validation
pixels to training and the run trains fixed epochs (the fallback). Why per class: a total of 84 validation pixels in
24 units passed a total minimum on the standard Indian Pines split, about 5 pixels per class, and early stopping on
them ranked epochs by noise."""


def make_split(labels_array, cfg: SplitConfig, polygon_ids=None, given_map=None, valid_mask=None,
               patch_size: Optional[int] = None, class_names: Optional[dict] = None) -> Split:
    """Split the labelled pixels (value > 0) of `labels_array` as `cfg` asks.

    `valid_mask` (True where the image has finite, non-nodata data) removes invalid pixels from all
    sets. `patch_size` enables the leakage guard for the spatial methods (see module docstring).
    `class_names` (value -> name) lets messages name classes, not only number them.
    """
    name = _namer(class_names)
    labels = _check_labels(labels_array)
    shape = labels.shape
    _check_cfg(cfg)
    rng = np.random.default_rng(int(cfg.seed))

    usable = labels > 0
    n_labelled_all = int(usable.sum())
    excluded_invalid = 0
    if valid_mask is not None:
        valid = _check_mask(valid_mask, shape, "valid_mask")
        excluded_invalid = int((usable & ~valid).sum())
        usable &= valid
    classes = [int(v) for v in np.unique(labels[usable])]
    if len(classes) < 2:
        found = f"only class {name(classes[0])}" if classes else "no labelled pixels"
        extra = f" ({excluded_invalid} labelled pixel(s) fall on invalid/nodata image pixels)" \
            if excluded_invalid else ""
        raise SplitError(f"Classification needs labelled pixels of at least 2 classes; the labels have "
                         f"{found}{extra}")

    warnings: List[str] = []
    notes: List[str] = []
    method = cfg.method
    if method == "auto":
        method = _auto_method(labels, usable, classes, polygon_ids, warnings, name)
    proto = {"method": method, "seed": int(cfg.seed), "val_fraction": float(cfg.val_fraction)}
    if cfg.method == "auto":
        proto["requested"] = "auto"
    if method == "cv":
        return _cv(labels, usable, classes, polygon_ids, cfg, patch_size, rng, warnings, notes, proto, n_labelled_all,
                   excluded_invalid, name)
    if method == "random":
        train, test = _random(labels, usable, classes, cfg.train_fraction, rng, name)
        proto["train_fraction"] = float(cfg.train_fraction)
        desc = (f"Stratified random split: {_pct(cfg.train_fraction)} of each class's labelled pixels "
                f"to training, the rest to test")
    elif method == "count":
        train, test = _count(labels, usable, classes, cfg.train_count, rng, warnings, name)
        proto["train_count"] = int(cfg.train_count)
        desc = f"Per-class count split: {cfg.train_count} random pixels of each class to training, the rest to test"
    elif method == "blocks":
        train, test = _blocks(labels, usable, classes, cfg.train_fraction, cfg.block_size, rng, warnings, name)
        proto.update(train_fraction=float(cfg.train_fraction), block_size=int(cfg.block_size))
        desc = (f"Spatially disjoint block split: the image cut into {cfg.block_size}x{cfg.block_size}-pixel "
                f"blocks, whole blocks to training (about {_pct(cfg.train_fraction)} of each class) or test")
    elif method == "polygons":
        radius = (_check_int(patch_size, "patch_size", 1) // 2) if patch_size is not None else 0
        train, test, clusters = _polygons(labels, usable, classes, cfg.train_fraction, polygon_ids, rng, warnings,
                                          proto, name, radius)
        proto["train_fraction"] = float(cfg.train_fraction)
        desc = (f"Polygon split: whole spatial clusters of neighbouring polygons ({proto['clusters']} clusters of "
                f"{proto['polygons_train'] + proto['polygons_test']} polygons) to training (about "
                f"{_pct(cfg.train_fraction)} of each class's pixels) or test")
    else:  # given
        train, test = _given(usable, given_map, shape, warnings, proto)
        desc = "User-given split: map value 1 = training, 2 = test"

    dropped = np.zeros(shape, bool)
    if patch_size is not None:
        ps = _check_int(patch_size, "patch_size", 1)
        radius = ps // 2
        proto.update(patch_size=ps, guard_radius=radius)
        if method in SPATIAL_METHODS and not cfg.leakage_guard:
            proto["dropped_for_leakage"] = 0
            proto["leakage_guard"] = False
            warnings.append(f"Leakage guard off: test pixels inside a {ps}x{ps} training patch were kept, so part of "
                            "their spectra was seen in training and the accuracy is optimistic compared with the guarded "
                            "figure.")
        elif method in SPATIAL_METHODS:
            if radius > 0:
                near = _dilate(train, radius)
                dropped = test & near
                test = test & ~near
            proto["dropped_for_leakage"] = int(dropped.sum())
            share = int(dropped.sum()) / max(int(usable.sum()), 1)
            proto["dropped_share"] = round(share, 4)
            notes.append(f"Leakage guard: test pixels within {radius} pixel(s) (Chebyshev) of a training "
                         f"pixel lie inside a {ps}x{ps} training patch and were dropped from test "
                         f"({int(dropped.sum())} pixel(s), {100 * share:.1f} % of the usable labelled pixels).")
            if share > DROP_WARN:
                warnings.append(f"The leakage guard dropped {100 * share:.0f} % of the labelled pixels (test pixels "
                                f"inside a {ps}x{ps} training patch): the test set is what is left. Training and test "
                                "areas lie close together; label areas further apart, give independent validation "
                                "polygons, or use a smaller patch_size.")
        else:
            proto["dropped_for_leakage"] = 0
            notes.append(f"Leakage guard not applied: the '{method}' split interleaves training and test "
                         f"pixels, so {ps}x{ps} test patches overlap training pixels; accuracy is optimistic "
                         "compared with a spatially disjoint split (method 'blocks' or 'polygons').")

    for c in classes:
        if not (train & (labels == c)).any():
            hint = {"blocks": f"use a smaller block_size (now {cfg.block_size}) or a larger train_fraction",
                    "polygons": "draw more polygons of this class or raise train_fraction",
                    "given": "mark some pixels of this class with 1 in the split map"}.get(method, "")
            raise SplitError(f"Class {name(c)} has no training pixels after the '{method}' split; {hint}")
    if not test.any():
        if dropped.any():
            hint = (f" after the leakage guard dropped {int(dropped.sum())}; use a smaller patch_size "
                    "or a larger block_size")
        else:
            hint = {"blocks": f"; the image holds too few {cfg.block_size}x{cfg.block_size} blocks: use a "
                              "smaller block_size or a smaller train_fraction",
                    "polygons": "; draw more polygons or use a smaller train_fraction"}.get(method, "")
        raise SplitError(f"The '{method}' split left no test pixels{hint}")
    for c in classes:
        if not (test & (labels == c)).any():
            warnings.append(f"Class {name(c)} has no test pixels: its accuracy cannot be assessed.")

    units = _unit_map(method, shape, cfg, polygon_ids)
    if method == "polygons":  # validation: clusters of the training side's polygons, cut as finely as the guard allows
        pid = np.asarray(polygon_ids)
        units = cluster_units(np.where(train & (pid > 0), pid, 0), proto.get("guard_radius", 0),
                              _n_target(cfg.val_fraction, len(classes)))
    elif method == "given":  # no polygons: connected regions of one class on the training side, clustered likewise
        units = cluster_units(label_regions(labels, train), proto.get("guard_radius", 0),
                              _n_target(cfg.val_fraction, len(classes)))
    if units is not None and cfg.val_fraction > 0:
        train, val, vnote = _take_val_units(labels, train, classes, units, cfg.val_fraction, rng,
                                            proto.get("guard_radius", 0), method, name)
        proto["validation"] = vnote
        notes.append(vnote["text"])
    else:
        train, val = _take_val(labels, train, classes, cfg.val_fraction, rng)
    if cfg.val_fraction > 0:
        train, val = _check_validation(train, val, units, labels, classes, proto, warnings, notes, name)
    if cfg.val_fraction > 0 and proto.get("validation_check", {}).get("fallback"):
        desc += "; the validation set was too small to decide, so every stage trained fixed epochs on all training pixels"
    elif cfg.val_fraction > 0:
        if units is not None:
            desc += (f"; whole {({'blocks': 'blocks', 'given': 'label-region clusters'}).get(method, 'polygon clusters')} holding about "
                     f"{_pct(cfg.val_fraction)} of each class's training pixels held out for validation")
        else:
            desc += f"; {_pct(cfg.val_fraction)} of each class's training pixels held out for validation"
    desc += f" (seed {int(cfg.seed)})."

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
    proto.update(
        description=desc, classes=classes, per_class=per_class,
        totals={"labelled": n_labelled_all, "usable": int(usable.sum()), "train": int(train.sum()),
                "val": int(val.sum()), "test": int(test.sum())},
        excluded_invalid=excluded_invalid, warnings=warnings, notes=notes,
    )
    split = Split(train=train, val=val, test=test, protocol=proto)
    check_disjoint(split)
    return split


def _cv(labels, usable, classes, polygon_ids, cfg, patch_size, rng, warnings, notes, proto, n_labelled_all,
        excluded_invalid, name):
    """Split 'cv' (core/training/crossval.py): every usable pixel trains the final model; the folds assess."""
    from ..training.crossval import cv_split

    radius = (_check_int(patch_size, "patch_size", 1) // 2) if patch_size is not None else 0
    train, folds, scored = cv_split(labels, usable, classes, polygon_ids, radius, int(cfg.folds), rng, warnings, proto,
                                    name)
    k = proto["folds"]
    proto.update(patch_size=patch_size, guard_radius=radius, dropped_for_leakage=proto["cv_dropped_for_leakage"],
                 dropped_share=proto["cv_dropped_share"])
    text = (f"Map production: the final model trains on all {int(train.sum())} labelled pixels, with fixed epochs (no "
            f"pixel is held out to validate on). Accuracy: grouped {k}-fold cross-validation over {proto['clusters']} "
            f"spatial clusters of {proto['units']}; each fold's model trains as the final one does on the other folds "
            f"and is scored on its own clusters, except {proto['cv_dropped_for_leakage']} pixel(s) within {radius} of "
            f"another fold's training pixels (leakage guard). The pooled fold predictions estimate how well this "
            f"procedure maps areas it did not train on (seed {int(cfg.seed)}).")
    notes.append(text)
    if proto["cv_dropped_share"] > DROP_WARN:
        warnings.append(f"The leakage guard dropped {100 * proto['cv_dropped_share']:.0f} % of the labelled pixels from "
                        "the cross-validation folds: the accuracy rests on what is left.")
    per_class = []
    for c in classes:
        cm = labels == c
        n_scored = int(sum((cm & m).sum() for m in scored))
        per_class.append({"class": c, "labelled": int(cm.sum()), "usable": int((cm & usable).sum()),
                          "train": int((cm & train).sum()), "val": 0, "test": n_scored,
                          "dropped_for_leakage": int((cm & train).sum()) - n_scored, "train_share": 1.0})
        if 0 < per_class[-1]["train"] < FEW_PIXELS:
            warnings.append(f"Class {name(c)} has only {per_class[-1]['train']} training pixel(s): too few to learn it "
                            "reliably (label more, or merge it with a related class).")
    proto.update(description=text, classes=classes, per_class=per_class,
                 totals={"labelled": n_labelled_all, "usable": int(usable.sum()), "train": int(train.sum()), "val": 0,
                         "test": int(sum(m.sum() for m in scored))},
                 excluded_invalid=excluded_invalid, warnings=warnings, notes=notes,
                 validation_check={"pixels": 0, "units": None, "min_pixels": MIN_VAL_PIXELS, "min_units": None,
                                   "adequate": False, "fallback": "fixed epochs (map production)"})
    empty = np.zeros(labels.shape, bool)
    return Split(train=train, val=empty, test=empty.copy(), protocol=proto, folds=folds, scored=scored)


# ---------------------------------------------------------------- checks


def _check_labels(labels_array) -> np.ndarray:
    a = np.asarray(labels_array)
    if a.ndim != 2:
        raise SplitError(f"labels array must be 2-D (rows, cols), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise SplitError(f"labels array must hold integer class values, got dtype {a.dtype}")
    if a.size and a.min() < 0:
        raise SplitError(f"labels array holds negative class value {int(a.min())}; class values must be "
                         ">= 1 (0 = unlabelled)")
    return a


def _check_mask(m, shape, name) -> np.ndarray:
    a = np.asarray(m)
    if a.shape != shape:
        raise SplitError(f"{name} has shape {a.shape} but the labels have shape {shape}")
    return a.astype(bool, copy=True)


def _check_int(v, name, lo) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise SplitError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def _real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) \
        and math.isfinite(float(v))


def _check_cfg(cfg: SplitConfig) -> None:
    """The split settings checked by the registry's rules (core/config/registry.py: types, ranges, choices), the same
    ones RunConfig.validate applies, as a SplitError naming the setting as the user sets it."""
    if not isinstance(cfg, SplitConfig):
        raise SplitError(f"split settings must be a SplitConfig, got {type(cfg).__name__}")
    for s in SETTINGS:
        if s.section == "split":
            try:
                s.check(getattr(cfg, s.name))
            except InputError as e:
                raise SplitError(str(e)) from None


def _pct(f) -> str:
    return f"{100 * f:g}%"


def _round(x: float) -> int:
    return int(math.floor(x + 0.5))


# ---------------------------------------------------------------- methods


def _class_indices(labels, usable, classes):
    """Flat indices of usable pixels per class, in raster order (deterministic before shuffling)."""
    flat = labels.ravel()
    idx = np.flatnonzero(usable.ravel())
    vals = flat[idx]
    order = np.argsort(vals, kind="stable")
    idx, vals = idx[order], vals[order]
    bounds = np.searchsorted(vals, classes + [np.iinfo(np.int64).max])
    return {c: idx[bounds[i]:bounds[i + 1]] for i, c in enumerate(classes)}


def _namer(names: Optional[dict]):
    """c -> '3 (Corn-notill)', or '3' without a name."""
    def name(c) -> str:
        n = (names or {}).get(int(c)) or (names or {}).get(str(c))
        return f"{int(c)} ({n})" if n and str(n) != f"Class {int(c)}" else str(int(c))
    return name


def _random(labels, usable, classes, frac, rng, name=str):
    train = np.zeros(labels.size, bool)
    test = np.zeros(labels.size, bool)
    for c, idx in _class_indices(labels, usable, classes).items():
        n = idx.size
        if n < 2:
            raise SplitError(f"Class {name(c)} has {n} labelled pixel; a random split needs at least 2 per class "
                             "(one for training, one for testing). Label more pixels or remove the class.")
        k = min(max(_round(n * frac), 1), n - 1)
        perm = rng.permutation(idx)
        train[perm[:k]] = True
        test[perm[k:]] = True
    return train.reshape(labels.shape), test.reshape(labels.shape)


def _count(labels, usable, classes, k, rng, warnings, name=str):
    train = np.zeros(labels.size, bool)
    test = np.zeros(labels.size, bool)
    small = []
    for c, idx in _class_indices(labels, usable, classes).items():
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


def _unit_matrix(units, cls_idx, n_classes):
    """Per unit (block/polygon) pixel counts per class: (U, C) int64, plus the per-pixel unit index."""
    uniq, inv = np.unique(units, return_inverse=True)
    m = np.bincount(inv * n_classes + cls_idx, minlength=uniq.size * n_classes).reshape(uniq.size, n_classes)
    return uniq, inv, m


def _assign_units(m, frac, rng):
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


def _units_split(labels, usable, classes, units, frac, rng):
    cls_idx = np.searchsorted(np.asarray(classes), labels[usable])
    uniq, inv, m = _unit_matrix(units, cls_idx, len(classes))
    in_train = _assign_units(m, frac, rng)
    pix_train = in_train[inv]
    train = np.zeros(labels.shape, bool)
    test = np.zeros(labels.shape, bool)
    train[usable] = pix_train
    test[usable] = ~pix_train
    return train, test, m, in_train


def _blocks(labels, usable, classes, frac, bs, rng, warnings, name=str):
    rows, cols = np.nonzero(usable)
    n_bcols = -(-labels.shape[1] // bs)
    units = (rows // bs) * n_bcols + cols // bs
    train, test, m, in_train = _units_split(labels, usable, classes, units, frac, rng)
    single = [name(c) for j, c in enumerate(classes) if (m[:, j] > 0).sum() == 1]
    if single:
        warnings.append(f"Class(es) {', '.join(single)} lie in a single {bs}x{bs} block, so all their pixels are on one "
                        "side; use a smaller block_size to test them.")
    return train, test


def _auto_method(labels, usable, classes, polygon_ids, warnings, name=str) -> str:
    """'polygons' for polygon labels with at least 2 polygons in every class, else 'random' (see module docstring)."""
    pid = None if polygon_ids is None else np.asarray(polygon_ids)
    if pid is None or pid.shape != labels.shape or not (usable & (pid > 0)).any():
        # said, never silent: the user asked for 'auto' and gets a split whose accuracy is optimistic
        warnings.append("Split 'auto': the labels have no polygons (a label raster or points), so a random pixel "
                        "split was used instead of a polygon split. Its accuracy is optimistic (neighbouring pixels "
                        "fall on both sides): choose 'blocks' for a spatially disjoint estimate, or 'cv' (map "
                        "production).")
        return "random"
    few = []
    for c in classes:
        n = np.unique(pid[usable & (labels == c) & (pid > 0)]).size
        if n < 2:
            few.append(f"{name(c)} in {n}")
    if few:
        warnings.append(f"Split 'auto': class(es) {', '.join(few)} polygon(s), fewer than 2, so whole "
                        "polygons cannot go to both training and test; a random pixel split was used instead. Its "
                        "accuracy is optimistic (neighbouring pixels of one polygon fall on both sides): draw at "
                        "least 2 polygons per class, or give independent validation polygons.")
        return "random"
    return "polygons"


def _n_target(frac: float, n_classes: int) -> int:
    """How many spatial clusters to aim for when `frac` of the pixels goes to one side: enough that the greedy
    assignment can approach `frac` for each class (cut further only where the guard allows, spatial_units)."""
    f = min(max(float(frac), 1e-3), 1 - 1e-3)
    return int(max(2 * n_classes, math.ceil(3 / min(f, 1 - f))))


def _clusters_for(labels, usable, pid, classes, radius, n_target, proto, warnings):
    """Spatial clusters of the polygons (core/spatial_units). Guard-safe clusters are kept when every class spans 2 of
    them, or when there are at least 4 and most classes do (a class drawn in one place stays on one side, with a
    warning, rather than costing a seam through it); otherwise (a small scene) the polygons are cut more finely, then
    taken one by one, and the protocol says so."""
    base = np.where(usable, pid, 0)
    for width, how in ((None, "guard-safe"), (1, "fine (the scene is small for the guard)"), (0, "single polygons")):
        cl = base.copy() if width == 0 else cluster_units(base, radius, n_target, min_width=width)
        per_class = [np.unique(cl[usable & (labels == c)]).size for c in classes]
        if min(per_class) >= 2 or (cl.max() >= 4 and 2 * sum(n >= 2 for n in per_class) >= len(classes)):
            break
    proto["clustering"] = how
    if width is not None:
        warnings.append(f"Polygons were grouped into {how} clusters: guard-safe clusters could not give every class "
                        "2 clusters, so more test pixels may fall inside training patches.")
    return cl


def _polygons(labels, usable, classes, frac, polygon_ids, rng, warnings, proto, name=str, radius=0):
    if polygon_ids is None:
        raise SplitError("Split method 'polygons' needs polygon ids (labels rasterised from a vector layer); "
                         "these labels have none: use method 'blocks' or 'random'")
    pid = np.asarray(polygon_ids)
    if pid.shape != labels.shape:
        raise SplitError(f"polygon_ids has shape {pid.shape} but the labels have shape {labels.shape}")
    if not np.issubdtype(pid.dtype, np.integer):
        raise SplitError(f"polygon_ids must be integers (0 = none), got dtype {pid.dtype}")
    no_poly = usable & (pid <= 0)
    n_no = int(no_poly.sum())
    proto["unused_no_polygon"] = n_no
    if n_no:
        warnings.append(f"{n_no} labelled pixel(s) belong to no polygon (id 0) and were left out.")
    usable = usable & (pid > 0)
    cls_idx = np.searchsorted(np.asarray(classes), labels[usable])
    _, _, m = _unit_matrix(pid[usable], cls_idx, len(classes))
    n_poly = (m > 0).sum(0)
    few = [(c, int(n)) for c, n in zip(classes, n_poly) if n < 2]
    if few:
        c, n = few[0]
        raise SplitError(f"Class {name(c)} is drawn in {n} polygon(s); split method 'polygons' needs at least 2 "
                         f"per class (one for training, one for testing). Classes short of polygons: "
                         f"{', '.join(name(c) for c, _ in few)}. Draw more polygons or use method 'blocks'.")
    proto["polygons_per_class"] = {str(c): int(n) for c, n in zip(classes, n_poly)}
    # neighbouring polygons move together, so the leakage guard drops only the pixels along a few seams
    clusters = _clusters_for(labels, usable, pid, classes, radius, _n_target(frac, len(classes)), proto, warnings)
    train, test, _, in_train = _units_split(labels, usable, classes, clusters[usable], frac, rng)
    poly_train = np.unique(pid[train])
    proto["clusters"] = int(in_train.size)
    proto["clusters_train"] = int(in_train.sum())
    proto["polygons_train"] = int(poly_train.size)
    proto["polygons_test"] = int(np.unique(pid[test]).size)
    return train, test, clusters


def _given(usable, given_map, shape, warnings, proto):
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


# ---------------------------------------------------------------- helpers


def _unit_map(method, shape, cfg, polygon_ids):
    """Per-pixel ids of the units the split moved whole (blocks or polygons; 0 = none), else None."""
    if method == "blocks":
        rows, cols = np.indices(shape)
        return (rows // cfg.block_size) * -(-shape[1] // cfg.block_size) + cols // cfg.block_size + 1
    if method == "polygons":
        return np.where(np.asarray(polygon_ids) > 0, np.asarray(polygon_ids), 0)
    return None


def _take_val_units(labels, train, classes, units, frac, rng, radius, method, name=str):
    """Validation as whole units (blocks or polygons) of the training side, about `frac` of each class's
    training pixels, as the test side was made: validation pixels drawn from inside training units are
    near-copies of training pixels, and validation accuracy then reads ~1.0 and cannot steer early stopping.

    A class with a single training unit keeps it for training and gets pixel-level validation inside it
    (stated in the note). Validation pixels within `radius` of a training pixel (inside a training patch)
    are dropped, as for test. Returns (train, val, note)."""
    sel = train & (units > 0)
    cls_idx = np.searchsorted(np.asarray(classes), labels[sel])
    uniq, inv, m = _unit_matrix(units[sel], cls_idx, len(classes))
    in_val = _assign_units(m, frac, rng)
    present = m > 0
    single = [j for j in range(len(classes)) if present[:, j].sum() < 2]
    for j in single:  # its only training unit stays in training
        in_val[present[:, j]] = False
    for j in range(len(classes)):  # and no class may lose its last training unit
        units_j = np.flatnonzero(present[:, j])
        if units_j.size and in_val[units_j].all():
            in_val[units_j[np.argmin(m[units_j].sum(1))]] = False
    val = np.zeros(labels.shape, bool)
    val[sel] = in_val[inv]
    new_train = train & ~val
    dropped = 0
    if radius > 0 and val.any():
        near = _dilate(new_train, radius) & val
        dropped = int(near.sum())
        val &= ~near
    fallback = [classes[j] for j in single]
    if fallback:
        mask = np.isin(labels, fallback) & new_train
        t2, v2 = _take_val(labels, mask, fallback, frac, rng)
        val |= v2
        new_train = (new_train & ~mask) | t2
    kind = {"blocks": "blocks", "given": "label regions"}.get(method, "polygon clusters")
    text = (f"Validation: {int(in_val.sum())} whole {kind} of the training side ({int(val.sum())} pixels), so early "
            f"stopping is judged on {kind} the network did not train on")
    if dropped:
        text += f"; {dropped} validation pixel(s) within {radius} of a training pixel dropped (leakage guard)"
    if fallback:
        text += (f". Class(es) {', '.join(name(c) for c in fallback)} have a single training {kind[:-1]}: their "
                 f"validation pixels come from inside it (optimistic)")
    return new_train, val, {"method": f"whole {kind}", "units": int(in_val.sum()), "pixels": int(val.sum()),
                            "dropped_for_leakage": dropped, "pixel_level_classes": [int(c) for c in fallback],
                            "text": text + "."}


def _check_validation(train, val, units, labels, classes, proto, warnings, notes, name=str):
    """The fallback for a validation set too small to decide (MIN_VAL_PIXELS, MIN_VAL_UNITS per class): its pixels go
    back to training and every stage trains its full epochs, keeping the last (core/training/trainer.py); said in the warnings,
    which the CLI, the report's top and the QGIS message bar show. `units`: the unit map validation was taken in whole
    units from (None: pixel by pixel, each pixel its own unit). Returns (train, val)."""
    n_val = int(val.sum())
    by_units = units is not None
    short = []
    for c in classes:
        m = val & (labels == c)
        n_units = int(np.unique(units[m]).size) if by_units else int(m.sum())
        if m.sum() < MIN_VAL_PIXELS or n_units < MIN_VAL_UNITS:
            short.append({"class": int(c), "pixels": int(m.sum()), "units": n_units})
    total_units = proto.get("validation", {}).get("units") if by_units else None
    check = {"pixels": n_val, "units": total_units, "min_pixels": MIN_VAL_PIXELS,
             "min_units": MIN_VAL_UNITS if by_units else None, "per_class": True, "short_classes": short}
    check["adequate"] = not short
    check["fallback"] = "fixed epochs" if short else None
    proto["validation_check"] = check
    if not short:
        return train, val
    worst = ", ".join(f"{name(r['class'])}: {r['pixels']}" + (f" in {r['units']} unit(s)" if by_units else "")
                      for r in short[:4]) + (f" and {len(short) - 4} more" if len(short) > 4 else "")
    need = f"{MIN_VAL_PIXELS} pixels" + (f" in {MIN_VAL_UNITS} units apart from training" if by_units else "")
    text = (f"Validation too small to decide: {n_val} pixel(s) in all; {len(short)} of {len(classes)} class(es) have "
            f"fewer than {need} ({worst}). Fallback: no early stopping; every stage trains its full epochs and keeps "
            "the last, and the validation pixels train. Model choices were not validated: give independent validation "
            "polygons, or label more areas.")
    warnings.append(text)
    notes.append(text)
    if "validation" in proto:
        proto["validation"]["text"] += " " + text
    return train | val, np.zeros_like(val)


def _take_val(labels, train, classes, frac, rng):
    """Move `frac` of each class's training pixels (at least one stays in train) to validation."""
    val = np.zeros(labels.size, bool)
    new_train = train.ravel().copy()
    if frac > 0:
        for c, idx in _class_indices(labels, train, classes).items():
            n = idx.size
            k = min(_round(n * frac), n - 1)
            if k > 0:
                pick = rng.permutation(idx)[:k]
                val[pick] = True
                new_train[pick] = False
    return new_train.reshape(labels.shape), val.reshape(labels.shape)


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """True where a True pixel of `mask` lies within `radius` (Chebyshev); separable box maximum."""
    from scipy.ndimage import maximum_filter

    return maximum_filter(mask.astype(np.uint8), size=2 * radius + 1, mode="constant", cval=0).astype(bool)
