"""What a user reads after a run (issue 20): an untrustworthy result is a warning with every reason behind "Show
more", a failure has one "HyperSNN" prefix, the task says its stage, epoch and validation accuracy, a cancel is
not buried under QGIS's "Task failed", the report reads in its 433-px dock, the Classify dialog never proposes
or silently replaces existing files, the dependency box names QGIS's real Python, the default palette follows the
class names, and Assess / Sample / Energy are in the plugin menu."""
import os
import shutil
import subprocess
import sys

from qgis.core import Qgis, QgsApplication, QgsProject, QgsRasterLayer, QgsTask
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtWidgets import QMessageBox, QToolButton

from test_tasks import _done, _start, _train_dialog


class _BarIface:
    """QGIS's real message bar (the pytest-qgis iface only records text): items keep title, level and the
    "Show more" button."""

    def __init__(self):
        self.bar = QgsMessageBar()

    def messageBar(self):  # noqa: N802 - the iface's name
        return self.bar

    def mainWindow(self):  # noqa: N802
        return None


def _post_qgis_notices(iface):
    """What QGIS 3.22's QgisApp::onTaskCompleteShowNotify does after a task's finished(): "Task complete" or
    "Task failed" with the task's description, on top of the bar. Returns the slot (disconnect it after)."""
    def notice(task_id, status):
        t = QgsApplication.taskManager().task(task_id)
        if t is None:
            return
        if status == QgsTask.TaskStatus.Complete:
            iface.bar.pushMessage("Task complete", t.description(), level=Qgis.MessageLevel.Info, duration=0)
        elif status == QgsTask.TaskStatus.Terminated:
            iface.bar.pushMessage("Task failed", t.description(), level=Qgis.MessageLevel.Critical, duration=0)

    QgsApplication.taskManager().statusChanged.connect(notice)
    return notice


def _more(item) -> bool:
    return any("more" in b.text().lower() for b in item.findChildren(QToolButton))


# ------------------------------------------------------------------ message bar


def test_untrustworthy_model_is_a_warning_with_all_reasons_and_task_shows_stage_and_validation(
        plugin, layers, tmp_path, wait, qgis_iface):
    """A tiny run whose validation pixels are below the minimum: the bar says Warning, not Success, with one
    "HyperSNN" prefix and every trust warning behind "Show more"; while it ran, the task's description (the Task
    Manager's text) named the stage and the epoch, and the validation accuracy where there is one."""
    from hypersnn.plugin.tasks import TrainTask

    iface = _BarIface()
    dlg = _train_dialog(qgis_iface, layers, tmp_path)
    dlg.classify_check.setChecked(False)
    notice = _post_qgis_notices(iface)
    try:
        task = _start(plugin, TrainTask(dlg.build_job(), iface))
        seen = []
        wait(lambda: seen.append(task.description()) or _done(task), 120, "the training task")
        assert task.status() == QgsTask.TaskStatus.Complete, task.error
        assert task.description() == "HyperSNN: Train on scene.tif"  # the stage is gone once it ended
        result = task.result
        wait(lambda: [i for i in iface.bar.items() if "cannot be trusted" in i.text()]
             and not [i for i in iface.bar.items() if i.title() == "Task complete"], 5, "QGIS's notice to go")
    finally:
        QgsApplication.taskManager().statusChanged.disconnect(notice)
    assert any(d.startswith("HyperSNN: Train on scene.tif: CNN epoch ") for d in seen), sorted(set(seen))[:8]
    assert any(d.startswith("HyperSNN: Train on scene.tif: SNN epoch ") for d in seen), sorted(set(seen))[:8]
    # with validation pixels the engine logs each epoch's accuracy (core/training/trainer.py's line), which the text shows
    other = TrainTask(dlg.build_job(), iface)
    other._log("snn epoch 3/10: loss 0.1234 train 0.9000 val 0.8412")
    other._progress(0.5, "SNN epoch 4/10")
    other._show_stage()
    assert other.description() == ("HyperSNN: Train on scene.tif: SNN epoch 4/10; validation 84.1 % after SNN "
                                   "epoch 3")
    trust = result.summary["trust_warnings"]
    assert trust
    items = iface.bar.items()
    assert items and not [i for i in items if i.level() == Qgis.MessageLevel.Success]
    warn = [i for i in items if i.level() == Qgis.MessageLevel.Warning and "cannot be trusted" in i.text()]
    assert len(warn) == 1 and warn[0].title() == "HyperSNN" and not warn[0].text().startswith("HyperSNN")
    assert _more(warn[0])
    assert iface.bar.currentItem() is warn[0]  # on top: not hidden behind QGIS's "Task complete" (3.22)


