"""What the Train dialog knows about training data before a run starts (QGIS layers, no widgets): which field
holds the classes, whether a field is really a feature id, the class table beside the data, label rasters, and
whether the labels touch the raster at all. Why here: a wrong guess or a mismatch caught in the dialog is a
line of text; caught by the task, it is a failed run."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

from qgis.core import (
    Qgis,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsPalettedRasterRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)

from .qgis_compat import field_type

ID_NAMES = {"fid", "id", "ogc_fid", "objectid", "object_id", "gid", "pk", "uid", "uuid", "oid", "rowid", "fid_1",
            "featureid", "feature_id", "polygon_id", "poly_id", "name"}
"""Field names that identify features, not classes."""
CLASS_HINTS = ("class_id", "classid", "class", "klass", "landcover", "land_cover", "lc", "level", "type", "label",
               "category", "cover", "class_name", "classname", "lulc", "code")
"""Field names that usually hold classes, best first."""
MANY = 10
"""Below this many features, one value per feature is plausible (one polygon per class)."""
INTEGER_TYPES = {Qgis.DataType.Byte, Qgis.DataType.UInt16, Qgis.DataType.Int16, Qgis.DataType.UInt32,
                 Qgis.DataType.Int32}


def field_values(layer: QgsVectorLayer, field: str, limit: int = 100000) -> list:
    """The distinct non-empty values of `field`."""
    idx = layer.fields().indexOf(field)
    if idx < 0:
        return []
    return [v for v in layer.uniqueValues(idx, limit) if v is not None and str(v) not in ("", "NULL")
            and not (hasattr(v, "isNull") and v.isNull())]


def looks_like_ids(layer: QgsVectorLayer, field: str, n_values: Optional[int] = None) -> bool:
    """True for a field holding (nearly) one value per feature: a feature id or name, never a class."""
    n = layer.featureCount()
    u = len(field_values(layer, field)) if n_values is None else n_values
    idx = layer.fields().indexOf(field)
    if n >= MANY and u >= 0.9 * n:
        return True
    return n >= 2 and u == n and (field.lower() in ID_NAMES or idx in layer.primaryKeyAttributes())


def _renderer_field(layer) -> str:
    r = layer.renderer()
    if isinstance(r, QgsCategorizedSymbolRenderer):
        attr = r.classAttribute().strip().strip('"')
        return next((f.name() for f in layer.fields() if f.name().lower() == attr.lower()), "")
    return ""


def guess_class_field(layer: QgsVectorLayer, remembered: str = "") -> str:
    """The field that most looks like classes: the categorized style's field, the remembered one, else the
    best score of name hints and few distinct values; never a feature id while another field exists."""
    if layer is None:
        return ""
    names = [f.name() for f in layer.fields() if f.isNumeric() or f.type() == field_type("String")]
    if not names:
        return ""
    n = max(layer.featureCount(), 1)
    counts = {name: len(field_values(layer, name)) for name in names}

    def usable(name):
        return counts[name] >= 2 and not looks_like_ids(layer, name, counts[name]) and name.lower() not in ID_NAMES

    styled = _renderer_field(layer)
    if styled in names and usable(styled):
        return styled
    keep = next((f for f in names if f.lower() == str(remembered or "").lower()), "")
    if keep and usable(keep):
        return keep

    def score(name):
        low = name.lower()
        s = 0.0
        if not usable(name):
            s -= 50
        if low in CLASS_HINTS:
            s += 20 - CLASS_HINTS.index(low) * 0.5
        elif any(h in low for h in CLASS_HINTS if len(h) > 2):
            s += 10
        s += 5 * (1 - counts[name] / n)
        if low.endswith("id") and low not in CLASS_HINTS:
            s -= 1  # "level_3_id" beside "level_3": the text field brings the class names along
        if layer.fields().field(name).type() == field_type("String"):
            s += 0.5
        return s

    return max(names, key=score)


def id_field_warning(layer: QgsVectorLayer, field: str) -> str:
    """A warning when `field` holds nearly one value per feature (it names features, not classes)."""
    if layer is None or not field or layer.fields().indexOf(field) < 0:
        return ""
    u, n = len(field_values(layer, field)), layer.featureCount()
    if not looks_like_ids(layer, field, u):
        return ""
    return (f"Field {field!r} has {u} different values in {n} features: nearly one class per feature, so it looks "
            f"like a feature id or name, not a class. Choose the field that holds the classes.")


def class_table_beside(path: str) -> str:
    """A class table beside the training data, as the command line's --classes would name it: <stem>_classes.json,
    classes.json, or (for a label raster) the raster's QGIS style <stem>.qml."""
    if not path:
        return ""
    p = Path(path.split("|")[0])
    if not p.parent.is_dir():
        return ""
    for cand in (p.with_name(p.stem + "_classes.json"), p.with_name("classes.json"), p.with_suffix(".qml")):
        if cand.is_file():
            return str(cand)
    return ""


