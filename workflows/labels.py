"""Labels for a run from a LabelSource: label rasters, vector files or features read by QGIS; class names and
colours from a class table or a layer's style; the 'given' split map from independent validation data."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import numpy as np

from ..core.errors import LabelError
from ..core.io.grids import align_to, same_grid
from ..core.data.labels import (Labels, PolygonFeature, buffer_points, labels_from_array, labels_from_polygons,
                           read_class_table, read_qml_classes, zero_class_note)
from ..core.io.raster import RasterInfo
from .backend import IOBackend, LabelSource


@dataclass
class ClassStyle:
    """Class names and colours chosen by the user (e.g. a categorized renderer), keyed by the raw class value
    as text ("3", "corn")."""

    entries: Dict[str, tuple] = field(default_factory=dict)  # key -> (name, (r, g, b))

    def apply(self, labels: Labels) -> None:
        """Rename/recolour `labels.classes` in place: integer classes by value, text classes by name."""
        if not self.entries:
            return
        low = {k.strip().lower(): v for k, v in self.entries.items()}
        for c in labels.classes:
            hit = self.entries.get(str(c.value)) or low.get(str(c.name).strip().lower())
            if hit is None and str(c.name).startswith("Class "):
                hit = low.get(str(c.name)[6:].strip().lower())
            if hit is None:
                continue
            name, color = hit
            if name and (str(c.name) == f"Class {c.value}" or str(c.name).strip().lower() in low):
                c.name = str(name)
            if color is not None:
                c.color = tuple(int(x) for x in tuple(color)[:3])


def read_label_raster(backend: IOBackend, path: str, info: Optional[RasterInfo] = None) -> Labels:
    """Labels from a label raster (0 and nodata = unlabelled) on the grid of `info` when given; a warning when
    the raster's nodata is another value and zeros are left out (core/data/labels.zero_class_note)."""
    arr, nodata = read_on_grid(backend, path, info, f"label raster {path}", note_zeros=True)
    names, colors = backend.read_class_metadata(path)
    return labels_from_array(arr, names, colors, nodata=nodata, source=os.fspath(path))


def read_on_grid(backend: IOBackend, path: str, info: Optional[RasterInfo], what: str, note_zeros: bool = False):
    """(band 1 of `path` on the grid of `info` (core/io/grids.align_to: by position, not pixel count), its nodata).
    `note_zeros`: warn about zeros beside another nodata value, counted before any resampling adds zeros."""
    r = backend.open_raster(path)
    try:
        arr = r.read(None, [0])[:, :, 0]
        src, nodata = r.info, r.info.nodata
    finally:
        r.close()
    note = zero_class_note(arr, nodata, what) if note_zeros else None
    if note:
        warnings.warn(note)
    if info is not None:
        if nodata is not None and np.isfinite(nodata) and not same_grid(src, info):
            arr = np.where(arr == nodata, 0, arr)  # resampling fills with 0, so nodata must read as 0 too
        arr = align_to(arr, src, info, what, getattr(backend, "same_crs", None))  # the backend's CRS equivalence
    return arr, nodata


def features_of(backend: IOBackend, src: LabelSource, info: RasterInfo) -> list:
    """The source's features in the raster's CRS, points grown by the source's point buffer."""
    if src.features is not None:
        feats = list(src.features)
    elif not src.class_field:
        raise LabelError(f"{src.name}: polygons need a class field (the attribute holding the class)")
    else:
        feats = backend.read_polygons(src.path, src.class_field, info.crs_wkt, layer=src.layer)
    return buffer_points(feats, info, src.point_buffer, src.point_buffer_unit) if src.point_buffer else feats


def labels_from_source(backend: IOBackend, src: LabelSource, info: RasterInfo,
                       names: Optional[dict] = None) -> Labels:
    """Labels on the grid of `info`. `names` (value -> name, e.g. a class map's) turns text classes of
    reference polygons into those values."""
    if src.kind == "raster":
        if not src.path:
            raise LabelError("No labels given: a label raster or polygons with a class field are needed")
        labels = read_label_raster(backend, src.path, info)
    else:
        feats = features_of(backend, src, info)
        if names:
            feats = features_to_class_values(feats, names, src.name or "reference polygons")
        labels = labels_from_polygons(feats, info, backend.rasterize, source=src.name)
    apply_class_table(labels, src.class_table)
    return labels


def apply_class_table(labels: Labels, path: Optional[str]) -> None:
    """Names and colours from a JSON class table, or a QGIS style file (.qml) matched by value or class name."""
    if not path:
        return
    if str(path).lower().endswith(".qml"):
        ClassStyle(read_qml_classes(path)).apply(labels)
        return
    table = {c.value: c for c in read_class_table(path)}
    for c in labels.classes:
        if c.value in table:
            c.name, c.color = table[c.value].name, table[c.value].color


def training_labels(backend: IOBackend, src: LabelSource, info: RasterInfo, validation: Optional[LabelSource] = None,
                    split_map: Optional[str] = None, style: Optional[ClassStyle] = None) -> Tuple[Labels, Optional[np.ndarray]]:
    """(Labels, given split map or None). Independent validation polygons test and the training polygons train
    (split 'given'); a split-map raster (1 = train, 2 = test) does the same for any labels."""
    given = None
    if validation is not None:
        if src.kind == "raster" or validation.kind == "raster":
            raise LabelError("independent validation data must be polygons, like the training data")
        train = features_of(backend, src, info)
        if not train:
            raise LabelError(f"No training polygons in {src.name}: draw some in the training layer first")
        val = features_of(backend, validation, info)
        labels = labels_from_polygons(train + val, info, backend.rasterize, source=src.name)
        pid = labels.polygon_ids
        given = np.where(pid > 0, np.where(pid <= len(train), 1, 2), 0).astype(np.uint8)
        given[labels.array == 0] = 0
        if not (given == 1).any():
            raise LabelError("No training pixels left: every training polygon is covered by validation "
                             "polygons or lies outside the raster")
        if not (given == 2).any():
            raise LabelError("The validation polygons cover no pixel of the raster (check that they overlap "
                             "it); leave them out to use a split of the training polygons instead")
        apply_class_table(labels, src.class_table)
    else:
        if src.kind == "features" and not src.features:
            raise LabelError("No training polygons: draw some in the training layer first")
        labels = labels_from_source(backend, src, info)
    if split_map:
        given, _ = read_on_grid(backend, split_map, info, f"split map {split_map}")
    if style is not None:
        style.apply(labels)
    return labels, given


def features_to_class_values(features: list, names: Dict[int, str], where: str) -> list:
    """Reference polygons whose class field holds text are matched to a class map's class names."""
    texts = [f.value for f in features if isinstance(f.value, str) and f.value.strip()
             and not f.value.strip().lstrip("-").isdigit()]
    if not texts:
        return features
    lut = {str(n).strip().lower(): int(v) for v, n in names.items() if int(v) > 0}
    unknown = sorted({t for t in texts if t.strip().lower() not in lut})
    if unknown:
        raise LabelError(f"{where}: class name(s) {unknown[:10]} are not among the class map's classes "
                         f"({', '.join(f'{v}: {n}' for v, n in sorted(names.items()) if v > 0) or 'none named'}); "
                         f"use a class field with the numeric class values")
    return [PolygonFeature(f.geometry, lut[f.value.strip().lower()] if isinstance(f.value, str) and
                           f.value.strip().lower() in lut else f.value, f.fid) for f in features]
