"""Runs INSIDE the QGIS desktop (`qgis --code scripts/screenshots_driver.py`, started by scripts/screenshots.py):
walks the plugin's whole workflow as a user would and grabs the full screen at each stage.

Why a driver and not widget.grab(): only the real desktop shows what a user meets (dialogs larger than the screen,
the message bar, the task manager, docks). Every step is QTimer-driven with its own timeout and tolerates missing
widgets (dialogs change): what could not be captured is logged in shots.json, never fatal. A watchdog quits QGIS
after `deadline_s`, and the caller also runs QGIS under `timeout`.

Input: $HYPERSNN_SHOTS_CONFIG, a JSON file written by scripts/screenshots.py (out, work, raster, labels,
classes, epochs, reuse_model, deadline_s, train_timeout_s). Output: <out>/<name>.png and <out>/shots.json.
"""
from __future__ import annotations

import json
import os
import time
import traceback

CFG = json.load(open(os.environ["HYPERSNN_SHOTS_CONFIG"], encoding="utf-8"))
OUT = CFG["out"]
RESULT = {"shots": [], "missed": [], "notes": [], "log": []}
S: dict = {}  # state shared between steps
T0 = time.monotonic()


def say(*parts):
    line = f"[{time.monotonic() - T0:6.1f}s] " + " ".join(str(p) for p in parts)
    RESULT["log"].append(line)
    print("screenshots:", line, flush=True)


