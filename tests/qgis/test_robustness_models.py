"""Robustness matrix (issue 5), QGIS side: untrusted model files through the classify dialog, the
ClassifyTask and `hypersnn:classify`. Each is refused with a clear message naming the file; a pickle
payload is never executed; nothing is written; and QGIS keeps working: a valid run right after succeeds
in the same process."""
import pickle
import re

import pytest
from qgis.core import QgsProcessingException, QgsTask

from robust_plugin import (Payload, listing, no_active_tasks, one_critical, one_torch_thread,  # noqa: F401
                           rezip_model, run_task)
from robust_plugin import classify_job  # noqa: E402

KINDS = ["truncated", "pickle renamed to .hsnn", "PyTorch checkpoint renamed to .hsnn", "newer format version",
         "model for another band count"]


def _bad_model(kind, trained_model, scene_dir, folder):
    """(model path, raster path, message regex, payload marker or None) for one kind of bad model."""
    from hypersnn.core.models.modelfile import FORMAT_VERSION

    raster = scene_dir / "scene.tif"
    marker = folder / "pwned"
    if kind == "truncated":
        p = folder / "cut.hsnn"
        data = trained_model.read_bytes()
        p.write_bytes(data[:len(data) // 2])
        return p, raster, rf"{re.escape(str(p))} is truncated or corrupt", None
    if kind == "pickle renamed to .hsnn":
        p = folder / "evil.hsnn"
        p.write_bytes(pickle.dumps(Payload(str(marker))))
        return p, raster, rf"{re.escape(str(p))} is a pickle/PyTorch file: HyperSNN model files are zip archives", \
            marker
    if kind == "PyTorch checkpoint renamed to .hsnn":
        import torch

        p = folder / "weights.hsnn"
        torch.save({"w": torch.zeros(2), "evil": Payload(str(marker))}, p)
        return p, raster, rf"{re.escape(str(p))} is a PyTorch file \(torch\.save\), not a HyperSNN model; it is not " \
                          rf"loaded because PyTorch files can run code", marker
    if kind == "newer format version":
        p = rezip_model(trained_model, folder / "future.hsnn",
                        lambda m: m.update(format_version=FORMAT_VERSION + 1))
        return p, raster, rf"{re.escape(str(p))} was written by a newer HyperSNN \(model format " \
                          rf"{FORMAT_VERSION + 1}; this version reads up to {FORMAT_VERSION}\)\. Update the HyperSNN " \
                          rf"plugin/package", None
    assert kind == "model for another band count"
    return trained_model, scene_dir / "other.tif", r"raster .*other\.tif has 10 bands but the model expects 12 " \
                                                   r"\(it reads bands 1-12 of a 12-band raster\)", None


@pytest.mark.parametrize("kind", KINDS)
def test_bad_model_through_the_classify_task_is_refused_and_a_valid_run_follows(plugin, qgis_iface, trained_model,
                                                                                scene_dir, tmp_path, kind):
    from hypersnn.plugin.tasks import ClassifyTask

    model, raster, match, marker = _bad_model(kind, trained_model, scene_dir, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    qgis_iface.messageBar().clear_messages()
    task = run_task(plugin, ClassifyTask(classify_job(str(raster), str(model), str(out / "c.tif"), str(out / "conf.tif")), iface=qgis_iface))
    assert task.status() == QgsTask.TaskStatus.Terminated and not task.canceled_by_user
    text = one_critical(qgis_iface, "HyperSNN:Classify ", " failed: ")
    assert re.search(match, text), text
    assert "Traceback" not in text
    assert listing(out) == [] and no_active_tasks()
    if marker is not None:
        assert not marker.exists()  # the payload never ran
    ok = run_task(plugin, ClassifyTask(classify_job(str(scene_dir / "scene.tif"), str(trained_model), str(out / "c.tif")), iface=qgis_iface))
    assert ok.status() == QgsTask.TaskStatus.Complete, ok.error
    assert (out / "c.tif").exists() and no_active_tasks()


@pytest.mark.parametrize("kind", KINDS)
def test_bad_model_through_processing_is_refused_and_a_valid_run_follows(plugin, trained_model, scene_dir, tmp_path,
                                                                         kind):
    import processing

    model, raster, match, marker = _bad_model(kind, trained_model, scene_dir, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException, match=match):
        processing.run("hypersnn:classify", {"INPUT": str(raster), "MODEL": str(model), "OUTPUT": str(out / "c.tif"),
                                             "CONFIDENCE": str(out / "conf.tif")})
    assert listing(out) == []
    if marker is not None:
        assert not marker.exists()
        if kind == "pickle renamed to .hsnn":  # and the payload is real: unpickling it does create the file
            pickle.loads(model.read_bytes()).close()
            assert marker.exists()
    res = processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                               "OUTPUT": str(out / "c.tif"), "CONFIDENCE": None})
    assert res["CLASSIFIED_PIXELS"] == 20 * 24 - 2


@pytest.mark.parametrize("kind", KINDS[:4])
def test_classify_dialog_shows_why_a_bad_model_cannot_be_used(plugin, qgis_iface, layers, trained_model, scene_dir,
                                                              tmp_path, kind):
    from hypersnn.ui.classify_dialog import ClassifyDialog

    model, _, match, marker = _bad_model(kind, trained_model, scene_dir, tmp_path)
    dlg = ClassifyDialog(qgis_iface)
    dlg.raster_combo.setLayer(layers["raster"])
    dlg.model_file.setFilePath(str(model))
    problem = dlg.validate()
    assert problem.startswith("The model cannot be used: ") and re.search(match, problem), problem
    assert re.search(match, dlg.model_view.toPlainText())
    dlg.deleteLater()
    if marker is not None:
        assert not marker.exists()
