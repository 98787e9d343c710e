"""Split method 'auto': 'polygons' when the labels come from polygons and every class has at least 2 of them, else
'random', with a warning. Map producers validate on pixels from other polygons: a random pixel split of polygon data
puts neighbours of one polygon on both sides and flatters the accuracy, so 'auto' says when it has to do that.
"""
from __future__ import annotations

import numpy as np

from .common import SplitMethod


def choose(inp, warnings) -> str:
    """'polygons' for polygon labels with at least 2 polygons in every class, else 'random' (see module docstring)."""
    labels, usable, name = inp.labels, inp.usable, inp.name
    pid = None if inp.polygon_ids is None else np.asarray(inp.polygon_ids)
    if pid is None or pid.shape != labels.shape or not (usable & (pid > 0)).any():
        # said, never silent: the user asked for 'auto' and gets a split whose accuracy is optimistic
        warnings.append("Split 'auto': the labels have no polygons (a label raster or points), so a random pixel "
                        "split was used instead of a polygon split. Its accuracy is optimistic (neighbouring pixels "
                        "fall on both sides): choose 'blocks' for a spatially disjoint estimate, or 'cv' (map "
                        "production).")
        return "random"
    few = []
    for c in inp.classes:
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


METHOD = SplitMethod(name="auto", choose=choose)