def save_result():
    tmp = os.path.join(OUT, "shots.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(RESULT, f, indent=1)
    os.replace(tmp, os.path.join(OUT, "shots.json"))


def missed(name, why):
    say("MISSED", name, why)
    RESULT["missed"].append({"name": name, "why": str(why)})
    save_result()


# -- Qt helpers ----------------------------------------------------------------------------------------------
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer  # noqa: E402
from qgis.PyQt.QtCore import QTimer  # noqa: E402
from qgis.PyQt.QtWidgets import (QAbstractButton, QApplication, QDialog, QDialogButtonBox, QDockWidget,  # noqa: E402
                                 QMessageBox, QScrollArea, QTreeView, QWidget)
from qgis.utils import iface  # noqa: E402


def screen_rect():
    return QApplication.primaryScreen().geometry()


def class_names(w):
    return {c.__name__ for c in type(w).__mro__} | {w.metaObject().className()}


def visible_top(name=None, exclude=()):
    """Visible top-level widgets (dialogs) whose class (or a base class) is `name`; newest last."""
    out = []
    for w in QApplication.topLevelWidgets():
        try:
            if not w.isVisible() or id(w) in exclude:
                continue
            if name is None or name in class_names(w):
                out.append(w)
        except RuntimeError:  # deleted C++ object
            continue
    return out


def geometry_note(widget):
    """Where the widget sits relative to the screen; flags anything outside it."""
    if widget is None:
        return {}
    try:
        g = widget.frameGeometry()
        scr = screen_rect()
        info = {"widget": type(widget).__name__, "x": g.x(), "y": g.y(), "w": g.width(), "h": g.height(),
                "min_w": widget.minimumSizeHint().width(), "min_h": widget.minimumSizeHint().height()}
        if not scr.contains(g):
            info["off_screen"] = (f"{g.width()}x{g.height()} at ({g.x()},{g.y()}) does not fit the "
                                  f"{scr.width()}x{scr.height()} screen")
        return info
    except RuntimeError:
        return {}


def shot(name, caption, widget=None):
    """Grab the whole screen (all top-level windows, as the user sees them)."""
    QApplication.processEvents()
    path = os.path.join(OUT, f"{name}.png")
    pix = QApplication.primaryScreen().grabWindow(0)
    if pix.isNull() or not pix.save(path):
        missed(name, "the screen grab failed")
        return
    entry = {"name": f"{name}.png", "caption": caption, **geometry_note(widget)}
    RESULT["shots"].append(entry)
    say("shot", name, entry.get("off_screen", ""))
    save_result()


def until(pred, timeout, every=0.5):
    """`value = yield from until(...)`: poll `pred` on the Qt event loop; None after `timeout` seconds."""
    t0 = time.monotonic()
    while True:
        try:
            v = pred()
        except RuntimeError:
            v = None
        if v:
            return v
        if time.monotonic() - t0 > timeout:
            return None
        yield every


def find_action(key):
    """The plugin's menu/toolbar action `hypersnn_<key>` (ui/plugin.py names them)."""
    try:  # Qt6 and newer qgis.PyQt shims: QtGui; QGIS 3.22 (Qt5): QtWidgets
        from qgis.PyQt.QtGui import QAction
    except ImportError:
        from qgis.PyQt.QtWidgets import QAction
    for a in iface.mainWindow().findChildren(QAction):
        if a.objectName() == f"hypersnn_{key}":
            return a
    return None


def plugin_error():
    """The newest HyperSNN message in the main message bar that is not a success (an action failed)."""
    from qgis.core import Qgis

    for item in reversed(iface.messageBar().items()):
        try:
            if "hypersnn" in (item.title() + item.text()).lower() and item.level() == Qgis.MessageLevel.Critical:
                return f"{item.title()}: {item.text()}"
        except RuntimeError:
            continue
    return None


def open_from_menu(key, dialog_class, timeout=60):
    """Trigger Raster > HyperSNN > `key` and wait for the `dialog_class` window; (dialog, why-not)."""
    act = find_action(key)
    if act is None:
        return None, f"no hypersnn_{key} action"
    iface.messageBar().clearWidgets()
    trigger_later(act)
    found = yield from until(lambda: (visible_top(dialog_class) or [None])[-1] or plugin_error(), timeout)
    if found is None:
        return None, f"{dialog_class} did not open within {timeout} s"
    if isinstance(found, str):
        return None, f"{dialog_class} did not open: {found}"
    return found, ""


def trigger_later(action):
    """Trigger a menu action from its own timer callback: a modal exec() inside it then runs its own event loop
    while the steps go on."""
    QTimer.singleShot(0, action.trigger)


def close_dialog(dlg, prefer=("cancel", "no", "close")):
    """Close without accepting: a rejecting button when there is one, else reject()/close()."""
    if dlg is None:
        return
    try:
        if isinstance(dlg, QMessageBox):
            for b in dlg.buttons():
                if dlg.buttonRole(b) in (QMessageBox.ButtonRole.RejectRole, QMessageBox.ButtonRole.NoRole):
                    b.click()
                    return
        for box in dlg.findChildren(QDialogButtonBox):
            for b in box.buttons():
                if box.buttonRole(b) in (QDialogButtonBox.ButtonRole.RejectRole, QDialogButtonBox.ButtonRole.NoRole):
                    b.click()
                    return
        if isinstance(dlg, QDialog):
            dlg.reject()
        else:
            dlg.close()
    except RuntimeError:
        pass


def attr(obj, *names):
    for n in names:
        w = getattr(obj, n, None)
        if w is not None:
            return w
    return None


# -- guard: unexpected message boxes never block the run ------------------------------------------------------
S["claimed"] = set()
S["unexpected"] = 0


def _guard():
    for box in visible_top("QMessageBox"):
        if id(box) in S["claimed"]:
            continue
        first = S.setdefault("seen", {}).setdefault(id(box), time.monotonic())
        if time.monotonic() - first < 3:
            continue
        S["unexpected"] += 1
        say("unexpected message box:", box.windowTitle(), "|", box.text())
        RESULT["notes"].append(f"unexpected message box '{box.windowTitle()}': {box.text()}")
        shot(f"unexpected_{S['unexpected']}", f"An unexpected message box: {box.windowTitle()}", box)
        S["claimed"].add(id(box))
        close_dialog(box)


_guard_timer = QTimer()
_guard_timer.timeout.connect(lambda: _safe(_guard))
_guard_timer.start(1000)


def _safe(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001
        say("guard error", traceback.format_exc())


# -- the steps ------------------------------------------------------------------------------------------------
def step_setup():
    mw = iface.mainWindow()
    scr = QApplication.primaryScreen()
    mw.setGeometry(scr.availableGeometry())
    mw.showMaximized()
    browser = mw.findChild(QDockWidget, "Browser")
    if browser is not None:  # the Layers panel (the legend) gets the whole left column
        browser.hide()
    import qgis.core

    try:
        import hypersnn

        say("hypersnn from", os.path.dirname(hypersnn.__file__))
    except Exception as e:  # noqa: BLE001
        say("hypersnn does not import:", e)
    RESULT["qgis"] = qgis.core.Qgis.QGIS_VERSION
    RESULT["screen"] = f"{scr.geometry().width()}x{scr.geometry().height()}"
    raster = QgsRasterLayer(CFG["raster"], os.path.splitext(os.path.basename(CFG["raster"]))[0])
    labels = QgsRasterLayer(CFG["labels"], os.path.splitext(os.path.basename(CFG["labels"]))[0])
    if not raster.isValid():
        raise RuntimeError(f"cannot open {CFG['raster']}")
    QgsProject.instance().addMapLayers([raster] + ([labels] if labels.isValid() else []))
    S["raster"], S["labels"] = raster, labels
    iface.setActiveLayer(raster)
    yield 1
    iface.mapCanvas().setExtent(raster.extent())
    iface.mapCanvas().refresh()
    yield 3


def step_menu():
    """Raster > HyperSNN opened, as the user finds the plugin."""
    from qgis.PyQt.QtCore import QPoint

    menu = iface.rasterMenu()
    sub = None
    for a in menu.actions():
        if a.menu() is not None and "hypersnn" in a.text().replace("&", "").lower():
            sub = a.menu()
    if sub is None:
        missed("plugin_menu", "no HyperSNN submenu in the Raster menu")
        return
    bar = iface.mainWindow().menuBar()
    ra = menu.menuAction()
    geo = bar.actionGeometry(ra)
    pos = bar.mapToGlobal(QPoint(geo.x(), geo.y() + geo.height()))
    bar.setActiveAction(ra)
    yield 1
    if not menu.isVisible():
        menu.popup(pos)
        yield 0.5
    menu.setActiveAction(sub.menuAction())
    yield 0.5
    if not sub.isVisible():
        r = menu.actionGeometry(sub.menuAction())
        sub.popup(menu.mapToGlobal(QPoint(r.right(), r.top())))
    yield 1
    shot("plugin_menu", "Raster > HyperSNN: the plugin's menu", sub)
    sub.hide()
    menu.hide()
    bar.setActiveAction(None)
    yield 0.5


def _polygon_training_layer():
    """Fallback when the Train dialog takes no label raster: the sample's labels polygonized (class_id)."""
    from osgeo import gdal, ogr, osr

    gpkg = os.path.join(CFG["work"], "training_polygons.gpkg")
    if os.path.exists(gpkg):
        os.remove(gpkg)
    src = gdal.Open(CFG["labels"])
    band = src.GetRasterBand(1)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(src.GetProjection())
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(gpkg)
    lyr = ds.CreateLayer("training", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    gdal.Polygonize(band, band.GetMaskBand(), lyr, 0, [], callback=None)
    ds = None
    layer = QgsVectorLayer(f"{gpkg}|layername=training", "training polygons", "ogr")
    try:
        from hypersnn.plugin.layers import categorized_renderer

        classes = json.load(open(CFG["classes"], encoding="utf-8"))["classes"]
        layer.setRenderer(categorized_renderer("class_id", classes))
    except Exception as e:  # noqa: BLE001
        say("no categorized style for the polygons:", e)
    QgsProject.instance().addMapLayer(layer)
    return layer


def fill_train_dialog(dlg):
    from qgis.gui import QgsFileWidget, QgsMapLayerComboBox

    combo = attr(dlg, "raster_combo")
    if combo is not None:
        combo.setLayer(S["raster"])
    labels_combo = attr(dlg, "labels_combo", "label_combo", "poly_combo")
    took_raster = False
    if labels_combo is not None and S["labels"].isValid():
        labels_combo.setLayer(S["labels"])
        took_raster = labels_combo.currentLayer() is S["labels"]
    if not took_raster:
        for c in dlg.findChildren(QgsMapLayerComboBox):  # a separate label-raster combo, whatever its name
            if c is combo or c is labels_combo or not c.isVisibleTo(dlg):
                continue
            c.setLayer(S["labels"])
            if c.currentLayer() is S["labels"]:
                took_raster = True
                break
            c.setLayer(None)
    if not took_raster:
        RESULT["notes"].append("the Train dialog took no label raster: trained on the labels polygonized")
        layer = _polygon_training_layer()
        if labels_combo is not None:
            labels_combo.setLayer(layer)
        field = attr(dlg, "field_combo")
        if field is not None:
            field.setField("class_id")
    S["label_raster_in_dialog"] = took_raster
    for name, w in vars(dlg).items():  # a class-table input left empty: the sample's classes.json
        if isinstance(w, QgsFileWidget) and "class" in name and ("table" in name or "json" in name) \
                and not w.filePath():
            w.setFilePath(CFG["classes"])
    try:
        from hypersnn.workflows.demo import demo_config

        cfg = demo_config(quick=True)
        cfg.train.cnn_epochs, cfg.train.snn_epochs = CFG["epochs"]
        if hasattr(dlg, "set_config"):
            dlg.set_config(cfg)
    except Exception as e:  # noqa: BLE001
        say("set_config failed:", e)
    for name, value in (("cnn_epochs_spin", CFG["epochs"][0]), ("snn_epochs_spin", CFG["epochs"][1])):
        spin = attr(dlg, name)
        if spin is not None:
            spin.setValue(value)
    run_dir = os.path.join(CFG["work"], "run")
    os.makedirs(run_dir, exist_ok=True)
    for name, fname in (("model_file", "indian_pines_snn.hsnn"), ("class_map_file", "indian_pines_classes.tif"),
                        ("confidence_file", "indian_pines_confidence.tif")):
        w = attr(dlg, name)
        if w is not None:
            w.setFilePath(os.path.join(run_dir, fname))
    S["model_path"] = os.path.join(run_dir, "indian_pines_snn.hsnn")


def scroll_areas(dlg):
    return [a for a in dlg.findChildren(QScrollArea) if a.isVisible() and a.verticalScrollBar().maximum() > 0
            and a.widget() is not None and a.widget().findChildren(QWidget)]


def shot_scrolled(dlg, name, caption):
    """A shot of `dlg` with its scroll areas at their ends (when it has any), scrolled back afterwards."""
    areas = scroll_areas(dlg)
    for a in areas:
        a.verticalScrollBar().setValue(a.verticalScrollBar().maximum())
    if areas:
        yield 1
        shot(name, caption, dlg)
        for a in areas:
            a.verticalScrollBar().setValue(0)


def shot_preset(dlg, preset, setting):
    """The Train dialog with `preset` chosen and "More settings" open, scrolled to the `setting` field
    ("train.<setting>"), then back to the default preset: what a preset sets is visible in the fields."""
    combo, group = attr(dlg, "preset_combo"), attr(dlg, "more_group")
    more = attr(dlg, "more")
    if combo is None or group is None or combo.findData(preset) < 0:
        missed(f"train_dialog_{preset}", "no preset combo, More settings group or preset")
        return
    combo.setCurrentIndex(combo.findData(preset))
    group.setCollapsed(False)
    yield 1
    field = (getattr(more, "widgets", {}) or {}).get(f"train.{setting}") if more is not None else None
    for a in scroll_areas(dlg):
        if field is not None and a.widget() is not None and a.widget().isAncestorOf(field):
            a.ensureWidgetVisible(field, 50, 200)
    yield 1
    shot(f"train_dialog_{preset}", f"The Train dialog with the `{preset}` preset chosen and More settings open at "
                                   f"its {setting.replace('_', ' ')} field", dlg)
    combo.setCurrentIndex(combo.findData("default"))
    group.setCollapsed(True)
    yield 1


def step_train_dialog():
    dlg, why = yield from open_from_menu("train", "TrainDialog")
    if dlg is None:
        missed("train_dialog", why)
        return
    S["train_dialog"] = dlg
    yield 1
    fill_train_dialog(dlg)
    yield 3  # the dialog reads the raster, the labels and their classes
    shot("train_dialog", "The Train dialog from Raster > HyperSNN, filled in on the bundled Indian Pines sample", dlg)
    yield from shot_scrolled(dlg, "train_dialog_scrolled", "The Train dialog scrolled to its end (outputs, Train button)")
    yield from shot_preset(dlg, "efficient", "membrane_bits")
    box = attr(dlg, "buttons")
    ok = box.button(QDialogButtonBox.StandardButton.Ok) if isinstance(box, QDialogButtonBox) else None
    S["train_started_at"] = time.monotonic()
    tm = QgsApplication.taskManager()
    if ok is not None and ok.isEnabled():
        ok.click()
    else:
        say("no enabled Train button; calling accept()")
        dlg.accept()
    yield from until(lambda: tm.countActiveTasks() > 0 or not dlg.isVisible(), 20)
    if dlg.isVisible() and not tm.countActiveTasks():
        bar = attr(dlg, "bar")
        texts = [f"{i.title()} {i.text()}" for i in bar.items()] if bar is not None else []
        RESULT["notes"].append("the Train dialog stayed open after Train: " + "; ".join(texts))
        shot("train_dialog_refused", "The Train dialog refusing the input (message in its bar)", dlg)
        close_dialog(dlg)
        S["training"] = False
        return
    started = yield from until(lambda: tm.countActiveTasks() > 0, 20)  # queued once exec() has returned
    S["training"] = bool(started)
    say("training task started:", S["training"])


def _task_widget():
    for w in iface.mainWindow().statusBar().findChildren(QWidget):
        if "QgsTaskManagerStatusBarWidget" in class_names(w):
            return w
    return None


def step_progress_and_results():
    tm = QgsApplication.taskManager()
    if not S.get("training"):
        missed("training_progress", "no training task ran")
    else:
        yield from until(lambda: any(t.progress() >= 15 for t in tm.activeTasks()) or tm.countActiveTasks() == 0,
                         min(120, CFG["train_timeout_s"]))
        if tm.countActiveTasks():
            tw = _task_widget()
            if tw is not None and hasattr(tw, "click"):
                tw.click()  # the task manager's floating list
                yield 1
            tasks = [f"{t.description()} {t.progress():.0f} %" for t in tm.activeTasks()]
            say("tasks:", tasks)
            shot("training_progress", "Training as a background task: QGIS's task manager with its progress; "
                 "the map stays usable", None)
            if tw is not None and hasattr(tw, "click"):
                tw.click()
        else:
            missed("training_progress", "training ended before a progress screenshot")
        done = yield from until(lambda: tm.countActiveTasks() == 0, CFG["train_timeout_s"], every=2)
        if done is None:
            RESULT["notes"].append(f"training still running after {CFG['train_timeout_s']} s: canceled")
            for t in tm.activeTasks():
                t.cancel()
            yield from until(lambda: tm.countActiveTasks() == 0, 30)
        say(f"training took {time.monotonic() - S['train_started_at']:.0f} s")
    if S.get("training"):
        yield from capture_results("After training")


def capture_results(what):
    yield 3  # layers added, report opened
    S["results_done"] = True
    bar = iface.messageBar()
    msgs = [f"{i.title()} | {i.text()}" for i in bar.items()]
    say("message bar:", msgs)
    RESULT["message_bar"] = msgs
    RESULT["layers"] = [lyr.name() for lyr in QgsProject.instance().mapLayers().values()]
    shot("results", f"{what}: class map and confidence layers, their legend, the message bar and the "
         "report dock", None)
    dock = report_dock()
    if dock is not None:
        dock.hide()
    show_output_legend()
    yield 1
    shot("results_map", "The class map and confidence layers with their legend expanded (report dock closed)", None)
    if dock is not None:
        dock.show()
        yield 1


def show_output_legend():
    """Expand the plugin's output layers in the Layers panel and collapse the inputs, so the legend shows."""
    from qgis.core import QgsLayerTreeGroup, QgsLayerTreeLayer

    root = QgsProject.instance().layerTreeRoot()
    inputs = {S.get("raster"), S.get("labels")}
    for node in root.children():
        if isinstance(node, QgsLayerTreeGroup):
            node.setExpanded(True)
            for child in node.children():
                child.setExpanded(True)
        elif isinstance(node, QgsLayerTreeLayer):
            node.setExpanded(node.layer() not in inputs)


def report_dock():
    for d in iface.mainWindow().findChildren(QDockWidget):
        if "report" in (d.objectName() + d.windowTitle()).lower() and "hypersnn" in \
                (d.objectName() + d.windowTitle()).lower():
            return d
    return None


def step_report():
    dock = report_dock()
    if dock is None or not dock.isVisible():  # the plugin opens it after training; else the newest report
        folder = os.path.dirname(S.get("model_path") or os.path.join(CFG["work"], "run", "x"))
        cands = sorted((os.path.join(folder, f) for f in (os.listdir(folder) if os.path.isdir(folder) else [])
                        if f.endswith("_report.html")), key=os.path.getmtime)
        cands = cands[-1:] or ([CFG["reuse_report"]] if CFG.get("reuse_report") else [])
        plugin = _plugin()
        if plugin is not None and cands:
            plugin.show_report(cands[0])
            RESULT["notes"].append(f"report opened by the driver: {cands[0]}")
            yield 2
            dock = report_dock()
    if dock is None or not dock.isVisible():
        missed("report_dock", "no HyperSNN report dock")
        return
    dock.raise_()
    yield 1
    shot("report_dock", "The report dock at its default width (top of the report)", dock)
    from qgis.PyQt.QtWidgets import QTextBrowser

    browsers = dock.findChildren(QTextBrowser)
    if browsers:
        sb = browsers[0].verticalScrollBar()
        sb.setValue(sb.maximum() // 3)
        yield 1
        shot("report_dock_tables", "The report dock scrolled to its tables", dock)
        sb.setValue(sb.maximum())
        yield 1
        shot("report_dock_end", "The end of the report (model and timings)", dock)
        sb.setValue(0)


def _plugin():
    from qgis.utils import plugins

    return plugins.get("hypersnn")


def step_classify_dialog():
    dlg, why = yield from open_from_menu("classify", "ClassifyDialog")
    if dlg is None:
        missed("classify_dialog", why)
        return
    yield 1
    combo = attr(dlg, "raster_combo")
    if combo is not None:
        combo.setLayer(S["raster"])
    model = S.get("model_path") if os.path.exists(S.get("model_path") or "") else CFG.get("reuse_model")
    mf = attr(dlg, "model_file")
    if mf is not None and model:
        mf.setFilePath(model)
    yield 3
    shot("classify_dialog", "The Classify dialog from Raster > HyperSNN with the model and the sample", dlg)
    yield from shot_scrolled(dlg, "classify_dialog_scrolled", "The Classify dialog scrolled to its end")
    if S.get("results_done") or not model:
        close_dialog(dlg)
        yield 1
        return
    # no training result to show: classify with the model instead, so the results are still captured
    run_dir = os.path.join(CFG["work"], "classify")
    os.makedirs(run_dir, exist_ok=True)
    for name, fname in (("class_map_file", "indian_pines_classes.tif"),
                        ("confidence_file", "indian_pines_confidence.tif")):
        w = attr(dlg, name)
        if w is not None:
            w.setFilePath(os.path.join(run_dir, fname))
    RESULT["notes"].append(f"results from classifying with {model} (no training result)")
    tm = QgsApplication.taskManager()
    box = dlg.findChildren(QDialogButtonBox)
    ok = box[0].button(QDialogButtonBox.StandardButton.Ok) if box else None
    if ok is not None and ok.isEnabled():
        ok.click()
    else:
        dlg.accept()
    yield from until(lambda: tm.countActiveTasks() > 0 or not dlg.isVisible(), 20)
    if dlg.isVisible():
        missed("results", "the Classify dialog did not start: " + " ".join(
            f"{i.title()} {i.text()}" for i in (attr(dlg, "bar").items() if attr(dlg, "bar") else [])))
        close_dialog(dlg)
        return
    yield from until(lambda: tm.countActiveTasks() == 0, CFG["train_timeout_s"], every=1)
    yield from capture_results(f"After classifying with {os.path.basename(model)}")


def step_dependency_box():  # noqa: C901
    """The box a user without torch meets. torch IS installed here, so the driver makes the dependency check
    report it missing (and disables pip) for this one step: the box itself is the plugin's real code."""
    try:
        from hypersnn.plugin import deps
    except Exception as e:  # noqa: BLE001
        missed("dependency_box", f"hypersnn.plugin.deps does not import: {e}")
        return
    saved = {}
    try:
        import hypersnn.ui.deps_dialog as dd
    except Exception:  # noqa: BLE001
        dd = None

    def fake_find(module, _orig=getattr(deps, "_find", None)):
        if module == "torch":
            return "not installed"
        return _orig(module) if _orig else None

    def no_pip(*a, **k):
        raise RuntimeError("screenshot run: pip is not run")

    for mod, name, value in ((deps, "_find", fake_find), (deps, "install", no_pip),
                             (dd, "start_install", lambda *a, **k: None)):
        if mod is not None and hasattr(mod, name):
            saved[(mod, name)] = getattr(mod, name)
            setattr(mod, name, value)
    try:
        act = find_action("train")
        before = {id(w) for w in visible_top()}
        trigger_later(act)
        box = yield from until(lambda: [w for w in visible_top() if id(w) not in before and
                                        isinstance(w, QDialog)], 30)
        if not box:
            missed("dependency_box", "no dialog appeared with torch reported missing")
            return
        box = box[-1]
        S["claimed"].add(id(box))
        if "TrainDialog" in class_names(box):
            missed("dependency_box", "the Train dialog opened although torch was reported missing")
            close_dialog(box)
            return
        yield 1
        shot("dependency_box", "The dependency box a QGIS without torch shows (torch reported missing for the "
             "screenshot)", box)
        details = [b for b in box.findChildren(QAbstractButton) if "detail" in b.text().lower()]
        if details:
            details[0].click()
            yield 1
            shot("dependency_box_details", "The dependency box with its details (the exact pip command)", box)
        close_dialog(box)
        yield 1
        for w in visible_top("TrainDialog"):  # answering No must not open the dialog, but never leave it open
            close_dialog(w)
    finally:
        for (mod, name), value in saved.items():
            setattr(mod, name, value)


ALGORITHMS = ["train", "classify", "sample", "assess", "energy", "workflow", "batch"]


def step_processing():
    mw = iface.mainWindow()
    tb = mw.findChild(QDockWidget, "ProcessingToolbox")
    if tb is None:
        missed("processing_toolbox", "no Processing toolbox dock")
    else:
        tb.show()
        tb.raise_()
        yield 1
        views = tb.findChildren(QTreeView)
        if views:
            view = views[0]
            model = view.model()
            for r in range(model.rowCount()):
                idx = model.index(r, 0)
                if "hypersnn" in str(model.data(idx)).lower():
                    view.expand(idx)
                    view.scrollTo(idx, QTreeView.ScrollHint.PositionAtTop)
        yield 1
        shot("processing_toolbox", "The Processing toolbox with the HyperSNN provider", tb)
    S["active_layer"] = iface.activeLayer()
    import processing

    for alg in ALGORITHMS:
        name = f"processing_{alg}"
        try:
            if QgsApplication.processingRegistry().algorithmById(f"hypersnn:{alg}") is None:
                missed(name, f"no algorithm hypersnn:{alg}")
                continue
            dlg = processing.createAlgorithmDialog(f"hypersnn:{alg}", {})
        except Exception as e:  # noqa: BLE001
            missed(name, f"{type(e).__name__}: {e}")
            continue
        if dlg is None:
            missed(name, "no dialog")
            continue
        dlg.show()
        yield 2
        shot(name, f"Processing > HyperSNN > {dlg.windowTitle()} as opened from the toolbox", dlg)
        dlg.close()
        yield 0.5
    if tb is not None:
        tb.hide()


def step_quit():
    for w in visible_top():
        if isinstance(w, QDialog):
            close_dialog(w)
    for t in QgsApplication.taskManager().activeTasks():
        t.cancel()
    QgsProject.instance().clear()  # no "temporary layers will be lost" question on exit
    QgsProject.instance().setDirty(False)
    RESULT["done"] = True
    save_result()
    yield 1
    QTimer.singleShot(20000, lambda: os._exit(0))  # exit must not hang on a question
    QgsProject.instance().setDirty(False)
    iface.actionExit().trigger()


STEPS = [step_setup, step_menu, step_train_dialog, step_progress_and_results, step_report, step_classify_dialog,
         step_dependency_box, step_processing, step_quit]


class Runner:
    """Runs the step generators one after another on QTimers; a failing step is logged and skipped."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.gen = None
        self.name = ""

    def tick(self):
        while True:
            if self.gen is None:
                if not self.steps:
                    return
                step = self.steps.pop(0)
                self.name = step.__name__
                say("step", self.name)
                try:
                    self.gen = step()
                except Exception:  # noqa: BLE001
                    missed(self.name, traceback.format_exc())
                    continue
                if self.gen is None:
                    continue
            try:
                wait = next(self.gen)
            except StopIteration:
                self.gen = None
                continue
            except Exception:  # noqa: BLE001
                missed(self.name, traceback.format_exc())
                self.gen = None
                continue
            QTimer.singleShot(int(1000 * float(wait)), self.tick)
            return


def _deadline():
    say(f"deadline of {CFG['deadline_s']} s reached; quitting")
    RESULT["notes"].append(f"the run hit its deadline of {CFG['deadline_s']} s in step {RUNNER.name}")
    save_result()
    os._exit(3)


os.makedirs(OUT, exist_ok=True)
save_result()
RUNNER = Runner(STEPS)
_deadline_timer = QTimer()
_deadline_timer.setSingleShot(True)
_deadline_timer.timeout.connect(_deadline)
_deadline_timer.start(int(1000 * CFG["deadline_s"]))
QTimer.singleShot(int(1000 * CFG.get("start_delay_s", 3)), RUNNER.tick)
