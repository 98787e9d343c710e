"""Map layers for HyperSNN outputs, training layers, and the report viewer (main thread only)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, List, Optional

from qgis.core import (
    Qgis,
    QgsCategorizedSymbolRenderer,
    QgsColorRampShader,
    QgsCoordinateReferenceSystem,
    QgsDefaultValue,
    QgsEditorWidgetSetup,
    QgsField,
    QgsFields,
    QgsMapLayer,
    QgsPalettedRasterRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRendererCategory,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
    QgsSymbol,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QColor

from ..core.report.palette import class_color
from .qgis_compat import field_type

GROUP_NAME = "HyperSNN"


def _qcolor(c) -> QColor:
    if isinstance(c, QColor):
        return c
    r, g, b = (int(x) for x in tuple(c)[:3])
    return QColor(r, g, b)


def remove_layers_with_source(path: str, project: Optional[QgsProject] = None):
    """Drop layers showing `path` (a re-run replaced the file; the old layer would show stale data)."""
    project = project or QgsProject.instance()
    target = os.path.normcase(os.path.abspath(path))
    ids = [lid for lid, lyr in project.mapLayers().items()
           if os.path.normcase(os.path.abspath(lyr.source().split("|")[0])) == target]
    if ids:
        project.removeMapLayers(ids)


def _add(layer: QgsMapLayer, project: Optional[QgsProject] = None, group: bool = True):
    project = project or QgsProject.instance()
    if not group:
        project.addMapLayer(layer)
        return layer
    project.addMapLayer(layer, False)
    root = project.layerTreeRoot()
    grp = root.findGroup(GROUP_NAME) or root.insertGroup(0, GROUP_NAME)
    grp.insertLayer(0, layer)
    return layer


def paletted_renderer(layer: QgsRasterLayer, classes: Iterable[dict]) -> QgsPalettedRasterRenderer:
    """A paletted renderer with one entry per class: {value, name, color}."""
    entries = []
    for c in sorted(classes, key=lambda c: int(c["value"])):
        v = int(c["value"])
        color = c.get("color") or class_color(v)
        entries.append(QgsPalettedRasterRenderer.Class(v, _qcolor(color), f"{v}: {c.get('name') or f'Class {v}'}"))
    return QgsPalettedRasterRenderer(layer.dataProvider(), 1, entries)


def style_class_map(layer: QgsRasterLayer, classes: Iterable[dict], save_qml: bool = True) -> Optional[str]:
    layer.setRenderer(paletted_renderer(layer, classes))
    layer.triggerRepaint()
    return save_style(layer) if save_qml else None


def confidence_renderer(layer: QgsRasterLayer, ramp_name: str = "Viridis") -> QgsSingleBandPseudoColorRenderer:
    """Single-band pseudocolour, fixed 0..1 (the maximum class probability)."""
    return _ramp_renderer(layer, 0.0, 1.0, ramp_name, lambda v: f"{v:.1f}")


def energy_renderer(layer: QgsRasterLayer, ramp_name: str = "Inferno") -> QgsSingleBandPseudoColorRenderer:
    """Band 1 of an energy map (SNN pJ per pixel), stretched over the band's 2nd..98th percentile: where the SNN
    spends its energy."""
    from qgis.core import QgsRasterBandStats

    stats = layer.dataProvider().bandStatistics(1, QgsRasterBandStats.Stats.Min | QgsRasterBandStats.Stats.Max)
    lo, hi = float(stats.minimumValue), float(stats.maximumValue)
    try:  # a robust stretch when the provider can estimate percentiles
        from qgis.core import QgsRectangle
        lo, hi = layer.dataProvider().cumulativeCut(1, 0.02, 0.98, QgsRectangle(), 250000)
    except Exception:  # noqa: BLE001 - min/max then
        pass
    if not hi > lo:
        hi = lo + 1.0
    return _ramp_renderer(layer, lo, hi, ramp_name, lambda v: f"{v / 1e3:.3g} nJ")


def _ramp_renderer(layer, lo: float, hi: float, ramp_name: str, label) -> QgsSingleBandPseudoColorRenderer:
    ramp = QgsStyle.defaultStyle().colorRamp(ramp_name) or QgsStyle.defaultStyle().colorRamp("Spectral")
    items = []
    for i in range(6):
        f = i / 5
        v = lo + f * (hi - lo)
        color = ramp.color(f) if ramp is not None else QColor.fromRgbF(f, f, f)
        items.append(QgsColorRampShader.ColorRampItem(v, color, label(v)))
    fcn = QgsColorRampShader(lo, hi)
    fcn.setColorRampType(QgsColorRampShader.Type.Interpolated)
    if ramp is not None:
        fcn.setSourceColorRamp(ramp.clone())
    fcn.setColorRampItemList(items)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(fcn)
    r = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    r.setClassificationMin(lo)
    r.setClassificationMax(hi)
    return r


def style_confidence(layer: QgsRasterLayer, save_qml: bool = True) -> Optional[str]:
    layer.setRenderer(confidence_renderer(layer))
    layer.triggerRepaint()
    return save_style(layer) if save_qml else None


def style_energy(layer: QgsRasterLayer, save_qml: bool = True) -> Optional[str]:
    layer.setRenderer(energy_renderer(layer))
    layer.triggerRepaint()
    return save_style(layer) if save_qml else None


def save_style(layer: QgsMapLayer) -> Optional[str]:
    """Save the layer's style as <file>.qml beside it (QGIS loads it with the file next time)."""
    src = layer.source().split("|")[0]
    if not os.path.isfile(src):
        return None
    qml = os.path.splitext(src)[0] + ".qml"
    try:
        msg, ok = layer.saveNamedStyle(qml)
    except Exception:  # noqa: BLE001
        return None
    return qml if ok else None


