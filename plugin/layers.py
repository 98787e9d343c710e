"""Map layers for HyperSNN outputs, training layers, and the report viewer (main thread only)."""
from __future__ import annotations

import json
import os
import re
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
from qgis.PyQt.QtCore import QUrl, QVariant
from qgis.PyQt.QtGui import QColor

GROUP_NAME = "HyperSNN"


def _qcolor(c) -> QColor:
    if isinstance(c, QColor):
        return c
    r, g, b = (int(x) for x in tuple(c)[:3])
    return QColor(r, g, b)


def _default_color(value: int) -> tuple:
    try:
        from ..core.labels import default_colors

        return default_colors(max(value, 1))[value - 1]
    except Exception:  # noqa: BLE001 - numpy missing: any stable colour will do
        h = (value * 0.618033988749895) % 1.0
        c = QColor.fromHsvF(h, 0.7, 0.9)
        return c.red(), c.green(), c.blue()


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
        color = c.get("color") or _default_color(v)
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

    stats = layer.dataProvider().bandStatistics(1, QgsRasterBandStats.Min | QgsRasterBandStats.Max)
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
    fcn.setColorRampType(QgsColorRampShader.Interpolated)
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


def add_class_map(path: str, classes: List[dict], name: Optional[str] = None,
                  project: Optional[QgsProject] = None) -> QgsRasterLayer:
    remove_layers_with_source(path, project)
    layer = QgsRasterLayer(path, name or Path(path).stem)
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open the class map {path}")
    style_class_map(layer, classes)
    return _add(layer, project)


def add_confidence(path: str, name: Optional[str] = None, project: Optional[QgsProject] = None) -> QgsRasterLayer:
    remove_layers_with_source(path, project)
    layer = QgsRasterLayer(path, name or Path(path).stem)
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open the confidence map {path}")
    style_confidence(layer)
    return _add(layer, project)


def add_energy_map(path: str, name: Optional[str] = None, project: Optional[QgsProject] = None) -> QgsRasterLayer:
    """The energy map, styled on band 1 (SNN energy per pixel, pJ); band 2 holds the spikes per pixel."""
    remove_layers_with_source(path, project)
    layer = QgsRasterLayer(path, name or Path(path).stem)
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open the energy map {path}")
    style_energy(layer)
    return _add(layer, project)


def add_probabilities(path: str, name: Optional[str] = None, project: Optional[QgsProject] = None) -> QgsRasterLayer:
    remove_layers_with_source(path, project)
    layer = QgsRasterLayer(path, name or Path(path).stem)
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open the probability raster {path}")
    return _add(layer, project)


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


def categorized_renderer(field: str, classes: List[dict], geometry=QgsWkbTypes.PolygonGeometry):
    cats = []
    for c in classes:
        sym = QgsSymbol.defaultSymbol(geometry)
        col = _qcolor(c.get("color") or _default_color(int(c["value"])))
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
    fields.append(QgsField("class_id", QVariant.Int))
    fields.append(QgsField("class_name", QVariant.String, len=80))
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "GPKG"
    opts.layerName = layer_name
    opts.fileEncoding = "UTF-8"
    ctx = (project or QgsProject.instance()).transformContext()
    writer = QgsVectorFileWriter.create(path, fields, QgsWkbTypes.MultiPolygon, crs, ctx, opts)
    if writer.hasError() != QgsVectorFileWriter.NoError:
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
                        "color": list(c.get("color") or _default_color(int(c["value"])))}, ensure_ascii=False)
            for c in classes]
    Path(out).write_text('{"classes": [\n  ' + ",\n  ".join(rows) + "\n]}\n", encoding="utf-8")
    return out


def add_polygon(layer: QgsVectorLayer, geometry, class_id: int) -> bool:
    """Append one training polygon as the attribute form would (default values applied)."""
    from qgis.core import QgsVectorLayerUtils

    idx = layer.fields().indexOf("class_id")
    f = QgsVectorLayerUtils.createFeature(layer, geometry, {idx: int(class_id)})
    return layer.addFeature(f)


# ------------------------------------------------------------------------------------------------
# report viewer