def test_failure_has_one_prefix_and_details_and_cancel_is_not_buried(plugin, trained_model, layers, scene_dir,
                                                                     tmp_path, wait, qgis_iface):
    from hypersnn.plugin.tasks import ClassifyTask, TrainTask
    from robust_plugin import classify_job

    iface = _BarIface()
    bad = _start(plugin, ClassifyTask(classify_job(scene_dir / "other.tif", str(trained_model), tmp_path / "b.tif"),
                                      iface=iface))
    wait(lambda: _done(bad), 60, "the failing classify task")
    (item,) = [i for i in iface.bar.items() if i.level() == Qgis.MessageLevel.Critical]
    assert item.title() == "HyperSNN" and "HyperSNN" not in item.text(), item.text()
    assert item.text().startswith("Classify other.tif failed: ") and "has 10 bands" in item.text()
    assert len(item.text()) <= 200 and _more(item)  # two lines in the bar, the whole text behind "Show more"
    iface.bar.clearWidgets()

    # QGIS 3.22 (QgisApp::onTaskCompleteShowNotify) posts "Task failed" with the task's description after a
    # terminated task's finished(); the same notice is posted here the same way
    def qgis_notice(task_id, status):
        t = QgsApplication.taskManager().task(task_id)
        if status == QgsTask.TaskStatus.Terminated and t is not None:
            iface.bar.pushMessage("Task failed", t.description(), level=Qgis.MessageLevel.Critical, duration=0)

    QgsApplication.taskManager().statusChanged.connect(qgis_notice)
    try:
        (tmp_path / "run").mkdir()
        dlg = _train_dialog(qgis_iface, layers, tmp_path / "run", train={"cnn_epochs": 500, "snn_epochs": 50})
        task = _start(plugin, TrainTask(dlg.build_job(), iface))
        wait(lambda: task.progress() >= 3, 60, "training to start")
        task.cancel()
        wait(lambda: _done(task), 30, "the canceled task")
        for _ in range(5):
            QgsApplication.processEvents()
    finally:
        QgsApplication.taskManager().statusChanged.disconnect(qgis_notice)
    texts = [(i.title(), i.text()) for i in iface.bar.items()]
    assert not [t for t in texts if t[0] == "Task failed"], texts
    assert iface.bar.currentItem().text() == "Train on scene.tif: canceled; no output was written.", texts


# ------------------------------------------------------------------ report dock


def _long_report():
    """A report as a 16-class run writes it: long class names, 3-digit counts, model layers, timings."""
    import numpy as np

    from hypersnn.core.assess.metrics import assess
    from hypersnn.core.training.trust import trust_warnings

    names = ["Alfalfa", "Corn-notill", "Corn-mintill", "Corn", "Grass-pasture", "Grass-trees", "Grass-pasture-mowed",
             "Hay-windrowed", "Oats", "Soybean-notill", "Soybean-mintill", "Soybean-clean", "Wheat", "Woods",
             "Buildings-Grass-Trees-Drives", "Stone-Steel-Towers"]
    rng = np.random.default_rng(0)
    ref = np.repeat(np.arange(1, 17), 300)
    pred = np.where(rng.random(ref.size) < 0.9, ref, rng.integers(1, 17, ref.size))
    acc = assess(ref, pred, list(range(1, 17))).to_dict(names)
    layers = [{"name": "conv3d_1", "kind": "conv3d", "in": 1, "out": 8, "kernel": [7, 1, 1], "role": "conv"},
              {"name": "dense_1", "kind": "conv2d", "in": 32, "out": 128, "kernel": [7, 7], "role": "dense"},
              {"name": "output", "kind": "conv2d", "in": 128, "out": 16, "kernel": [1, 1], "role": "output"}]
    neurons = [{"threshold": 4.2092, "leak": 1.0, "leak_mode": "trained"},
               {"threshold": 61.695, "leak": 0.99993, "leak_mode": "trained"}]
    split = {"method": "random", "description": "Stratified random split: 30% of each class's labelled pixels to "
             "training, the rest to test", "seed": 0, "val_fraction": 0.1, "train_fraction": 0.3, "patch_size": 11,
             "guard_radius": 5, "dropped_for_leakage": 0,
             "validation_check": {"fallback": True, "pixels": 309, "units": None, "min_pixels": 50, "min_units": None,
                                  "per_class": True, "short_classes": [1, 7, 9]}}
    rep = {"title": "Indian Pines", "accuracy": acc, "split_protocol": split,
           "model": {"architecture": "hybrid", "patch_size": 11, "classes": [f"{i}: {n}" for i, n in
                                                                            enumerate(names, 1)],
                     "layers": layers, "neurons": neurons},
           "timing": {"prepare": 0.3047, "cnn": 75.366, "snn": 193.83, "classify_pixels_per_s": 13730.3,
                      "total": 287.69}}
    rep["trust_warnings"] = trust_warnings(rep)
    return rep


