"""Robustness matrix (issue 5), QGIS side: bad training data through the plugin. Processing
(`hypersnn:train`) refuses each case with a message naming the layer, field or class at fault and writes
nothing; the train dialog and TrainTask report the same reasons in the message bar. (Polygons in another
CRS are reprojected: every training test here and in test_tasks.py uses EPSG:4326 polygons.)"""
import re

import pytest
from osgeo import ogr
from qgis.core import QgsProcessingException, QgsProject, QgsTask, QgsVectorLayer

import data as D
from robust_plugin import (Feedback, done, listing, make_polygon_values, mark_finished, no_active_tasks,  # noqa: F401
                           one_critical, one_torch_thread, train_dialog, wait_for)

OUTSIDE = [((50, 50, 60, 60), 1), ((70, 70, 80, 80), 2)]
ONE_PIXEL_CLASS = D.TRAIN_BOXES + [((15, 12, 16, 13), 4)]

# case -> (polygons as (pixel box, value), class field, field type, message the user gets)
CASES = {
    "polygons wholly outside the raster": (
        OUTSIDE, "klass", ogr.OFTInteger,
        r"no polygon covers a pixel of raster .*scene\.tif; check that the polygons overlap the raster and that "
        r"both have the right CRS"),
    "empty layer": ([], "klass", ogr.OFTInteger, r"layer 'polys' has no feature with a geometry"),
    "class field missing": (D.TRAIN_BOXES, "klass", ogr.OFTInteger,
                            r"Class field 'landuse' not found in layer 'polys'; available fields: fid, klass"),
    "class field all null": ([(b, None) for b, _ in D.TRAIN_BOXES], "klass", ogr.OFTInteger,
                             r"Class field 'klass' of layer 'polys' is empty \(null\) in every feature"),
    "class field mixes numbers and text": (
        [(D.TRAIN_BOXES[0][0], "3"), (D.TRAIN_BOXES[1][0], "forest")], "cls", ogr.OFTString,
        r"the class field mixes numbers \(3\) and text \('forest'\); use one or the other"),
    "one class only": ([D.TRAIN_BOXES[0]], "klass", ogr.OFTInteger,
                       r"needs labelled pixels of at least 2 classes; the labels have only class 1"),
    "a class with one pixel": (ONE_PIXEL_CLASS, "klass", ogr.OFTInteger,
                               r"Class 4 has 1 labelled pixel; a random split needs at least 2 per class"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_training_polygons_are_refused_by_processing_naming_the_layer_field_or_class(plugin, scene_dir,
                                                                                        tmp_path, case):
    import processing

    items, field, ftype, match = CASES[case]
    polys = make_polygon_values(tmp_path / "polys.gpkg", items, field=field, field_type=ftype)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException, match=match):
        processing.run("hypersnn:train", {
            "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(polys),
            "CLASS_FIELD": "landuse" if case == "class field missing" else field,
            "CONFIG": str(scene_dir / "tiny.json"), "OUTPUT_MODEL": str(out / "m.hsnn"),
            "OUTPUT_REPORT": str(out / "report.html")})
    assert listing(out) == []


def test_polygons_wholly_outside_are_named_by_id_when_others_train(plugin, scene_dir, tmp_path):
    import processing

    polys = make_polygon_values(tmp_path / "polys.gpkg", D.TRAIN_BOXES + [((50, 50, 60, 60), 2)])
    fb = Feedback()  # the engine's warnings reach the Processing log as "warning: ..."
    res = processing.run("hypersnn:train", {
        "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(polys), "CLASS_FIELD": "klass",
        "CONFIG": str(scene_dir / "tiny.json"), "OUTPUT_MODEL": str(tmp_path / "m.hsnn")}, feedback=fb)
    assert (tmp_path / "m.hsnn").exists() and 0 <= res["OA"] <= 1
    assert any(re.search(r"warning: .*1 feature\(s\) lie wholly outside the raster .*feature ids: 4\)", m)
               for m in fb.infos), fb.infos


def _dialog(plugin, iface, scene_dir, polys, out, field="klass"):
    from qgis.core import QgsRasterLayer

    r = QgsRasterLayer(str(scene_dir / "scene.tif"), "scene")
    p = QgsVectorLayer(str(polys), "polys", "ogr")
    assert r.isValid() and p.isValid()
    QgsProject.instance().addMapLayers([r, p])
    return train_dialog(iface, r, p, out, field=field)


def test_train_dialog_refuses_an_empty_training_layer_before_starting(plugin, qgis_iface, qgis_new_project,
                                                                      scene_dir, tmp_path):
    polys = make_polygon_values(tmp_path / "polys.gpkg", [])
    dlg = _dialog(plugin, qgis_iface, scene_dir, polys, tmp_path)
    assert dlg.validate() == "The training layer 'polys' has no polygons yet."
    dlg.accept()  # OK: the dialog stays open with the reason in its message bar
    assert dlg.result() == 0
    dlg.deleteLater()
    assert not plugin.tasks and no_active_tasks()


def test_class_field_null_everywhere_from_the_dialog_reaches_the_message_bar(plugin, qgis_iface, qgis_new_project,
                                                                             scene_dir, tmp_path):
    polys = make_polygon_values(tmp_path / "polys.gpkg", [(b, None) for b, _ in D.TRAIN_BOXES])
    dlg = _dialog(plugin, qgis_iface, scene_dir, polys, tmp_path / "out")
    (tmp_path / "out").mkdir()
    qgis_iface.messageBar().clear_messages()
    plugin._safe(lambda: plugin.start_training(dlg))  # what OK in the dialog runs (plugin.train)
    one_critical(qgis_iface, "Class field 'klass' of layer 'polys' is empty (null) in every feature")
    dlg.deleteLater()
    assert not plugin.tasks and no_active_tasks() and listing(tmp_path / "out") == []


def test_one_class_only_fails_the_train_task_in_the_message_bar(plugin, qgis_iface, qgis_new_project, scene_dir,
                                                                tmp_path):
    polys = make_polygon_values(tmp_path / "polys.gpkg", [D.TRAIN_BOXES[0]])
    out = tmp_path / "out"
    out.mkdir()
    dlg = _dialog(plugin, qgis_iface, scene_dir, polys, out)
    # the dialog refuses it and stays open (issue 20); the task's own check stays for what bypasses the dialog
    assert "holds only one class (1)" in dlg.validate()
    dlg.deleteLater()
    from hypersnn.plugin.tasks import TrainTask
    from robust_plugin import train_job

    qgis_iface.messageBar().clear_messages()
    task = mark_finished(plugin.start_task(TrainTask(train_job(scene_dir / "scene.tif", out, polys), qgis_iface)))
    wait_for(lambda: done(task), 60, "the training task")
    assert task.status() == QgsTask.TaskStatus.Terminated
    one_critical(qgis_iface, "HyperSNN:Train on scene.tif failed: Classification needs labelled pixels of at least "
                             "2 classes; the labels have only class 1")
    assert listing(out) == [] and no_active_tasks()