LAYER_NAME_CHARS = 24
"""Longer layer names are cut in the Layers panel at its usual width."""
_MAP_KINDS = ("classes", "confidence", "energy", "probabilities")


def layer_name(path: str, limit: int = LAYER_NAME_CHARS) -> str:
    """A short layer name for an output file: its stem when short, else the start of the stem and the kind of map
    ("potsdam_west_enmap_… classes"); the full path stays the layer's source (tooltip, properties)."""
    import re

    stem = Path(path).stem
    if len(stem) <= limit:
        return stem
    m = re.search(r"_(\d+)$", stem)  # a free name's number (ui/common.free_outputs): "..._classes_2"
    number = m.group(1) if m else ""
    base = stem[:m.start()] if m else stem
    kind = next((k for k in _MAP_KINDS if base.endswith("_" + k)), "")
    head = base[:len(base) - len(kind) - 1] if kind else base
    tail = " ".join(t for t in (kind, number) if t)
    room = max(limit - len(tail) - 2, 6)
    return f"{head[:room].rstrip('_-. ')}… {tail}".rstrip()


def _add_raster(path: str, what: str, style, name: Optional[str], project: Optional[QgsProject]) -> QgsRasterLayer:
    """Add `path` as a layer (replacing layers of the same file), styled by `style(layer)` when given."""
    remove_layers_with_source(path, project)
    layer = QgsRasterLayer(path, name or layer_name(path))
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open the {what} {path}")
    if style is not None:
        style(layer)
    return _add(layer, project)


def add_class_map(path: str, classes: List[dict], name: Optional[str] = None,
                  project: Optional[QgsProject] = None) -> QgsRasterLayer:
    return _add_raster(path, "class map", lambda lyr: style_class_map(lyr, classes), name, project)


def add_confidence(path: str, name: Optional[str] = None, project: Optional[QgsProject] = None) -> QgsRasterLayer:
    return _add_raster(path, "confidence map", style_confidence, name, project)


def add_energy_map(path: str, name: Optional[str] = None, project: Optional[QgsProject] = None) -> QgsRasterLayer:
    """The energy map, styled on band 1 (SNN energy per pixel, pJ); band 2 holds the spikes per pixel."""
    return _add_raster(path, "energy map", style_energy, name, project)


def add_probabilities(path: str, name: Optional[str] = None, project: Optional[QgsProject] = None) -> QgsRasterLayer:
    return _add_raster(path, "probability raster", None, name, project)


# ------------------------------------------------------------------------------------------------
# training layers


def class_style_from_layer(layer: Optional[QgsVectorLayer], field: str) -> dict:
    """{raw value as text: (label, (r, g, b))} from a categorized renderer on `field`, else {}."""
    if layer is None or not field:
        return {}
    r = layer.renderer()
    if not isinstance(r, QgsCategorizedSymbolRenderer):
        return {}
    attr = r.classAttribute().strip().strip('"')
    if attr.lower() != field.lower():
        return {}
    out = {}
    for cat in r.categories():
        v = cat.value()
        if v is None or (hasattr(v, "isNull") and v.isNull()) or v == "":
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        sym = cat.symbol()
        color = sym.color() if sym is not None else None
        out[str(v)] = (cat.label() or str(v), (color.red(), color.green(), color.blue()) if color else None)
    return out


def categorized_renderer(field: str, classes: List[dict], geometry=QgsWkbTypes.GeometryType.PolygonGeometry):
    cats = []
    for c in classes:
        sym = QgsSymbol.defaultSymbol(geometry)
        col = _qcolor(c.get("color") or class_color(int(c["value"])))
        col.setAlpha(160)
        sym.setColor(col)
        cats.append(QgsRendererCategory(int(c["value"]), sym, str(c["name"])))
    return QgsCategorizedSymbolRenderer(field, cats)


