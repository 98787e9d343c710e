"""Small helpers shared by the dialogs: settings under "hypersnn/", default output paths, icons."""
from __future__ import annotations

import os
from pathlib import Path

from qgis.core import QgsSettings
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QCheckBox

PREFIX = "hypersnn/"
def icon(name: str = "icon") -> QIcon:
    from ..core.assets import icon_path

    return QIcon(icon_path(name))


GEOTIFF_FILTER = "GeoTIFF (*.tif *.tiff)"


def file_widget(file_filter: str, save: bool = False) -> QgsFileWidget:
    w = QgsFileWidget()
    if save:
        w.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
    w.setFilter(file_filter)
    return w


def add_map_outputs(form):
    """The class-map and confidence-map rows both dialogs share: (class_map_file, confidence_check,
    confidence_file)."""
    class_map = file_widget(GEOTIFF_FILTER, save=True)
    form.addRow("Class map", class_map)
    check = QCheckBox("Confidence map")
    check.setChecked(True)
    conf = file_widget(GEOTIFF_FILTER, save=True)
    form.addRow(check, conf)
    return class_map, check, conf


def setting(key: str, default=None, typ=None):
    s = QgsSettings()
    if not s.contains(PREFIX + key):
        return default
    if typ is None:
        return s.value(PREFIX + key, default)
    try:
        v = s.value(PREFIX + key, default, type=typ)
    except TypeError:
        v = default
    return default if v is None else v


def set_setting(key: str, value):
    QgsSettings().setValue(PREFIX + key, value)


def output_folder(raster_path: str = "") -> str:
    """Where outputs go by default: the raster's folder when writable, else the last used folder, else
    ~/HyperSNN."""
    d = os.path.dirname(raster_path) if raster_path else ""
    if d and os.path.isdir(d) and os.access(d, os.W_OK):
        return d
    last = setting("last_output_dir", "")
    if last and os.path.isdir(last) and os.access(last, os.W_OK):
        return last
    home = os.path.join(str(Path.home()), "HyperSNN")
    try:
        os.makedirs(home, exist_ok=True)
    except OSError:
        pass
    return home


def default_output(raster_path: str, suffix: str) -> str:
    stem = Path(raster_path).stem if raster_path else "hypersnn"
    return os.path.join(output_folder(raster_path), f"{stem}{suffix}")
