"""Training and classification run in QgsTasks: a run completes and adds styled layers and a report;
cancel stops within about a second and leaves no partial output; errors reach the message bar."""
import os
import time
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsPalettedRasterRenderer,
    QgsProject,
    QgsSingleBandPseudoColorRenderer,
    QgsTask,
)

import data as D
from robust_plugin import classify_job  # noqa: E402


def _done(task):
    return task.status() in (QgsTask.TaskStatus.Complete, QgsTask.TaskStatus.Terminated) and task.on_done is None


def _start(plugin, task):
    """plugin.start_task, with a marker that finished() (main thread) has run."""
    plugin.start_task(task)
    orig = task.on_done

    def done(t):
        orig(t)
        t.on_done = None

    task.on_done = done
    return task


def _train_dialog(qgis_iface, layers, out, **cfg):
    from hypersnn.ui.train_dialog import TrainDialog

    dlg = TrainDialog(qgis_iface)
    dlg.raster_combo.setLayer(layers["raster"])
    dlg.poly_combo.setLayer(layers["train"])
    dlg.field_combo.setField("klass")
    dlg.set_config(D.tiny_config(**cfg))
    dlg.model_file.setFilePath(str(out / "model.hsnn"))
    dlg.class_map_file.setFilePath(str(out / "classes.tif"))
    dlg.confidence_file.setFilePath(str(out / "confidence.tif"))
    assert dlg.validate() is None, dlg.validate()
    return dlg


def test_train_task_completes_and_adds_styled_layers(plugin, layers, qgis_iface, tmp_path, wait, clean_settings):
    qgis_iface.messageBar().clear_messages()
    dlg = _train_dialog(qgis_iface, layers, tmp_path)
    job = dlg.build_job()
    assert job.labels.features[0].geometry["coordinates"][0][0][0] > 400000  # EPSG:4326 polygons -> UTM
    from hypersnn.plugin.tasks import TrainTask

    task = _start(plugin, TrainTask(job, qgis_iface, show_report=plugin.show_report))
    progress = []
    task.progressChanged.connect(progress.append)
    wait(lambda: _done(task), 120, "the training task")
    assert task.status() == QgsTask.TaskStatus.Complete, task.error
    assert progress and max(progress) >= 99
    assert task not in plugin.tasks
    for name in ("model.hsnn", "classes.tif", "confidence.tif", "classes.qml", "confidence.qml",
                 "classes_report.html", "classes_report.json", "classes_report_per_class.csv",
                 "classes_report_confusion.csv"):
        assert (tmp_path / name).exists(), name
    proj = QgsProject.instance()
    cls = proj.mapLayersByName("classes")[0]
    conf = proj.mapLayersByName("confidence")[0]
    r = cls.renderer()
    assert isinstance(r, QgsPalettedRasterRenderer)
    assert [c.value for c in r.classes()] == [1, 2, 3]
    assert [c.label for c in r.classes()] == ["1: Class 1", "2: Class 2", "3: Class 3"]
    assert isinstance(conf.renderer(), QgsSingleBandPseudoColorRenderer)
    assert (conf.renderer().classificationMin(), conf.renderer().classificationMax()) == (0.0, 1.0)
    grp = proj.layerTreeRoot().findGroup("HyperSNN")
    assert grp is not None and {n.layer() for n in grp.findLayers()} == {cls, conf}
    bar = qgis_iface.messageBar()
    trust = task.result.summary["trust_warnings"]
    assert trust, "the tiny run validates on too few pixels: its result must be flagged"
    # a result that cannot be trusted is a warning, never a green success, and the report says so at its top
    warned = bar.get_messages(Qgis.MessageLevel.Warning)
    assert any("Model trained, but the result cannot be trusted" in m and trust[0][:40] in m for m in warned), warned
    assert not any("Model trained" in m for m in bar.get_messages(Qgis.MessageLevel.Success))
    assert "This result cannot be trusted" in Path(plugin.report.path).read_text()
    assert plugin.report.path == str(tmp_path / "classes_report.html")
    assert "Overall accuracy" in plugin.report.browser.toPlainText()
    from qgis.PyQt.QtCore import QUrl
    from qgis.PyQt.QtGui import QImage, QTextDocument

    fig = plugin.report.browser.document().resource(QTextDocument.ResourceType.ImageResource, QUrl("hypersnn-figure-0.png"))
    assert isinstance(fig, QImage) and not fig.isNull()  # the report's figures show in the dock


def test_train_task_with_validation_polygons(plugin, layers, qgis_iface, tmp_path, wait):
    from hypersnn.plugin.tasks import TrainTask

    dlg = _train_dialog(qgis_iface, layers, tmp_path)
    dlg.classify_check.setChecked(False)
    dlg.val_check.setChecked(True)
    dlg.val_combo.setLayer(layers["valid"])
    dlg.val_field_combo.setField("klass")
    job = dlg.build_job()
    task = _start(plugin, TrainTask(job, qgis_iface))
    wait(lambda: _done(task), 120, "the training task")
    assert task.status() == QgsTask.TaskStatus.Complete, task.error
    import json

    rep = json.loads((tmp_path / "model_report.json").read_text())
    assert rep["split_protocol"]["method"] == "given"
    assert rep["accuracy"]["n_test"] == 3 * 7 * 6  # every validation pixel tests
    assert not (tmp_path / "classes.tif").exists()