def create_training_layer(path: str, crs: QgsCoordinateReferenceSystem, classes: List[dict],
                          layer_name: str = "training", project: Optional[QgsProject] = None,
                          start_editing: bool = True) -> QgsVectorLayer:
    """A new GeoPackage polygon layer (class_id int, class_name text) in `crs`, categorized by class_id,
    with a drop-down of the classes for class_id and class_name filled from it; added to the project."""
    if not classes:
        raise ValueError("Give at least one class")
    if os.path.exists(path):
        raise FileExistsError(f"{path} already exists; choose a new file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Folder does not exist: {folder}")
    fields = QgsFields()
    fields.append(QgsField("class_id", field_type("Int")))
    fields.append(QgsField("class_name", field_type("String"), len=80))
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "GPKG"
    opts.layerName = layer_name
    opts.fileEncoding = "UTF-8"
    ctx = (project or QgsProject.instance()).transformContext()
    writer = QgsVectorFileWriter.create(path, fields, QgsWkbTypes.Type.MultiPolygon, crs, ctx, opts)
    if writer.hasError() != QgsVectorFileWriter.WriterError.NoError:
        raise OSError(f"Cannot create {path}: {writer.errorMessage()}")
    del writer
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", Path(path).stem, "ogr")
    if not layer.isValid():
        raise OSError(f"QGIS cannot open the new layer {path}")
    classes = [dict(c, value=int(c["value"]), name=str(c.get("name") or f"Class {c['value']}")) for c in classes]
    layer.setRenderer(categorized_renderer("class_id", classes))
    idx = layer.fields().indexOf("class_id")
    value_map = [{c["name"]: c["value"]} for c in classes]
    layer.setEditorWidgetSetup(idx, QgsEditorWidgetSetup("ValueMap", {"map": value_map}))
    layer.setDefaultValueDefinition(idx, QgsDefaultValue(str(classes[0]["value"])))
    case = " ".join(f"WHEN \"class_id\" = {c['value']} THEN '{c['name'].replace(chr(39), chr(39) * 2)}'"
                    for c in classes)
    layer.setDefaultValueDefinition(layer.fields().indexOf("class_name"),
                                    QgsDefaultValue(f"CASE {case} END", True))
    layer.saveStyleToDatabase("default", "HyperSNN training classes", True, "")
    save_class_table(path, classes)
    _add(layer, project, group=False)
    if start_editing:
        layer.startEditing()
    return layer


def save_class_table(gpkg_path: str, classes: List[dict]) -> str:
    """<name>_classes.json beside the layer (the CLI's --classes format)."""
    out = os.path.splitext(gpkg_path)[0] + "_classes.json"
    rows = [json.dumps({"value": int(c["value"]), "name": str(c["name"]),
                        "color": list(c.get("color") or class_color(int(c["value"])))}, ensure_ascii=False)
            for c in classes]
    Path(out).write_text('{"classes": [\n  ' + ",\n  ".join(rows) + "\n]}\n", encoding="utf-8")
    return out


def add_polygon(layer: QgsVectorLayer, geometry, class_id: int) -> bool:
    """Append one training polygon as the attribute form would (default values applied)."""
    from qgis.core import QgsVectorLayerUtils

    idx = layer.fields().indexOf("class_id")
    f = QgsVectorLayerUtils.createFeature(layer, geometry, {idx: int(class_id)})
    return layer.addFeature(f)


BAR_CHARS = 180
"""About what the message bar's two lines show at a common window width; a longer text is cut at a word there and
given whole behind the bar's "Show more" button (and in the log)."""


def message(iface, text: str, level=Qgis.MessageLevel.Info, duration: int = 8, title: str = "HyperSNN",
            details: Optional[str] = None):
    """Message bar (when there is an iface) and the HyperSNN log tab. The bar heads the text with `title`
    (so `text` must not repeat it) and keeps it short; the full text and `details` (a traceback, every
    warning) sit behind its "Show more" button."""
    from qgis.core import QgsMessageLog

    QgsMessageLog.logMessage(text + (f"\n{details}" if details else ""), "HyperSNN", level)
    if iface is None:
        return
    short = text
    if len(text) > BAR_CHARS:
        short = text[:BAR_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:") + " … (Show more)"
    more = "\n\n".join(t for t in (text if short != text else "", details or "") if t)
    try:
        if more:
            iface.messageBar().pushMessage(title, short, more, level=level, duration=duration)
        else:
            iface.messageBar().pushMessage(title, short, level=level, duration=duration)
    except Exception:  # noqa: BLE001
        pass


def after_qgis_notice(iface, task_description: str, text: str, level=Qgis.MessageLevel.Info,
                      details: Optional[str] = None, duration: Optional[int] = None):
    """The plugin's word on how a task ended, kept on top of the bar: QGIS 3.22 posts its own notice ("Task
    complete" / "Task failed", the task's description) just after the task's finished() returns, which would hide
    this message (a trust warning, a failure's cause) behind "1 more". That notice is taken away once QGIS has
    posted it."""
    if duration is None:
        duration = 0 if level == Qgis.MessageLevel.Critical else 15
    message(iface, text, level, duration=duration, details=details)
    if iface is None:
        return
    from qgis.PyQt.QtCore import QTimer

    def drop_qgis_notice():
        try:
            bar = iface.messageBar()
            for item in list(bar.items()):
                if item.text() == task_description and item.title() != "HyperSNN":
                    bar.popWidget(item)
        except Exception:  # noqa: BLE001 - a bar without items() (tests' mock) or an item already gone
            pass

    QTimer.singleShot(0, drop_qgis_notice)
