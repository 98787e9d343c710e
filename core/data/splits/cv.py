"""Split method 'cv' (map production, the default): every usable pixel trains the final model; grouped k-fold
cross-validation over spatial clusters assesses it. The folds are made in core/training/crossval.py; this module
builds the split's protocol around them.
"""
from __future__ import annotations

import numpy as np

from .common import DROP_WARN, FEW_PIXELS, Split, SplitMethod, check_int


def whole(inp, cfg, proto, warnings, notes, n_labelled_all, excluded_invalid, min_val_pixels: int) -> Split:
    """The 'cv' split: train = every usable pixel, the folds and each fold's scored pixels, and its protocol
    (`min_val_pixels`: the hold-out methods' validation minimum, recorded to say why there is no validation)."""
    from ...training.crossval import cv_split

    labels, usable, classes, name, patch_size = inp.labels, inp.usable, inp.classes, inp.name, inp.patch_size
    radius = (check_int(patch_size, "patch_size", 1) // 2) if patch_size is not None else 0
    train, folds, scored = cv_split(labels, usable, classes, inp.polygon_ids, radius, int(cfg.folds), inp.rng,
                                    warnings, proto, name)
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
        warnings.append(f"The leakage guard dropped {100 * proto['cv_dropped_share']:.0f} % of the labelled pixels "
                        "from the cross-validation folds: the accuracy rests on what is left.")
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
                 validation_check={"pixels": 0, "units": None, "min_pixels": min_val_pixels, "min_units": None,
                                   "adequate": False, "fallback": "fixed epochs (map production)"})
    empty = np.zeros(labels.shape, bool)
    return Split(train=train, val=empty, test=empty.copy(), protocol=proto, folds=folds, scored=scored)


METHOD = SplitMethod(name="cv", whole=whole)