def report_html_text(path: str) -> str:
    """HTML for a report file: the .html itself, or a .json report rendered by the engine."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        from ..core.report import render_html

        return render_html(json.loads(p.read_text(encoding="utf-8")))
    return p.read_text(encoding="utf-8")


_DATA_IMG = re.compile(r"""src=(["'])data:image/(png|jpe?g|gif);base64,([A-Za-z0-9+/=\s]+)\1""")


def extract_data_images(html_text: str):
    """QTextBrowser cannot show data: URIs: (html with each embedded image renamed, {name: QImage})."""
    import base64

    from qgis.PyQt.QtGui import QImage

    images = {}

    def repl(m):
        img = QImage()
        if not img.loadFromData(base64.b64decode(m.group(3)), m.group(2).upper().replace("JPG", "JPEG")):
            return m.group(0)
        name = f"hypersnn-figure-{len(images)}.{m.group(2)}"
        images[name] = img
        width = f' width="{min(img.width(), 820)}"' if img.width() > 820 else ""
        return f'src="{name}"{width}'

    return _DATA_IMG.sub(repl, html_text), images


_QT_CSS = ("body{font-family:sans-serif;} th{background-color:#eeeeee;} .meta{color:#666666;} "
           ".warn{color:#aa4400;} td,th{padding:3px;}")


def qt_rich_text(html_text: str) -> str:
    """Qt's rich-text engine mis-sizes the report's CSS margins (em units, display:block): use a plain
    stylesheet and table attributes it understands."""
    html_text = re.sub(r"<style>.*?</style>", f"<style>{_QT_CSS}</style>", html_text, flags=re.S)
    html_text = re.sub(r"(<img\s[^>]*>)", r"<p>\1</p>", html_text)  # each figure in its own block
    return html_text.replace("<table>", '<table border="1" cellspacing="0" cellpadding="3">')


def _report_browser_class():
    from qgis.PyQt.QtCore import QUrl as _QUrl
    from qgis.PyQt.QtGui import QTextDocument
    from qgis.PyQt.QtWidgets import QTextBrowser

    class ReportBrowser(QTextBrowser):
        """A QTextBrowser showing a report with its embedded figures (registered as document
        resources: QTextEdit.setHtml would drop them, so the document is built first)."""

        def set_report_html(self, html_text: str, base_url=None):
            html_text, images = extract_data_images(qt_rich_text(html_text))
            old = getattr(self, "_own_doc", None)
            doc = QTextDocument(self)
            if base_url is not None:
                doc.setBaseUrl(base_url)
            for name, img in images.items():  # looked up as given and resolved against the base URL
                doc.addResource(QTextDocument.ImageResource, _QUrl(name), img)
                if base_url is not None:
                    doc.addResource(QTextDocument.ImageResource, base_url.resolved(_QUrl(name)), img)
            doc.setHtml(html_text)
            self.setDocument(doc)
            self._own_doc = doc
            if old is not None:
                old.deleteLater()

    return ReportBrowser


class ReportDock:
    """A dock with a QTextBrowser showing a report's HTML, plus 'Open in browser' (lazy widget)."""

    def __init__(self, iface):
        self.iface = iface
        self.dock = None
        self.browser = None
        self.path = None

    def _build(self):
        from qgis.PyQt.QtCore import Qt
        from qgis.PyQt.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

        parent = self.iface.mainWindow() if self.iface is not None else None
        dock = QDockWidget("HyperSNN report", parent)
        dock.setObjectName("HyperSNNReportDock")
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(2, 2, 2, 2)
        bar = QHBoxLayout()
        self.label = QLabel("")
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        btn = QPushButton("Open in browser")
        btn.clicked.connect(self.open_in_browser)
        folder = QPushButton("Open folder")
        folder.clicked.connect(self.open_folder)
        bar.addWidget(self.label, 1)
        bar.addWidget(folder)
        bar.addWidget(btn)
        lay.addLayout(bar)
        self.browser = _report_browser_class()()
        self.browser.setOpenExternalLinks(True)
        lay.addWidget(self.browser, 1)
        dock.setWidget(w)
        self.dock = dock
        if self.iface is not None:
            self.iface.addDockWidget(Qt.RightDockWidgetArea, dock)

    def show(self, path: str):
        if self.dock is None:
            self._build()
        self.path = os.path.abspath(path)
        self.browser.set_report_html(report_html_text(self.path),
                                     QUrl.fromLocalFile(os.path.dirname(self.path) + os.sep))
        self.label.setText(os.path.basename(self.path))
        self.dock.show()
        self.dock.raise_()

    def open_in_browser(self):
        if self.path:
            from qgis.PyQt.QtGui import QDesktopServices

            html = self.path
            if html.lower().endswith(".json") and os.path.exists(os.path.splitext(html)[0] + ".html"):
                html = os.path.splitext(html)[0] + ".html"
            QDesktopServices.openUrl(QUrl.fromLocalFile(html))

    def open_folder(self):
        if self.path:
            from qgis.PyQt.QtGui import QDesktopServices

            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(self.path)))

    def close(self):
        if self.dock is not None:
            if self.iface is not None:
                self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
            self.browser = None


def message(iface, text: str, level=Qgis.Info, duration: int = 8, title: str = "HyperSNN"):
    """Message bar (when there is an iface) and the HyperSNN log tab."""
    from qgis.core import QgsMessageLog

    QgsMessageLog.logMessage(text, "HyperSNN", level)
    if iface is not None:
        try:
            iface.messageBar().pushMessage(title, text, level=level, duration=duration)
        except Exception:  # noqa: BLE001
            pass