def label_raster_problem(layer: QgsRasterLayer) -> str:
    """Why a raster layer cannot be a label raster (one integer band), or ''."""
    if layer.bandCount() != 1:
        return (f"Layer {layer.name()!r} has {layer.bandCount()} bands: a label raster has one band of integer "
                f"class values (0 or nodata = unlabelled)")
    dtype = layer.dataProvider().dataType(1)
    if dtype not in INTEGER_TYPES:
        return (f"Layer {layer.name()!r} holds {_type_name(dtype)} values: a label raster holds integer class values "
                f"(0 or nodata = unlabelled)")
    return ""


def _type_name(dtype) -> str:
    return str(dtype).split(".")[-1].replace("Float32", "real (Float32)").replace("Float64", "real (Float64)")


def label_raster_values(path: str) -> List[int]:
    """The class values (> 0, not nodata) of a label raster's band 1."""
    import numpy as np

    from .io_gdal import open_raster

    r = open_raster(path)
    try:
        arr = r.read(None, [0])[:, :, 0]
        nodata = r.info.nodata
    finally:
        r.close()
    vals = np.unique(arr)
    return [int(v) for v in vals if v > 0 and (nodata is None or v != nodata)]


def raster_class_style(layer) -> dict:
    """{value as text: (label, (r, g, b))} from a paletted (unique values) raster renderer, else {}."""
    r = layer.renderer() if isinstance(layer, QgsRasterLayer) else None
    if not isinstance(r, QgsPalettedRasterRenderer):
        return {}
    out = {}
    for c in r.classes():
        label = c.label or str(int(c.value))
        if ":" in label and label.split(":", 1)[0].strip() == str(int(c.value)):
            label = label.split(":", 1)[1].strip()  # "3: water" as HyperSNN styles its own maps
        out[str(int(c.value))] = (label, (c.color.red(), c.color.green(), c.color.blue()))
    return out


def outside_raster(layer, raster_layer, what: str = "training data") -> str:
    """A message when no feature (or no pixel) of `layer` overlaps `raster_layer`, else ''."""
    if layer is None or raster_layer is None:
        return ""
    ctx = QgsProject.instance().transformContext()
    try:
        rect = QgsCoordinateTransform(raster_layer.crs(), layer.crs(), ctx).transformBoundingBox(raster_layer.extent())
    except Exception:  # noqa: BLE001 - a CRS that cannot be transformed: the run says why
        return ""
    if isinstance(layer, QgsVectorLayer):
        req = QgsFeatureRequest().setFilterRect(rect).setNoAttributes().setLimit(1)
        hit = any(f.hasGeometry() and f.geometry().boundingBox().intersects(rect) for f in layer.getFeatures(req))
    else:
        hit = layer.extent().intersects(rect)
    if hit:
        return ""
    return (f"The {what} {layer.name()!r} lies entirely outside raster {raster_layer.name()!r}: no "
            f"{'feature' if isinstance(layer, QgsVectorLayer) else 'pixel'} overlaps it. Check that both cover the "
            f"same area and that both layers have the right CRS ({layer.crs().authid() or 'unknown'} and "
            f"{raster_layer.crs().authid() or 'unknown'}).")


def data_path(layer) -> str:
    """The file behind a layer (without '|layername=...'), or ''."""
    if layer is None:
        return ""
    src = layer.source().split("|")[0]
    return src if os.path.exists(src) else ""