def _breaks_inside_words(doc):
    """Every place where a table cell's text wraps between two letters or digits ("Cl|ass", "9|31")."""
    from qgis.PyQt.QtGui import QTextTable

    doc.documentLayout().documentSize()  # lay out the whole document
    bad = []
    frames = [doc.rootFrame()]
    while frames:
        f = frames.pop()
        frames += f.childFrames()
        if not isinstance(f, QTextTable):
            continue
        for r in range(f.rows()):
            for c in range(f.columns()):
                cell = f.cellAt(r, c)
                block, end = cell.firstCursorPosition().block(), cell.lastCursorPosition().position()
                while block.isValid() and block.position() <= end:
                    text, lay = block.text(), block.layout()
                    for i in range(1, lay.lineCount()):
                        s = lay.lineAt(i).textStart()
                        if 0 < s < len(text) and text[s - 1].isalnum() and text[s].isalnum():
                            bad.append(f"{text[:s]}|{text[s:]}")
                    block = block.next()
    return bad


def test_report_reads_in_its_dock_at_433_px(tmp_path, qgis_app):
    from hypersnn.core.report.html_report import render_html
    from hypersnn.ui.report_dock import ReportDock

    path = tmp_path / "r_report.html"
    path.write_text(render_html(_long_report()), encoding="utf-8")
    dock = ReportDock(None)
    dock.show(str(path))
    dock.dock.setFloating(True)
    dock.dock.resize(433, 800)
    for _ in range(5):
        QgsApplication.processEvents()
    dock.browser._refit_now()  # what the resize timer does a moment later
    view = dock.browser
    assert 380 <= view.viewport().width() <= 433
    assert _breaks_inside_words(view.document()) == []
    assert view.horizontalScrollBar().maximum() > 0  # the confusion matrix scrolls sideways instead
    text = view.toPlainText()
    assert text.index("This result cannot be trusted") < text.index("Summary")
    assert '"threshold"' not in text and "{" not in text  # the model as tables, not raw JSON
    assert "Threshold" in text and "7 x 1 x 1" in text and "61.695" in text
    assert "4.8 min" in text and "1.3 min" in text and "0.3 s" in text and "13,730 pixels / s" in text
    assert "Validation check min pixels" in text  # the split's settings read as words too
    dock.dock.resize(300, 800)  # a dock dragged narrower still: names stay whole, the view scrolls
    for _ in range(5):
        QgsApplication.processEvents()
    dock.browser._refit_now()
    assert _breaks_inside_words(view.document()) == []
    dock.close()


# ------------------------------------------------------------------ classify dialog


def test_classify_dialog_proposes_free_names_and_asks_before_replacing(trained_model, scene_dir, tmp_path,
                                                                        qgis_new_project, monkeypatch, clean_settings):
    from hypersnn.ui.classify_dialog import ClassifyDialog

    shutil.copy(scene_dir / "scene.tif", tmp_path / "scene.tif")
    (tmp_path / "scene_classes.tif").write_bytes(b"the training run's class map")
    (tmp_path / "scene_confidence.tif").write_bytes(b"the training run's confidence")
    lyr = QgsRasterLayer(str(tmp_path / "scene.tif"), "scene")
    QgsProject.instance().addMapLayer(lyr)
    dlg = ClassifyDialog(None)
    dlg.raster_combo.setLayer(lyr)
    dlg.model_file.setFilePath(str(trained_model))
    assert dlg.class_map_file.filePath() == str(tmp_path / "scene_classes_2.tif")
    assert dlg.confidence_file.filePath() == str(tmp_path / "scene_confidence_2.tif")
    assert dlg.validate() is None
    assert dlg.help_button in dlg.buttons.buttons()  # Help opens the documentation (ui/common.add_help_button)

    asked = []

    def answer(button):
        def exec_(box):
            asked.append(box.text())
            return button
        return exec_

    dlg.class_map_file.setFilePath(str(tmp_path / "scene_classes.tif"))  # the user picks the existing map
    monkeypatch.setattr(QMessageBox, "exec", answer(QMessageBox.StandardButton.No))
    dlg.accept()
    assert asked and "scene_classes.tif" in asked[0] and dlg.result() != dlg.DialogCode.Accepted
    monkeypatch.setattr(QMessageBox, "exec", answer(QMessageBox.StandardButton.Yes))
    dlg.accept()
    assert dlg.result() == dlg.DialogCode.Accepted and len(asked) == 2
    assert (tmp_path / "scene_classes.tif").read_bytes() == b"the training run's class map"  # asked, not written
    QgsProject.instance().removeMapLayer(lyr.id())


# ------------------------------------------------------------------ dependency box


