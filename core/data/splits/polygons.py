"""Split method 'polygons': whole polygons (`polygon_ids`) to training or test, stratified by class.

Neighbouring polygons are grouped into spatial clusters first (core/data/spatial_units.py) and move together, so the
leakage guard drops only the pixels along a few seams; validation is whole clusters of the training side's polygons.
"""
from __future__ import annotations

import numpy as np

from ...errors import SplitError
from ..spatial_units import cluster_units
from .common import SplitMethod, check_int, pct
from .units import n_target, unit_matrix, units_split


def clusters_for(labels, usable, pid, classes, radius, n_target, proto, warnings):
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


def polygons_split(labels, usable, classes, frac, polygon_ids, rng, warnings, proto, name=str, radius=0):
    """(train, test, clusters): whole clusters of polygons, about `frac` of each class's pixels to training."""
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
    _, _, m = unit_matrix(pid[usable], cls_idx, len(classes))
    n_poly = (m > 0).sum(0)
    few = [(c, int(n)) for c, n in zip(classes, n_poly) if n < 2]
    if few:
        c, n = few[0]
        raise SplitError(f"Class {name(c)} is drawn in {n} polygon(s); split method 'polygons' needs at least 2 "
                         f"per class (one for training, one for testing). Classes short of polygons: "
                         f"{', '.join(name(c) for c, _ in few)}. Draw more polygons or use method 'blocks'.")
    proto["polygons_per_class"] = {str(c): int(n) for c, n in zip(classes, n_poly)}
    # neighbouring polygons move together, so the leakage guard drops only the pixels along a few seams
    clusters = clusters_for(labels, usable, pid, classes, radius, n_target(frac, len(classes)), proto, warnings)
    train, test, _, in_train = units_split(labels, usable, classes, clusters[usable], frac, rng)
    poly_train = np.unique(pid[train])
    proto["clusters"] = int(in_train.size)
    proto["clusters_train"] = int(in_train.sum())
    proto["polygons_train"] = int(poly_train.size)
    proto["polygons_test"] = int(np.unique(pid[test]).size)
    return train, test, clusters


def _split(inp, cfg, proto, warnings):
    radius = (check_int(inp.patch_size, "patch_size", 1) // 2) if inp.patch_size is not None else 0
    train, test, _ = polygons_split(inp.labels, inp.usable, inp.classes, cfg.train_fraction, inp.polygon_ids,
                                    inp.rng, warnings, proto, inp.name, radius)
    proto["train_fraction"] = float(cfg.train_fraction)
    desc = (f"Polygon split: whole spatial clusters of neighbouring polygons ({proto['clusters']} clusters of "
            f"{proto['polygons_train'] + proto['polygons_test']} polygons) to training (about "
            f"{pct(cfg.train_fraction)} of each class's pixels) or test")
    return train, test, desc


def _validation_units(inp, cfg, train, proto):
    """Clusters of the training side's polygons, cut as finely as the guard allows."""
    pid = np.asarray(inp.polygon_ids)
    return cluster_units(np.where(train & (pid > 0), pid, 0), proto.get("guard_radius", 0),
                         n_target(cfg.val_fraction, len(inp.classes)))


METHOD = SplitMethod(
    name="polygons", split=_split, spatial=True,
    no_train_hint=lambda cfg: "draw more polygons of this class or raise train_fraction",
    no_test_hint=lambda cfg: "; draw more polygons or use a smaller train_fraction",
    validation_units=_validation_units, unit_kind="polygon clusters", unit_desc="polygon clusters")
