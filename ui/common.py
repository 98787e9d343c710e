"""Small helpers shared by the dialogs: settings under "hypersnn/", default output paths (free names, never an
existing file), the checks of output paths, the question before replacing a file, the frame every dialog starts and
ends with (title, message bar; button box with its Help button), icons."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from qgis.core import QgsSettings
from qgis.gui import QgsFileWidget, QgsMessageBar
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QDesktopServices, QIcon
from qgis.PyQt.QtWidgets import QCheckBox, QDialogButtonBox, QMessageBox, QSizePolicy, QVBoxLayout

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


def _report_files(path: str) -> list:
    """The report files a run writes beside `path` (workflows/train.default_report_target's names)."""
    stem = os.path.splitext(path)[0] + "_report"
    return [stem + s for s in (".html", ".json", "_per_class.csv", "_confusion.csv")]


def free_outputs(raster_path: str, suffixes) -> list:
    """Default output paths beside the raster, one per suffix ("_snn.hsnn", "_classes.tif"), numbered together
    (`_2`, `_3`, ...) so that none of them, nor the report beside them, exists yet: a rerun with the proposed
    names never replaces an earlier run's files."""
    first = [default_output(raster_path, s) for s in suffixes]
    for n in range(1, 1000):
        paths = [p if n == 1 else f"{os.path.splitext(p)[0]}_{n}{os.path.splitext(p)[1]}" for p in first]
        if not any(os.path.exists(f) for p in paths for f in [p] + _report_files(p)):
            return paths
    return first


def existing_outputs(paths) -> list:
    """Those of `paths` (and the report files beside them) that exist already."""
    out = []
    for p in paths:
        for f in [p] + _report_files(p):
            if f and os.path.exists(f) and f not in out:
                out.append(f)
    return out


def output_problem(outputs, geotiff: bool = False) -> Optional[str]:
    """The first problem with the outputs a dialog is about to write, `[(what, path)]` ("class map", ...), or None:
    no path chosen, a folder that does not exist or, with `geotiff`, a name that is not .tif. One check for the
    train and classify dialogs, output by output, so the message names the first output in the form to fix."""
    for what, p in outputs:
        if not p:
            return f"Choose where to save the {what}."
        if not os.path.isdir(os.path.dirname(os.path.abspath(p))):
            return f"The folder for the {what} does not exist: {os.path.dirname(p)}"
        if geotiff and not p.lower().endswith((".tif", ".tiff")):
            return f"The {what} is written as GeoTIFF: give it a .tif name."
    return None


def confirm_replace(parent, paths) -> bool:
    """Ask before replacing existing files, as QGIS's own dialogs do; No is the default."""
    if not paths:
        return True
    shown = "\n".join(paths[:12]) + (f"\n... and {len(paths) - 12} more" if len(paths) > 12 else "")
    box = QMessageBox(QMessageBox.Icon.Warning, "Replace existing files?",
                      f"{len(paths)} output file(s) exist already and would be replaced:\n\n{shown}\n\n"
                      "Replace them? Choose No to go back and pick other names.",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setObjectName("hypersnn_confirm_replace")
    return box.exec() == QMessageBox.StandardButton.Yes


def plugin_metadata(key: str, default: str = "") -> str:
    """A value of the plugin's metadata.txt (one place for the homepage and its help link)."""
    path = Path(__file__).resolve().parents[1] / "metadata.txt"
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            k, sep, v = line.partition("=")
            if sep and k.strip() == key:
                return v.strip()
    except OSError:
        pass
    return default


def help_url(section: str = "qgis-plugin") -> QUrl:
    """The documentation of `section` (a heading anchor of the README on the plugin's homepage)."""
    home = plugin_metadata("homepage", "https://github.com/hypersnn/hypersnn")
    return QUrl(f"{home}#{section}" if section else home)


def open_help(section: str = "qgis-plugin") -> bool:
    return QDesktopServices.openUrl(help_url(section))


def add_help_button(buttons: QDialogButtonBox, section: str = "qgis-plugin"):
    """A Help button in a dialog's button box that opens the documentation of `section`."""
    btn = buttons.addButton(QDialogButtonBox.StandardButton.Help)
    btn.setToolTip(f"Open the documentation in the web browser: {help_url(section).toString()}")
    buttons.helpRequested.connect(lambda: open_help(section))
    return btn


def dialog_buttons(dialog, ok_text: str, *extra, section: str = "qgis-plugin"):
    """The button box every dialog ends with: OK (renamed to the dialog's action, "Train", "Classify") and Cancel
    wired to the dialog's accept/reject, the `extra` standard buttons, and a Help button that opens `section`.
    Returns (buttons, help_button)."""
    which = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    for b in extra:
        which = which | b
    buttons = QDialogButtonBox(which)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, add_help_button(buttons, section)


def dialog_layout(dialog, title: str, icon_name: str):
    """What every dialog starts with: its title and icon, a vertical layout and, on top, the message bar where the
    dialog says why it refuses an input. Returns (layout, message bar)."""
    dialog.setWindowTitle(title)
    dialog.setWindowIcon(icon(icon_name))
    outer = QVBoxLayout(dialog)
    bar = QgsMessageBar(dialog)
    bar.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
    outer.addWidget(bar)
    return outer, bar
