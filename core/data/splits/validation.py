"""Validation pixels taken from the training side of a hold-out split, and the check that they can decide.

Validation is `val_fraction` of each class's training pixels: whole units (blocks, polygon clusters, label regions)
for the spatial methods, since pixels of a training unit would flatter validation as they flatter test, pixel by
pixel otherwise. A validation set too small to rank epochs returns to training, and the run trains fixed epochs.
"""
from __future__ import annotations

import numpy as np

from .common import class_indices, dilate, round_half_up
from .units import assign_units, unit_matrix

MIN_VAL_PIXELS = 50
MIN_VAL_UNITS = 2
"""Per class: a validation set with fewer pixels than this of some class, or fewer units (whole blocks or polygon
clusters for the spatial methods, pixels otherwise) holding it, cannot rank epochs: 50 pixels is two points of that
class's accuracy per pixel, and all its pixels in one unit test one place. The split then returns the validation
pixels to training and the run trains fixed epochs (the fallback). Why per class: a total of 84 validation pixels in
24 units passed a total minimum on the standard Indian Pines split, about 5 pixels per class, and early stopping on
them ranked epochs by noise. The dispatcher (splits/__init__.py) passes them in at each call, as
`splits.MIN_VAL_PIXELS` and `splits.MIN_VAL_UNITS`."""


def take_val_units(labels, train, classes, units, frac, rng, radius, kind, name=str):
    """Validation as whole units (blocks or polygons) of the training side, about `frac` of each class's
    training pixels, as the test side was made: validation pixels drawn from inside training units are
    near-copies of training pixels, and validation accuracy then reads ~1.0 and cannot steer early stopping.

    A class with a single training unit keeps it for training and gets pixel-level validation inside it
    (stated in the note). Validation pixels within `radius` of a training pixel (inside a training patch)
    are dropped, as for test. `kind` names the units in the note ('blocks', 'polygon clusters', ...).
    Returns (train, val, note)."""
    sel = train & (units > 0)
    cls_idx = np.searchsorted(np.asarray(classes), labels[sel])
    uniq, inv, m = unit_matrix(units[sel], cls_idx, len(classes))
    in_val = assign_units(m, frac, rng)
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
        near = dilate(new_train, radius) & val
        dropped = int(near.sum())
        val &= ~near
    fallback = [classes[j] for j in single]
    if fallback:
        mask = np.isin(labels, fallback) & new_train
        t2, v2 = take_val(labels, mask, fallback, frac, rng)
        val |= v2
        new_train = (new_train & ~mask) | t2
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


def check_validation(train, val, units, labels, classes, proto, warnings, notes, name=str, *, min_pixels: int,
                     min_units: int):
    """The fallback for a validation set too small to decide (`min_pixels`, `min_units` per class: MIN_VAL_PIXELS,
    MIN_VAL_UNITS): its pixels go back to training and every stage trains its full epochs, keeping the last
    (core/training/trainer.py); said in the warnings, which the CLI, the report's top and the QGIS message bar show.
    `units`: the unit map validation was taken in whole units from (None: pixel by pixel, each pixel its own unit).
    Returns (train, val)."""
    n_val = int(val.sum())
    by_units = units is not None
    short = []
    for c in classes:
        m = val & (labels == c)
        n_units = int(np.unique(units[m]).size) if by_units else int(m.sum())
        if m.sum() < min_pixels or n_units < min_units:
            short.append({"class": int(c), "pixels": int(m.sum()), "units": n_units})
    total_units = proto.get("validation", {}).get("units") if by_units else None
    check = {"pixels": n_val, "units": total_units, "min_pixels": min_pixels,
             "min_units": min_units if by_units else None, "per_class": True, "short_classes": short}
    check["adequate"] = not short
    check["fallback"] = "fixed epochs" if short else None
    proto["validation_check"] = check
    if not short:
        return train, val
    worst = ", ".join(f"{name(r['class'])}: {r['pixels']}" + (f" in {r['units']} unit(s)" if by_units else "")
                      for r in short[:4]) + (f" and {len(short) - 4} more" if len(short) > 4 else "")
    need = f"{min_pixels} pixels" + (f" in {min_units} units apart from training" if by_units else "")
    text = (f"Validation too small to decide: {n_val} pixel(s) in all; {len(short)} of {len(classes)} class(es) have "
            f"fewer than {need} ({worst}). Fallback: no early stopping; every stage trains its full epochs and keeps "
            "the last, and the validation pixels train. Model choices were not validated: give independent validation "
            "polygons, or label more areas.")
    warnings.append(text)
    notes.append(text)
    if "validation" in proto:
        proto["validation"]["text"] += " " + text
    return train | val, np.zeros_like(val)


def take_val(labels, train, classes, frac, rng):
    """Move `frac` of each class's training pixels (at least one stays in train) to validation."""
    val = np.zeros(labels.size, bool)
    new_train = train.ravel().copy()
    if frac > 0:
        for c, idx in class_indices(labels, train, classes).items():
            n = idx.size
            k = min(round_half_up(n * frac), n - 1)
            if k > 0:
                pick = rng.permutation(idx)[:k]
                val[pick] = True
                new_train[pick] = False
    return new_train.reshape(labels.shape), val.reshape(labels.shape)
