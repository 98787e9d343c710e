"""Spatial clusters of labelled units (polygons or label regions), so that a split moves neighbours together.

Why: a split that sends whole polygons to training or test still puts a test polygon next to a training one when
the polygons tile the ground, as a polygonised land-cover map does. The leakage guard then drops every test pixel
within the patch radius of a training pixel, and on such a layer that is most of the scene (64-72 % of the
Potsdam-west labels at patch 11). Grouping first, and splitting only at a few long seams between large compact
groups, keeps the scene: only pixels along the seams are dropped.

Two steps:
  1. units closer than the guard radius (Chebyshev) join one group: between groups the guard drops nothing;
  2. while there are fewer groups than asked for, the group with the most pixels is cut in two along the longer
     side of its extent, at the pixel-weighted median of its units' centres (units stay whole). A group is not cut
     when either half would be narrower than `MIN_WIDTH_RADII` guard radii, since the seam would then drop a large
     share of it.

`label_regions` makes units from a label raster without polygons: the connected regions of one class.
"""
from __future__ import annotations

import heapq
from typing import Optional

import numpy as np

MIN_WIDTH_RADII = 4
"""A cut must leave both halves at least this many guard radii wide (the seam drops about one radius of each)."""


def label_regions(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Ids 1..N of the 8-connected regions of equal class among `mask` pixels (0 elsewhere)."""
    from scipy import ndimage

    out = np.zeros(labels.shape, np.int64)
    n = 0
    for c in np.unique(labels[mask]):
        reg, k = ndimage.label(mask & (labels == c), structure=np.ones((3, 3), bool))
        out[reg > 0] = reg[reg > 0] + n
        n += k
    return out


def cluster_units(units: np.ndarray, radius: int, n_target: int, min_width: Optional[int] = None) -> np.ndarray:
    """Cluster ids 1..G per pixel (0 where `units` is 0) that never split a unit (see the module docstring).

    `units`: (H, W) int unit ids (polygon ids, label regions), 0 = unused. `radius`: the leakage guard radius in
    pixels. `n_target`: how many clusters to aim for (fewer when the units cannot be cut further).
    """
    from scipy import ndimage

    units = np.asarray(units)
    used = units > 0
    out = np.zeros(units.shape, np.int64)
    if not used.any():
        return out
    uid, inv = np.unique(units[used], return_inverse=True)
    rows, cols = np.nonzero(used)
    # 1. groups whose pixels lie within `radius` of each other: dilate by h with 2h + 1 >= radius
    h = max(0, int(radius) // 2)
    grown = ndimage.maximum_filter(used.astype(np.uint8), size=2 * h + 1) > 0 if h else used
    comp, _ = ndimage.label(grown, structure=np.ones((3, 3), bool))
    pix_comp = comp[rows, cols]
    n_units = uid.size
    size = np.bincount(inv, minlength=n_units).astype(np.float64)
    r_c = np.bincount(inv, rows, n_units) / size
    c_c = np.bincount(inv, cols, n_units) / size
    # union units whose pixels fall in several components (a polygon drawn in parts): keep them whole
    groups = _merge_split_units(inv, pix_comp, n_units)
    rmin = np.full(n_units, np.inf)
    rmax = np.full(n_units, -np.inf)
    cmin, cmax = rmin.copy(), rmax.copy()
    np.minimum.at(rmin, inv, rows)
    np.maximum.at(rmax, inv, rows)
    np.minimum.at(cmin, inv, cols)
    np.maximum.at(cmax, inv, cols)
    width = int(min_width if min_width is not None else MIN_WIDTH_RADII * max(int(radius), 1))

    def entry(members):
        ext_r = rmax[members].max() - rmin[members].min() + 1
        ext_c = cmax[members].max() - cmin[members].min() + 1
        return (-float(size[members].sum()), int(members.min()), members, float(ext_r), float(ext_c))

    heap = [entry(m) for m in groups]
    heapq.heapify(heap)
    final = []
    while heap and len(heap) + len(final) < n_target:
        neg, key, members, ext_r, ext_c = heapq.heappop(heap)
        halves = _bisect(members, r_c, c_c, size, ext_r >= ext_c, width, max(ext_r, ext_c))
        if halves is None:
            final.append(members)
            continue
        for hm in halves:
            heapq.heappush(heap, entry(hm))
    final += [e[2] for e in heap]
    final.sort(key=lambda m: (r_c[m].min(), c_c[m].min(), int(m.min())))  # ids in reading order: deterministic
    unit_cluster = np.zeros(n_units, np.int64)
    for g, members in enumerate(final, 1):
        unit_cluster[members] = g
    out[used] = unit_cluster[inv]
    return out


def _merge_split_units(inv, pix_comp, n_units):
    """Unit index arrays per group: units sharing a component are one group, and so are components sharing a unit."""
    parent = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for u, c in set(zip(inv.tolist(), pix_comp.tolist())):
        a, b = find(("u", u)), find(("c", c))
        if a != b:
            parent[a] = b
    by_root = {}
    for u in range(n_units):
        by_root.setdefault(find(("u", u)), []).append(u)
    return [np.asarray(v, np.int64) for v in by_root.values()]


def _bisect(members, r_c, c_c, size, along_rows, width, extent):
    """Two halves of `members` cut across the longer side at the weighted median centre, or None."""
    if members.size < 2 or extent < 2 * width:
        return None
    pos = r_c[members] if along_rows else c_c[members]
    order = np.argsort(pos, kind="stable")
    w = np.cumsum(size[members][order])
    k = int(np.searchsorted(w, w[-1] / 2.0))
    k = min(max(k, 0), members.size - 2)
    cut = pos[order][k]
    left = members[pos <= cut]
    right = members[pos > cut]
    if not left.size or not right.size:
        return None
    lo, hi = pos.min(), pos.max()
    if cut - lo < width / 2 or hi - cut < width / 2:  # a sliver: the seam would eat it
        return None
    return left, right


def seam_drops(clusters: np.ndarray, side: np.ndarray, radius: int) -> np.ndarray:
    """Pixels of clusters with `side` False within `radius` of a pixel of a cluster with `side` True.

    `side`: bool per cluster id (index 0 unused). What the leakage guard would drop from the False side."""
    from scipy import ndimage

    ids = np.asarray(clusters)
    on = side[ids] & (ids > 0)
    off = ~side[ids] & (ids > 0)
    if radius <= 0:
        return np.zeros(ids.shape, bool)
    near = ndimage.maximum_filter(on.astype(np.uint8), size=2 * int(radius) + 1, mode="constant", cval=0) > 0
    return off & near
