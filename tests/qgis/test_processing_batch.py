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


def _pieces(D, folder):
    """Two overlapping scenes cut from a 40 x 24 tiling of the test scene (rows 0-23 and 16-39)."""
    import numpy as np

    folder.mkdir()
    cube = np.tile(D.scene()[0], (2, 1, 1))
    return [D.make_raster(folder / "north.tif", cube[:24]),
            D.make_raster(folder / "south.tif", cube[16:], origin=(D.ORIGIN[0], D.ORIGIN[1] - 16 * D.PIXEL))]


def test_batch_mosaic_as_cog_on_a_dask_scheduler_gives_the_same_bytes(provider, trained_model, D, tmp_path):
    """hypersnn:batch with a mosaic and COG outputs, once in this process and once with SCHEDULER set to a Dask
    cluster's tcp:// address (two worker processes that read the rasters with the GDAL backend): the scene maps
    and the mosaic are the same bytes; the mosaic is a COG on the union grid with the class names; progress
    reaches the Processing feedback."""
    import hashlib

    import processing
    from osgeo import gdal
    from qgis.core import QgsProcessingFeedback

    distributed = pytest.importorskip("distributed")
    from hypersnn.plugin.io_gdal import read_class_metadata
    from hypersnn.workflows.distributed import local_cluster

    scenes = _pieces(D, tmp_path / "scenes")

    def run(folder, **extra):
        feedback = QgsProcessingFeedback()
        seen = []
        feedback.progressChanged.connect(seen.append)
        res = processing.run("hypersnn:batch", {"INPUTS": [str(p) for p in scenes], "MODEL": str(trained_model),
                                                "OUTPUT_FOLDER": str(folder), "MOSAIC": str(folder / "mosaic.tif"),
                                                "COG": True, "WINDOW": 8, **extra}, feedback=feedback)
        return res, seen

    here, seen = run(tmp_path / "here")
    assert (here["DONE"], here["FAILED"]) == (2, 0) and here["MOSAIC"] == str(tmp_path / "here" / "mosaic.tif")
    assert seen and max(seen) == 100 and len(set(seen)) > 3
    with local_cluster(2, host="127.0.0.1") as cluster:
        there, _ = run(tmp_path / "there", SCHEDULER=cluster.scheduler_address)
    assert there["DONE"] == 2
    names = ["north_classes.tif", "north_confidence.tif", "south_classes.tif", "mosaic.tif", "mosaic_confidence.tif"]
    for n in names:
        a, b = (hashlib.sha256((tmp_path / d / n).read_bytes()).hexdigest() for d in ("here", "there"))
        assert a == b, n
    m = gdal.Open(here["MOSAIC"])
    assert (m.RasterYSize, m.RasterXSize) == (40, 24) and m.GetGeoTransform()[3] == D.ORIGIN[1]
    assert m.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert read_class_metadata(here["MOSAIC"]) == read_class_metadata(str(tmp_path / "here" / "north_classes.tif"))
    manifest = json.loads(open(there["MANIFEST"]).read())
    assert manifest["scheduler"] == cluster.scheduler_address and manifest["mosaic"]["status"] == "built"
