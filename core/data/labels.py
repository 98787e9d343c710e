"""Training/reference labels: a class raster plus the class table (value, name, colour).

Labels come from a label raster (`labels_from_array`) or from polygons (`labels_from_polygons`); both
end up as the same `Labels` so splitting, training and reporting never care where they came from.
Pure numpy: the polygon reader and rasterizer are passed in by the caller (rasterio or GDAL).
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..config.schema import POINT_BUFFER_UNITS
from ..report.palette import class_colors, default_colors
from ..errors import LabelError
from ..io.raster import RasterInfo


@dataclass
class ClassInfo:
    value: int            # class id written in maps (>= 1)
    name: str
    color: tuple          # (r, g, b) 0..255


@dataclass
class Labels:
    array: np.ndarray     # (H, W) int32 class values, 0 = unlabelled
    classes: list         # [ClassInfo], sorted by value, only classes present
    polygon_ids: Optional[np.ndarray] = None   # (H, W) int32, 0 = none; the polygon each pixel came from
    source: str = ""

    def class_table(self) -> List[dict]:
        """[{value, name, color}] for JSON (model files, reports, class tables)."""
        return [{"value": int(c.value), "name": str(c.name), "color": [int(x) for x in c.color]}
                for c in self.classes]


@dataclass
class PolygonFeature:
    """One training polygon as read by a vector reader (rasterio/fiona on the CLI, OGR in QGIS)."""

    geometry: dict        # GeoJSON geometry in the raster's CRS
    value: object         # raw class value: int, str or None
    fid: object = None    # the feature id in the source layer (for messages)


def checked_polygons(features: List[PolygonFeature], null_geometries: int, field: str, where: str) -> List[PolygonFeature]:
    """What every vector reader checks once its features are read (written once here, for both backends):
    features without geometry are counted in a warning, no feature with a geometry or a class field empty in every
    feature is a LabelError naming the file and the field."""
    if null_geometries:
        warnings.warn(f"{where}: {null_geometries} feature(s) without geometry were skipped")
    if not features:
        raise LabelError(f"Training vector {where} has no feature with a geometry")
    if all(f.value is None or (isinstance(f.value, str) and not f.value.strip()) for f in features):
        raise LabelError(f"Class field {field!r} of {where} is empty (null) in every feature")
    return features


def no_crs_warning(where: str, vector_has_crs: bool, raster_has_crs: bool) -> None:
    """The warning both vector readers give when either side has no CRS (the coordinates are then taken as is)."""
    if not vector_has_crs or not raster_has_crs:
        warnings.warn(f"{where}: {'the vector' if not vector_has_crs else 'the raster'} has no CRS; assuming the "
                      f"polygons and the raster use the same coordinates")


# Hand-picked distinct colours first (Kelly/Tableau-like, no black: black reads as "no data").
def _color_for(value: int, colors: Optional[dict], palette: dict) -> tuple:
    if colors:
        c = colors.get(value, colors.get(str(value)))
        if c is not None:
            return _parse_color(c, f"class {value}")
    return palette[value]


def _parse_color(c, where: str) -> tuple:
    """(r, g, b), [r, g, b, a] or '#rrggbb' -> (r, g, b)."""
    try:
        if isinstance(c, str):
            s = c.strip().lstrip("#")
            if len(s) not in (6, 8):
                raise ValueError(c)
            return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))
        t = tuple(int(x) for x in c)[:3]
        if len(t) != 3 or not all(0 <= x <= 255 for x in t):
            raise ValueError(c)
        return t
    except (TypeError, ValueError):
        raise LabelError(f"Colour for {where} is not understood: {c!r} (use [r, g, b] 0..255 or '#rrggbb')") from None


def _lookup(d: Optional[dict], value: int):
    if not d:
        return None
    return d.get(value, d.get(str(value)))


def labels_from_array(array: np.ndarray, names: Optional[dict] = None, colors: Optional[dict] = None,
                      nodata=None, source: str = "") -> Labels:
    """Labels from a label raster: 0 and `nodata` (and NaN) are unlabelled, other values are classes.

    `names`/`colors` map class value (int or its string) to a name / (r, g, b); missing ones get
    "Class <value>" and the default palette entry for that value.
    """
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    where = f"label raster {source}" if source else "label raster"
    if a.ndim != 2:
        raise LabelError(f"{where} must have one band, got an array of shape {a.shape}")
    unl = np.zeros(a.shape, bool)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        unl |= a == nodata
    if a.dtype.kind == "f":
        unl |= ~np.isfinite(a)
        vals = np.where(unl, 0, a)
        frac = vals != np.round(vals)
        if frac.any():
            r, c = np.argwhere(frac)[0]
            raise LabelError(f"{where} holds a non-integer class value {a[r, c]!r} at row {r}, col {c}: "
                             f"class values must be whole numbers")
        a = vals
    elif a.dtype.kind not in "iub":
        raise LabelError(f"{where} has data type {a.dtype}, which cannot hold class values")
    out = np.where(unl, 0, a).astype(np.int64)
    neg = out < 0
    if neg.any():
        raise LabelError(f"{where} holds negative value(s) {sorted(set(out[neg].tolist()))[:5]}: class values "
                         f"must be >= 1 (0 = unlabelled); set the raster's nodata if these mark no data")
    if out.max(initial=0) > np.iinfo(np.int32).max:
        raise LabelError(f"{where} holds class values too large for int32")
    out = out.astype(np.int32)
    present = [int(v) for v in np.unique(out) if v != 0]
    if not present:
        raise LabelError(f"{where} has no labelled pixels (every pixel is 0 or nodata)")
    named = {v: str(_lookup(names, v) or f"Class {v}") for v in present}
    palette = class_colors(named.items())  # land-cover meanings of the names where clear (core/report/palette.py)
    classes = [ClassInfo(v, named[v], _color_for(v, colors, palette))
               for v in present]
    return Labels(array=out, classes=classes, source=source)


def zero_class_note(array: np.ndarray, nodata, where: str) -> Optional[str]:
    """The warning for a label raster that declares another nodata value and still holds zeros: those pixels
    are probably a class 0, which HyperSNN cannot keep (0 is unlabelled here, and the class maps' nodata), so
    they are left out, but not silently. None when there is nothing to say."""
    if nodata is None or not np.isfinite(nodata) or nodata == 0:
        return None
    n = int(np.count_nonzero(np.asarray(array) == 0))
    if not n:
        return None
    top = np.asarray(array)[np.asarray(array) != nodata]
    free = int(np.nanmax(top)) + 1 if top.size else 1
    return (f"{where}: its nodata value is {nodata:g}, but {n} pixel(s) hold 0, and 0 means unlabelled in HyperSNN "
            f"(class values start at 1), so these pixels are left out. If 0 is a class, give it another value "
            f"(e.g. {free}) in the raster; if 0 marks unlabelled pixels, nothing needs to change")


def _normalize_value(v, fid):
    """Integers (and whole floats, integer-looking text) -> int; other text -> stripped str; blanks -> None."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return None
        if float(v).is_integer():
            return int(v)
        raise LabelError(f"Feature {fid}: class value {v!r} is not a whole number; use an integer or text class field")
    s = str(v).strip()
    if not s:
        return None
    try:
        return int(s)
    except ValueError:
        return s


def _coords(geom: dict):
    if geom.get("type") == "GeometryCollection":
        for g in geom.get("geometries", []):
            yield from _coords(g)
        return
    stack = [geom.get("coordinates", [])]
    while stack:
        c = stack.pop()
        if len(c) and isinstance(c[0], (int, float, np.floating, np.integer)):
            yield float(c[0]), float(c[1])
        else:
            stack.extend(c)


def _to_pixel(info: RasterInfo, x: float, y: float) -> Tuple[float, float]:
    """(col, row) as real numbers: the inverse of the geotransform."""
    x0, dx, rx, y0, ry, dy = info.transform
    det = dx * dy - rx * ry
    if det == 0:
        raise LabelError(f"Raster {info.path} has a degenerate geotransform {info.transform}")
    u, v = x - x0, y - y0
    return (dy * u - rx * v) / det, (-ry * u + dx * v) / det


def _to_map(info: RasterInfo, col: float, row: float) -> Tuple[float, float]:
    x0, dx, rx, y0, ry, dy = info.transform
    return x0 + col * dx + row * rx, y0 + col * ry + row * dy


def buffer_points(features: Sequence[PolygonFeature], info: RasterInfo, buffer: float,
                  unit: str = "pixels") -> List[PolygonFeature]:
    """Points (and multi-points) grown into areas that label more than one pixel; other geometries unchanged.

    `pixels`: a point labels the (2n + 1) x (2n + 1) pixels centred on the pixel it falls in (n = `buffer`,
    rounded). `map units`: the pixels whose centres lie within `buffer` of the point (a 64-sided polygon),
    and always the pixel it falls in. Why: a field point stands for the patch around it, and single pixels
    give a network too few samples to learn a class from.
    """
    if unit not in POINT_BUFFER_UNITS:
        raise LabelError(f"Point buffer unit {unit!r} is unknown; use one of {', '.join(POINT_BUFFER_UNITS)}")
    if not (isinstance(buffer, (int, float)) and math.isfinite(buffer) and buffer >= 0):
        raise LabelError(f"The point buffer must be a non-negative number, got {buffer!r}")
    if buffer == 0:
        return list(features)

    def square(col0, row0, col1, row1):
        ring = [_to_map(info, c, r) for c, r in ((col0, row0), (col1, row0), (col1, row1), (col0, row1), (col0, row0))]
        return [ring]

    def grow(pt):
        c, r = _to_pixel(info, float(pt[0]), float(pt[1]))
        c, r = math.floor(c), math.floor(r)
        if unit == "pixels":
            n = int(round(buffer))
            return [square(c - n, r - n, c + n + 1, r + n + 1)]
        ang = np.linspace(0, 2 * np.pi, 65)
        circle = [(float(pt[0] + buffer * np.cos(a)), float(pt[1] + buffer * np.sin(a))) for a in ang]
        return [square(c, r, c + 1, r + 1), [circle]]

    out = []
    for f in features:
        g = f.geometry or {}
        if g.get("type") == "Point":
            parts = grow(g["coordinates"])
        elif g.get("type") == "MultiPoint":
            parts = [p for pt in g["coordinates"] for p in grow(pt)]
        else:
            out.append(f)
            continue
        out.append(PolygonFeature({"type": "MultiPolygon", "coordinates": parts}, f.value, f.fid))
    return out


def _pixel_bbox(geom: dict, info: RasterInfo):
    """Pixel window (r0, c0, r1, c1), clipped to the grid, holding the geometry; None when outside."""
    x0, dx, rx, y0, ry, dy = info.transform
    det = dx * dy - rx * ry
    if det == 0:
        raise LabelError(f"Raster {info.path} has a degenerate geotransform {info.transform}")
    pts = np.array(list(_coords(geom)), dtype=float)
    if pts.size == 0:
        return None
    u, v = pts[:, 0] - x0, pts[:, 1] - y0
    cols = (dy * u - rx * v) / det
    rows = (-ry * u + dx * v) / det
    c0, c1 = int(math.floor(cols.min())), int(math.ceil(cols.max()))
    r0, r1 = int(math.floor(rows.min())), int(math.ceil(rows.max()))
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(c1 + 1, info.width), min(r1 + 1, info.height)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, c0, r1, c1


def _sub_info(info: RasterInfo, r0: int, c0: int, r1: int, c1: int) -> RasterInfo:
    x0, dx, rx, y0, ry, dy = info.transform
    t = (x0 + c0 * dx + r0 * rx, dx, rx, y0 + c0 * ry + r0 * dy, ry, dy)
    return replace(info, width=c1 - c0, height=r1 - r0, transform=t, count=1, band_names=["mask"],
                   wavelengths=None, fwhm=None, bad_bands=None, scales=None, offsets=None)


def _ids(fids: Sequence, limit: int = 20) -> str:
    s = ", ".join(str(f) for f in fids[:limit])
    return s + (f", ... ({len(fids)} in all)" if len(fids) > limit else "")


def labels_from_polygons(features: Sequence[PolygonFeature], info: RasterInfo,
                         rasterize: Callable[[list, RasterInfo], np.ndarray], source: str = "") -> Labels:
    """Burn training polygons onto the raster grid (pixel centres inside a polygon, all_touched=False).

    Class values: integer values (also whole floats and integer-looking text such as "3") are kept as
    class values (must be >= 1); other text values become 1..K in sorted order with the text as class
    name; a layer mixing both is refused. Null/blank values are skipped with a warning.

    Overlap rule: a pixel covered by polygons of *different* classes is ambiguous, so it is dropped
    (left unlabelled) and counted in a warning; overlapping polygons of the *same* class keep the class
    (the pixel's polygon id is the later feature's).

    `polygon_ids[r, c]` = k means the pixel came from `features[k - 1]` (positions, not source fids,
    because source fids may start at 0). `rasterize(shapes, info)` burns [(geometry, int)] on
    `info`'s grid; it is called once per feature on the feature's bounding window only.
    """
    where = source or "training polygons"
    vals = []
    nulls = 0
    for f in features:
        v = _normalize_value(f.value, f.fid)
        if v is None:
            nulls += 1
        vals.append(v)
    kinds = {type(v) for v in vals if v is not None}
    if not kinds:
        raise LabelError(f"{where}: every feature has an empty class value; nothing to train on")
    if kinds == {int, str}:
        ex_i = next(v for v in vals if isinstance(v, int))
        ex_s = next(v for v in vals if isinstance(v, str))
        raise LabelError(f"{where}: the class field mixes numbers ({ex_i!r}) and text ({ex_s!r}); "
                         f"use one or the other")
    names: Dict[int, str] = {}
    if kinds == {str}:
        texts = sorted({v for v in vals if v is not None})
        code = {t: i + 1 for i, t in enumerate(texts)}
        names = {i: t for t, i in code.items()}
        cls = [None if v is None else code[v] for v in vals]
    else:
        for f, v in zip(features, vals):
            if v is not None and v < 1:
                raise LabelError(f"{where}: feature {f.fid} has class value {v}; integer class values must be "
                                 f">= 1 (0 means unlabelled)")
            if v is not None and v > np.iinfo(np.int32).max:
                raise LabelError(f"{where}: feature {f.fid} has class value {v}, too large")
        cls = vals
    if nulls:
        warnings.warn(f"{where}: {nulls} feature(s) with an empty class value were skipped")

    H, W = info.height, info.width
    lab = np.zeros((H, W), np.int32)
    pid = np.zeros((H, W), np.int32)
    conflict = np.zeros((H, W), bool)
    outside, too_small = [], []
    for k, (f, c) in enumerate(zip(features, cls), start=1):
        if c is None or not f.geometry:
            continue
        box = _pixel_bbox(f.geometry, info)
        if box is None:
            outside.append(f.fid)
            continue
        r0, c0, r1, c1 = box
        burnt = np.asarray(rasterize([(f.geometry, 1)], _sub_info(info, r0, c0, r1, c1))) > 0
        if not burnt.any():
            too_small.append(f.fid)
            continue
        lv, pv = lab[r0:r1, c0:c1], pid[r0:r1, c0:c1]
        conflict[r0:r1, c0:c1] |= burnt & (lv != 0) & (lv != c)
        lv[burnt] = c
        pv[burnt] = k
    if outside:
        warnings.warn(f"{where}: {len(outside)} feature(s) lie wholly outside the raster and were ignored "
                      f"(feature ids: {_ids(outside)})")
    if too_small:
        warnings.warn(f"{where}: {len(too_small)} feature(s) cover no pixel centre and were ignored "
                      f"(feature ids: {_ids(too_small)})")
    n_conf = int(conflict.sum())
    if n_conf:
        lab[conflict] = 0
        pid[conflict] = 0
        warnings.warn(f"{where}: {n_conf} pixel(s) covered by polygons of different classes were left unlabelled")
    present = [int(v) for v in np.unique(lab) if v != 0]
    if not present:
        raise LabelError(f"{where}: no polygon covers a pixel of raster {info.path or '(in memory)'}; check that "
                         f"the polygons overlap the raster and that both have the right CRS")
    palette = class_colors((v, names.get(v, f"Class {v}")) for v in present)  # names' land-cover meanings
    classes = [ClassInfo(v, names.get(v, f"Class {v}"), palette[v]) for v in present]
    return Labels(array=lab, classes=classes, polygon_ids=pid, source=source)


def write_class_table(path, classes: Sequence[ClassInfo]) -> None:
    """Save the class table as JSON: {"classes": [{value, name, color}]}."""
    rows = [json.dumps({"value": int(c.value), "name": str(c.name), "color": [int(x) for x in c.color]},
                       ensure_ascii=False) for c in sorted(classes, key=lambda c: c.value)]
    text = '{"classes": [\n  ' + ",\n  ".join(rows) + "\n]}\n"  # one class per line: easy to read and diff
    Path(path).write_text(text, encoding="utf-8")


def read_qml_classes(path) -> Dict[str, tuple]:
    """Class names and colours from a QGIS style file (.qml): a categorized vector renderer or a paletted raster
    renderer. Returns {raw class value as text: (label, (r, g, b))}. Why: analysts keep their legend in QGIS;
    the command line can read the same file (`--classes legend.qml`) without QGIS."""
    import xml.etree.ElementTree as ET

    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except FileNotFoundError:
        raise LabelError(f"Class style not found: {p}") from None
    except (OSError, ET.ParseError) as e:
        raise LabelError(f"Class style {p} is not a readable QGIS style (.qml): {e}") from None
    out: Dict[str, tuple] = {}
    for e in root.iter("paletteEntry"):  # paletted raster renderer
        out[str(e.get("value"))] = (e.get("label") or f"Class {e.get('value')}", _qml_color(e.get("color"), p))
    renderer = next((r for r in root.iter("renderer-v2") if r.get("type") == "categorizedSymbol"), None)
    if renderer is not None:
        symbols = {}
        for sym in renderer.iter("symbol"):
            color = None
            for layer in sym.iter("layer"):
                for opt in layer.iter("Option"):
                    if opt.get("name") == "color" and opt.get("value"):
                        color = color or opt.get("value")
                for prop in layer.iter("prop"):
                    if prop.get("k") == "color" and prop.get("v"):
                        color = color or prop.get("v")
                break  # the first symbol layer carries the legend colour
            symbols[sym.get("name")] = color
        for cat in renderer.iter("category"):
            value = cat.get("value")
            if value in (None, ""):
                continue  # the "all other values" category
            color = symbols.get(cat.get("symbol"))
            out[str(value)] = (cat.get("label") or str(value), _qml_color(color, p) if color else None)
    if not out:
        raise LabelError(f"Class style {p} holds no categorized or paletted classes (save the layer's style "
                         "with a Categorized symbology, or a Paletted/Unique values raster renderer)")
    return out


def _qml_color(text, where) -> Optional[tuple]:
    if not text:
        return None
    t = str(text).strip()
    if t.startswith("#"):
        return _parse_color(t[:7], f"a colour in {where}")
    try:
        r, g, b = (int(float(x)) for x in t.split(",")[:3])
    except ValueError:
        raise LabelError(f"Class style {where}: colour {t!r} is not understood") from None
    return r, g, b


def read_class_table(path) -> List[ClassInfo]:
    """Load a class table written by `write_class_table` (a bare list of entries is accepted too)."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabelError(f"Class table not found: {p}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LabelError(f"Class table {p} is not valid JSON: {e}") from None
    entries = d.get("classes") if isinstance(d, dict) else d
    if not isinstance(entries, list):
        raise LabelError(f"Class table {p} must hold a list of classes under 'classes'")
    out, seen = [], set()
    palette = None
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "value" not in e:
            raise LabelError(f"Class table {p}: entry {i + 1} needs at least a 'value'")
        try:
            v = int(e["value"])
        except (TypeError, ValueError):
            raise LabelError(f"Class table {p}: entry {i + 1} has a non-integer value {e['value']!r}") from None
        if v < 1 or v in seen:
            raise LabelError(f"Class table {p}: class value {v} is {'repeated' if v in seen else 'below 1'}")
        seen.add(v)
        if "color" in e:
            color = _parse_color(e["color"], f"class {v} in {p}")
        else:
            palette = palette or default_colors(256)
            color = palette[(v - 1) % len(palette)]
        out.append(ClassInfo(v, str(e.get("name") or f"Class {v}"), color))
    return sorted(out, key=lambda c: c.value)