def test_cancel_stops_quickly_and_leaves_nothing(plugin, layers, qgis_iface, tmp_path, wait):
    from hypersnn.plugin.tasks import TrainTask

    qgis_iface.messageBar().clear_messages()
    dlg = _train_dialog(qgis_iface, layers, tmp_path, train={"cnn_epochs": 500, "snn_epochs": 50})
    task = _start(plugin, TrainTask(dlg.build_job(), qgis_iface))
    wait(lambda: task.progress() >= 3, 60, "training to start")
    t0 = time.monotonic()
    task.cancel()
    wait(lambda: _done(task), 30, "the canceled task")
    assert time.monotonic() - t0 < 2.0
    assert task.status() == QgsTask.TaskStatus.Terminated and task.canceled_by_user
    assert sorted(os.listdir(tmp_path)) == []  # no model, map, report or temporary file
    assert any("canceled" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Info))
    assert not QgsProject.instance().mapLayersByName("classes")


def test_classify_task_and_mismatch_error(plugin, trained_model, layers, scene_dir, qgis_iface, tmp_path, wait):
    from hypersnn.plugin.tasks import ClassifyTask

    qgis_iface.messageBar().clear_messages()
    job = classify_job(scene_dir / "scene.tif", str(trained_model), tmp_path / "c.tif", tmp_path / "conf.tif",
                       tmp_path / "p.tif", energy_map=tmp_path / "e.tif")
    task = _start(plugin, ClassifyTask(job, iface=qgis_iface))
    wait(lambda: _done(task), 60, "the classify task")
    assert task.status() == QgsTask.TaskStatus.Complete, task.error
    assert isinstance(QgsProject.instance().mapLayersByName("c")[0].renderer(), QgsPalettedRasterRenderer)
    assert QgsProject.instance().mapLayersByName("p")[0].bandCount() == 3
    energy = QgsProject.instance().mapLayersByName("e")[0]  # where the SNN spends its energy, styled
    assert energy.bandCount() == 2 and isinstance(energy.renderer(), QgsSingleBandPseudoColorRenderer)
    assert energy.renderer().band() == 1 and energy.renderer().classificationMax() > 0
    assert any("mJ (complete convention)" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Success))
    # a raster with other bands: the task fails with the engine's clear message, and writes nothing
    bad = _start(plugin, ClassifyTask(classify_job(scene_dir / "other.tif", str(trained_model), tmp_path / "bad.tif"),
                                      iface=qgis_iface))
    wait(lambda: _done(bad), 60, "the failing classify task")
    assert bad.status() == QgsTask.TaskStatus.Terminated
    msgs = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert any("has 10 bands but the model expects 12" in m for m in msgs), msgs
    assert not (tmp_path / "bad.tif").exists()
    assert QgsApplication.taskManager().countActiveTasks() == 0


def test_dialog_and_task_classify_without_torch(plugin, trained_model, layers, scene_dir, qgis_iface, tmp_path, wait,
                                                monkeypatch):
    """QGIS whose Python has no torch: the classify dialog reads the model (ONNX Runtime), offers neither the CNN
    mode nor the energy map, and its task writes the class map that the torch engine writes."""
    import sys

    import numpy as np
    from osgeo import gdal

    from hypersnn.plugin.tasks import ClassifyTask
    from hypersnn.ui.classify_dialog import ClassifyDialog

    with_torch = _start(plugin, ClassifyTask(classify_job(scene_dir / "scene.tif", str(trained_model),
                                                          tmp_path / "torch.tif"), iface=qgis_iface))
    wait(lambda: _done(with_torch), 60, "the torch classify task")
    assert with_torch.result.engine == "torch"
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails, as where it is not installed
    assert plugin.ready("classify")  # no message box: classification needs no torch here
    dlg = ClassifyDialog(qgis_iface)
    dlg.model_file.setFilePath(str(trained_model))
    assert dlg.model is not None and dlg.model.engine == "onnx", dlg.model_error
    assert not dlg.energy_check.isEnabled() and not dlg.mode_combo.isEnabled()
    dlg.class_map_file.setFilePath(str(tmp_path / "onnx.tif"))
    job = dlg.job()
    assert job.energy_map is None
    task = _start(plugin, ClassifyTask(job, iface=qgis_iface))
    wait(lambda: _done(task), 60, "the torch-free classify task")
    assert task.status() == QgsTask.TaskStatus.Complete, task.error
    assert task.result.engine == "onnx"
    a, b = (gdal.Open(str(tmp_path / n)).ReadAsArray() for n in ("onnx.tif", "torch.tif"))
    assert np.array_equal(a, b) and (a > 0).mean() > 0.9
