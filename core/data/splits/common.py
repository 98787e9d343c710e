"""What every split method shares: the `Split` result, the description of a method (`SplitMethod`, what the
dispatcher in `__init__.py` looks up), the labelled pixels it works on (`SplitInput`), the input checks, the
leakage guard and small helpers.

Why one module: each method module (pixels, blocks, polygons, given, auto, cv) imports from the package only this one
and `units.py`, so a method can be read, and a new one added, without the dispatcher's module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np

from ...config.schema import SETTINGS, SplitConfig
from ...errors import InputError, SplitError

FEW_PIXELS = 10
"""Below this many training (or test) pixels a class gets a warning: too few to learn (or to assess)."""
DROP_WARN = 0.3
"""Above this share of the labelled pixels dropped by the leakage guard, the split warns."""


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


@dataclass
class SplitInput:
    """The checked labelled pixels a method splits, and what came with them."""

    labels: np.ndarray
    """(H, W) integer class values, 0 = unlabelled."""
    usable: np.ndarray
    """(H, W) bool: labelled and on valid image pixels."""
    classes: List[int]
    polygon_ids: Optional[np.ndarray]
    given_map: Optional[np.ndarray]
    patch_size: Optional[int]
    rng: np.random.Generator
    name: Callable[[int], str]
    """Class value -> '3 (Corn-notill)' for messages."""

    @property
    def shape(self):
        return self.labels.shape


def _no_hint(cfg: SplitConfig) -> str:
    return ""


@dataclass(frozen=True)
class SplitMethod:
    """Everything the dispatcher needs to know about one value of `SplitConfig.method`, declared by its module.

    A hold-out method gives `split(inp, cfg, proto, warnings) -> (train, test, description)`; the dispatcher then
    applies the leakage guard (when `spatial`), checks the result (`no_train_hint`, `no_test_hint` complete its
    messages) and takes validation: in whole units when `validation_units(inp, cfg, train, proto)` gives a unit map
    (`unit_kind` names them in the validation note, `unit_desc` in the description), pixel by pixel otherwise.
    `choose(inp, warnings) -> name` stands for another method (auto); `whole(inp, cfg, proto, warnings, notes,
    n_labelled, excluded_invalid) -> Split` builds the whole split itself (cv)."""

    name: str
    split: Optional[Callable] = None
    spatial: bool = False
    """Moves whole areas to training or test, so the leakage guard applies (interleaved pixels would lose all test)."""
    no_train_hint: Callable[[SplitConfig], str] = _no_hint
    no_test_hint: Callable[[SplitConfig], str] = _no_hint
    validation_units: Optional[Callable] = None
    unit_kind: str = ""
    unit_desc: str = ""
    choose: Optional[Callable] = None
    whole: Optional[Callable] = None


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


# ---------------------------------------------------------------- the leakage guard


def apply_guard(method: SplitMethod, cfg: SplitConfig, inp: SplitInput, train, test, proto, warnings, notes):
    """The leakage guard (package docstring) on a hold-out split: for a spatial method, test pixels within
    patch_size // 2 (Chebyshev) of a training pixel are dropped; for the others it is said why it is not applied.
    Returns (test, dropped)."""
    dropped = np.zeros(inp.shape, bool)
    if inp.patch_size is None:
        return test, dropped
    ps = check_int(inp.patch_size, "patch_size", 1)
    radius = ps // 2
    proto.update(patch_size=ps, guard_radius=radius)
    if method.spatial and not cfg.leakage_guard:
        proto["dropped_for_leakage"] = 0
        proto["leakage_guard"] = False
        warnings.append(f"Leakage guard off: test pixels inside a {ps}x{ps} training patch were kept, so part of "
                        "their spectra was seen in training and the accuracy is optimistic compared with the guarded "
                        "figure.")
    elif method.spatial:
        if radius > 0:
            near = dilate(train, radius)
            dropped = test & near
            test = test & ~near
        proto["dropped_for_leakage"] = int(dropped.sum())
        share = int(dropped.sum()) / max(int(inp.usable.sum()), 1)
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
        notes.append(f"Leakage guard not applied: the '{method.name}' split interleaves training and test "
                     f"pixels, so {ps}x{ps} test patches overlap training pixels; accuracy is optimistic "
                     "compared with a spatially disjoint split (method 'blocks' or 'polygons').")
    return test, dropped


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """True where a True pixel of `mask` lies within `radius` (Chebyshev); separable box maximum."""
    from scipy.ndimage import maximum_filter

    return maximum_filter(mask.astype(np.uint8), size=2 * radius + 1, mode="constant", cval=0).astype(bool)


# ---------------------------------------------------------------- checks


def check_labels(labels_array) -> np.ndarray:
    a = np.asarray(labels_array)
    if a.ndim != 2:
        raise SplitError(f"labels array must be 2-D (rows, cols), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise SplitError(f"labels array must hold integer class values, got dtype {a.dtype}")
    if a.size and a.min() < 0:
        raise SplitError(f"labels array holds negative class value {int(a.min())}; class values must be "
                         ">= 1 (0 = unlabelled)")
    return a


def check_mask(m, shape, name) -> np.ndarray:
    a = np.asarray(m)
    if a.shape != shape:
        raise SplitError(f"{name} has shape {a.shape} but the labels have shape {shape}")
    return a.astype(bool, copy=True)


def check_int(v, name, lo) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise SplitError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def check_cfg(cfg: SplitConfig) -> None:
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


# ---------------------------------------------------------------- helpers


def pct(f) -> str:
    return f"{100 * f:g}%"


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def class_indices(labels, usable, classes):
    """Flat indices of usable pixels per class, in raster order (deterministic before shuffling)."""
    flat = labels.ravel()
    idx = np.flatnonzero(usable.ravel())
    vals = flat[idx]
    order = np.argsort(vals, kind="stable")
    idx, vals = idx[order], vals[order]
    bounds = np.searchsorted(vals, classes + [np.iinfo(np.int64).max])
    return {c: idx[bounds[i]:bounds[i + 1]] for i, c in enumerate(classes)}


def namer(names: Optional[dict]):
    """c -> '3 (Corn-notill)', or '3' without a name."""
    def name(c) -> str:
        n = (names or {}).get(int(c)) or (names or {}).get(str(c))
        return f"{int(c)} ({n})" if n and str(n) != f"Class {int(c)}" else str(int(c))
    return name
