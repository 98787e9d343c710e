"""Robustness matrix (issue 5), QGIS side: faults. Canceling a TrainTask during CNN or SNN epochs, or a
ClassifyTask between windows, ends the task as canceled within about 2 s, leaves no output or temporary
file (an earlier output keeps its bytes), no active task in QGIS's task manager, and a later run in the
same process works."""
import time

import pytest
from qgis.core import Qgis, QgsTask

from robust_plugin import (done, folder_state, listing, no_active_tasks, one_torch_thread, run_task,  # noqa: F401
                           start, tiled_raster, train_job, wait_for)
from robust_plugin import classify_job, run_classify  # noqa: E402

CANCEL_WITHIN_S = 2.0


def _cancel_when(task, predicate, what):
    """Wait until `predicate()` holds while the task runs, cancel it, wait for finished(): seconds taken."""
    wait_for(lambda: predicate() or done(task), 120, what)
    assert not done(task), f"the task ended before {what}"
    t0 = time.monotonic()
    task.cancel()
    wait_for(lambda: done(task), 30, "the canceled task to end")
    return time.monotonic() - t0


@pytest.mark.parametrize("stage, train", [
    ("CNN epoch", {"cnn_epochs": 500, "snn_epochs": 1}),
    ("SNN epoch", {"cnn_epochs": 1, "snn_epochs": 500}),
], ids=["during CNN epochs", "during SNN epochs"])
def test_canceled_train_task_stops_quickly_leaves_nothing_and_a_later_run_works(plugin, qgis_iface, scene_dir,
                                                                                tmp_path, stage, train):
    from hypersnn.plugin.tasks import TrainTask

    out = tmp_path / "out"
    out.mkdir()
    (out / "model.hsnn").write_bytes(b"the model of an earlier run")
    before = folder_state(out)
    qgis_iface.messageBar().clear_messages()
    task = start(plugin, TrainTask(train_job(scene_dir / "scene.tif", out, scene_dir / "train.gpkg", classify=True,
                                             train=train), qgis_iface))
    seconds = _cancel_when(task, lambda: task.message.startswith(stage), f"the task to reach '{stage}'")
    assert seconds < CANCEL_WITHIN_S, f"cancel took {seconds:.2f} s"
    assert task.status() == QgsTask.TaskStatus.Terminated and task.canceled_by_user
    assert task.error.startswith(f"canceled: training canceled during {stage.split()[0].lower()} epoch")
    assert any("canceled; no output was written" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Info))
    assert folder_state(out) == before  # no class map, report or temporary file; the earlier model intact
    assert task not in plugin.tasks and no_active_tasks()
    ok = run_task(plugin, TrainTask(train_job(scene_dir / "scene.tif", out, scene_dir / "train.gpkg"), qgis_iface))
    assert ok.status() == QgsTask.TaskStatus.Complete, ok.error
    assert (out / "model.hsnn").read_bytes()[:2] == b"PK" and no_active_tasks()


def test_canceled_classify_task_stops_between_windows_keeps_the_earlier_map_and_a_later_run_works(
        plugin, qgis_iface, trained_model, scene_dir, tmp_path):
    from hypersnn.core.config.schema import ClassifyConfig
    from hypersnn.plugin.tasks import ClassifyTask

    big = tiled_raster(tmp_path / "big.tif", (20, 20))  # 400 x 480 pixels: 3000 windows of 8, seconds of work
    out = tmp_path / "out"
    out.mkdir()
    run_classify(str(scene_dir / "scene.tif"), str(trained_model), str(out / "c.tif"), str(out / "conf.tif"))
    before = folder_state(out)
    outputs = (str(out / "c.tif"), str(out / "conf.tif"), str(out / "p.tif"))
    ccfg = ClassifyConfig(window=8)
    task = start(plugin, ClassifyTask(classify_job(str(big), str(trained_model), *outputs, ccfg), iface=qgis_iface))
    seconds = _cancel_when(task, lambda: task.message.startswith("classified window"), "the first window")
    assert seconds < CANCEL_WITHIN_S, f"cancel took {seconds:.2f} s"
    assert task.status() == QgsTask.TaskStatus.Terminated and task.canceled_by_user
    assert task.error.startswith("canceled: classification canceled at window ") and task.error.endswith("/3000")
    assert folder_state(out) == before  # the earlier map and confidence keep their bytes; no p.tif, no temp file
    assert no_active_tasks()
    ok = run_task(plugin, ClassifyTask(classify_job(str(scene_dir / "scene.tif"), str(trained_model), *outputs, ccfg), iface=qgis_iface))
    assert ok.status() == QgsTask.TaskStatus.Complete, ok.error
    assert ok.result.valid_pixels == 20 * 24 - 2
    assert [n for n in listing(out) if n.endswith(".tif")] == ["c.tif", "conf.tif", "p.tif"]
    assert not [n for n in listing(out) if n.startswith(".")]
    assert no_active_tasks()
