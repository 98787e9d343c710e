"""hypersnn:batch through processing.run: one class map per scene with the GDAL backend, a manifest with the
failed scene recorded, and a second run that skips the scenes already done."""
import json
import shutil

import pytest


@pytest.fixture
def provider(plugin):
    return plugin.provider


def test_batch(provider, trained_model, scene_dir, tmp_path):
    import processing
    from osgeo import gdal

    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(scene_dir / "scene.tif", scenes / "a.tif")
    shutil.copy(scene_dir / "other.tif", scenes / "b_other.tif")  # 10 bands: the model refuses it
    out = tmp_path / "maps"
    params = {"INPUTS": [str(scene_dir / "scene.tif")], "PATTERN": str(scenes / "*.tif"),
              "MODEL": str(trained_model), "OUTPUT_FOLDER": str(out)}
    res = processing.run("hypersnn:batch", params)
    assert (res["DONE"], res["SKIPPED"], res["FAILED"]) == (2, 0, 1)
    m = json.loads(open(res["MANIFEST"]).read())
    status = {k.rsplit("/", 1)[-1]: v["status"] for k, v in m["scenes"].items()}
    assert status == {"scene.tif": "done", "a.tif": "done", "b_other.tif": "failed"}
    a = gdal.Open(str(out / "a_classes.tif")).ReadAsArray()
    assert (a == gdal.Open(str(out / "scene_classes.tif")).ReadAsArray()).all() and (a == 0).sum() == 2
    assert (out / "a_confidence.tif").exists() and not (out / "b_other_classes.tif").exists()
    again = processing.run("hypersnn:batch", params)
    assert (again["DONE"], again["SKIPPED"], again["FAILED"]) == (0, 2, 1)