def test_dependency_box_names_qgis_python_not_a_shim_on_path(tmp_path, monkeypatch, qgis_app):
    """Inside QGIS sys.executable is a guess from PATH (measured: a pyenv shim of another Python). The box names
    the Python that runs QGIS's code, proposes the CPU-only torch index, and runs nothing unless asked."""
    from hypersnn.core import interpreter
    from hypersnn.plugin import deps
    from hypersnn.ui import deps_dialog

    shim = tmp_path / "shims" / "python3"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 3.12\necho /home/u/.pyenv/versions/3.12.1\n")
    shim.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(shim))
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    exe = deps.python_executable()
    assert exe != str(shim)
    assert interpreter.python_identity(exe) == interpreter.python_identity(None)
    out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    assert out.stdout.strip() == str(tuple(sys.version_info[:2]))

    torch = [deps.Missing("torch", "torch", "the neural network engine")]
    cmd = deps.pip_command(torch)
    assert "--index-url https://download.pytorch.org/whl/cpu" in cmd and cmd.endswith(" torch")
    box = deps_dialog.dependency_box(None, torch)
    assert exe in box.informativeText() and "download.pytorch.org/whl/cpu" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Close)  # Enter installs nothing
    assert box.button(QMessageBox.StandardButton.Yes).text() == "Install now"
    started = []
    monkeypatch.setattr(deps_dialog, "start_install", lambda *a, **k: started.append(a))
    monkeypatch.setattr(deps, "missing_packages", lambda *a, **k: torch)
    monkeypatch.setattr(QMessageBox, "exec", lambda b: QMessageBox.StandardButton.Close)
    assert deps_dialog.ensure_dependencies(None, None) is False and not started


def test_dependency_box_from_classify_offers_the_onnx_route(monkeypatch, qgis_app):
    from hypersnn.plugin import deps
    from hypersnn.ui import deps_dialog

    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    missing = deps.missing_packages(purpose="classify")
    assert "torch" in [m.module for m in missing]
    box = deps_dialog.dependency_box(None, missing, "classify")
    assert "onnx and onnxruntime, which suffice to classify" in box.text()
    assert [m.module for m in box.to_install] == ["onnxruntime"] and "torch" not in box.informativeText()
    assert "onnx and onnxruntime suffice" in deps.explain(missing, "classify")


# ------------------------------------------------------------------ palette, layer names, menu


def test_class_map_colours_follow_class_names_and_layer_names_are_short(tmp_path, qgis_new_project):
    """Without a style or class table, water is blue, trees and low vegetation green, roofs red, pavement grey and
    soil brown (the Potsdam classes); colours given by the user win; long file stems are shortened."""
    from hypersnn.core.data.labels import labels_from_array
    from hypersnn.plugin.layers import add_class_map

    import numpy as np

    names = {1: "roof", 2: "pavement", 3: "soil", 4: "low vegetation", 5: "tree", 6: "water"}
    arr = np.arange(1, 7, dtype=np.int32).reshape(2, 3).repeat(4, 0).repeat(4, 1)
    labels = labels_from_array(arr, names)
    path = tmp_path / "enmap_potsdam_west_landcover_subset_classes.tif"
    _write_gtiff(path, arr)
    lyr = add_class_map(str(path), labels.class_table())
    colors = {c.value: c.color for c in lyr.renderer().classes()}
    r, g, b = (lambda c: (c.red(), c.green(), c.blue()))(colors[6])
    assert b > r + 80 and b > g  # water blue
    for v in (4, 5):
        c = colors[v]
        assert c.green() > c.red() + 40 and c.green() > c.blue() + 40  # vegetation green
    assert colors[1].red() > colors[1].green() + 100  # roofs red
    c = colors[2]
    assert max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()) < 25  # pavement grey
    c = colors[3]
    assert c.red() > c.green() > c.blue()  # soil brown
    assert lyr.name() == "enmap_potsdam_w… classes" and len(lyr.name()) <= 24
    own = labels_from_array(arr, names, {6: (255, 0, 255)})
    assert own.classes[5].color == (255, 0, 255)  # a colour from the user's table or style is kept


def _write_gtiff(path, arr):
    from osgeo import gdal, osr

    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[1], arr.shape[0], 1, gdal.GDT_Byte)
    ds.SetGeoTransform((500000, 10, 0, 5800000, 0, -10))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(arr)
    ds = None


def test_assess_sample_and_energy_are_in_the_plugin_menu(plugin, qgis_iface, monkeypatch):
    from qgis.gui import QgsBrowserGuiModel

    model = QgsBrowserGuiModel()  # the Processing dialog asks the interface for it (pytest-qgis's has none)
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: model, raising=False)
    names = {a.objectName(): a for a in plugin.actions}
    for key in ("assess", "sample", "energy"):
        a = names[f"hypersnn_{key}"]
        dlg = plugin.open_algorithm(key)
        assert dlg.algorithm().id() == f"hypersnn:{key}" and dlg.isVisible()
        dlg.close()
        assert a.text().endswith("…")
