"""Robustness matrix (issue 5), QGIS side: outputs. A missing output folder and an output that is the
input raster are refused before any work with a message naming the path; an existing class map from an
earlier run keeps its bytes when a later run fails or is canceled (GdalWriter: temporary file, then
rename), through the ClassifyTask and through Processing."""
import re
import shutil
import time

import pytest
from qgis.core import QgsProcessingContext, QgsProcessingException, QgsTask

from robust_plugin import (Feedback, folder_state, listing, no_active_tasks, one_critical,  # noqa: F401
                           one_torch_thread, run_task, train_job)
from robust_plugin import classify_job, run_classify  # noqa: E402


def test_missing_output_folder_is_refused_by_tasks_and_processing(plugin, qgis_iface, trained_model, scene_dir,
                                                                  tmp_path):
    import processing

    from hypersnn.plugin.tasks import ClassifyTask, TrainTask

    missing = tmp_path / "missing"
    qgis_iface.messageBar().clear_messages()
    task = run_task(plugin, ClassifyTask(classify_job(str(scene_dir / "scene.tif"), str(trained_model), str(missing / "c.tif")), iface=qgis_iface))
    assert task.status() == QgsTask.TaskStatus.Terminated
    one_critical(qgis_iface, f"The folder for the class map does not exist: {missing}")
    job = train_job(scene_dir / "scene.tif", missing, scene_dir / "train.gpkg", train={"cnn_epochs": 5000})
    t0 = time.monotonic()
    task = run_task(plugin, TrainTask(job, qgis_iface))
    assert task.status() == QgsTask.TaskStatus.Terminated and time.monotonic() - t0 < 5
    assert task.message == ""  # refused before any work: the engine never reported progress
    one_critical(qgis_iface, f"The folder for the model file does not exist: {missing}")
    with pytest.raises(QgsProcessingException, match=rf"The folder for the class map does not exist: "
                                                     rf"{re.escape(str(missing))}"):
        processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                             "OUTPUT": str(missing / "c.tif")})
    assert not missing.exists() and no_active_tasks()


def test_output_equal_to_the_input_raster_is_refused_and_the_input_kept(plugin, qgis_iface, trained_model, scene_dir,
                                                                        tmp_path):
    import processing

    from hypersnn.plugin.tasks import ClassifyTask, TrainTask

    raster = tmp_path / "scene.tif"
    shutil.copy(scene_dir / "scene.tif", raster)
    before = raster.read_bytes()
    qgis_iface.messageBar().clear_messages()
    for cls, conf in ((raster, None), (tmp_path / "c.tif", raster)):
        task = run_task(plugin, ClassifyTask(classify_job(str(raster), str(trained_model), str(cls), conf and str(conf)), iface=qgis_iface))
        assert task.status() == QgsTask.TaskStatus.Terminated
        one_critical(qgis_iface, f"is the input raster of this run ({raster}); choose another file")
    job = train_job(raster, tmp_path, scene_dir / "train.gpkg", train={"cnn_epochs": 5000})
    job.class_map = str(raster)
    t0 = time.monotonic()
    task = run_task(plugin, TrainTask(job, qgis_iface))
    assert task.status() == QgsTask.TaskStatus.Terminated and time.monotonic() - t0 < 5
    assert task.message == ""  # refused before training, not after it when the class map is written
    one_critical(qgis_iface, f"The class map {raster} is the input raster of this run")
    with pytest.raises(QgsProcessingException, match=rf"The class map {re.escape(str(raster))} is the input raster"):
        processing.run("hypersnn:classify", {"INPUT": str(raster), "MODEL": str(trained_model),
                                             "OUTPUT": str(raster)})
    assert raster.read_bytes() == before
    assert not (tmp_path / "model.hsnn").exists() and not (tmp_path / "c.tif").exists()
    assert not [n for n in listing(tmp_path) if n.startswith(".")]  # no temporary file left
    assert no_active_tasks()


@pytest.fixture
def earlier_map(trained_model, scene_dir, tmp_path):
    """A class map + confidence map of an earlier run in `out`, and that folder's bytes."""

    out = tmp_path / "out"
    out.mkdir()
    run_classify(str(scene_dir / "scene.tif"), str(trained_model), str(out / "c.tif"), str(out / "conf.tif"))
    state = folder_state(out)
    assert {"c.tif", "c.tif.aux.xml", "conf.tif"} <= set(state)
    return out, state


def test_earlier_class_map_is_kept_byte_identical_when_a_later_classify_task_fails(plugin, qgis_iface, trained_model,
                                                                                   scene_dir, earlier_map):
    from hypersnn.plugin.tasks import ClassifyTask

    out, before = earlier_map
    bad_model = out.parent / "cut.hsnn"
    bad_model.write_bytes(trained_model.read_bytes()[:500])
    for raster, model in ((scene_dir / "other.tif", trained_model), (scene_dir / "scene.tif", bad_model)):
        task = run_task(plugin, ClassifyTask(classify_job(str(raster), str(model), str(out / "c.tif"), str(out / "conf.tif")), iface=qgis_iface))
        assert task.status() == QgsTask.TaskStatus.Terminated
        assert folder_state(out) == before
    assert no_active_tasks()


def test_earlier_class_map_is_kept_byte_identical_when_processing_is_canceled(plugin, trained_model, scene_dir,
                                                                              earlier_map):
    import processing

    out, before = earlier_map
    fb = Feedback()
    fb.cancel()  # canceled before it starts, as when Cancel is pressed at once
    with pytest.raises(QgsProcessingException, match=r"Canceled \(classification canceled at window 1/1\); no output "
                                                     r"was written"):
        processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                             "OUTPUT": str(out / "c.tif"), "CONFIDENCE": str(out / "conf.tif")},
                       feedback=fb, context=QgsProcessingContext())
    assert folder_state(out) == before
