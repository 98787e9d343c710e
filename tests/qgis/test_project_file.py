"""The demo's QGIS project: written by QGIS in its own process, it opens with the layers styled."""
import json
import os
import subprocess
import sys

import numpy as np


def test_demo_project_opens_with_rgb_class_map_confidence_and_reference(scene_dir, tmp_path, qgis_app):
    from osgeo import gdal
    from qgis.core import QgsProject

    src = gdal.Open(str(scene_dir / "labels.tif"))
    conf = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "conf.tif"), src.RasterXSize, src.RasterYSize, 1,
                                                 gdal.GDT_Float32)
    conf.SetGeoTransform(src.GetGeoTransform())
    conf.SetProjection(src.GetProjection())
    conf.GetRasterBand(1).WriteArray(np.full((src.RasterYSize, src.RasterXSize), 0.8, np.float32))
    conf = src = None
    classes = [{"value": 1, "name": "rising", "color": [230, 25, 75]},
               {"value": 2, "name": "falling", "color": [60, 180, 75]},
               {"value": 3, "name": "peaked", "color": [0, 130, 200]}]
    (tmp_path / "classes.json").write_text(json.dumps(classes))
    qgz = tmp_path / "demo.qgz"
    r = subprocess.run([sys.executable, "-m", "hypersnn.plugin.project", "--out", str(qgz),
                        "--raster", str(scene_dir / "scene.tif"), "--class-map", str(scene_dir / "labels.tif"),
                        "--confidence", str(tmp_path / "conf.tif"), "--classes", str(tmp_path / "classes.json"),
                        "--reference", str(scene_dir / "labels.tif")],
                       capture_output=True, text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert qgz.is_file() and not list(tmp_path.glob(".*tmp*"))

    project = QgsProject()
    assert project.read(str(qgz))
    layers = {lyr.name(): lyr for lyr in project.mapLayers().values()}
    assert set(layers) == {"scene (RGB)", "reference labels", "confidence", "class map"}
    assert layers["class map"].renderer().type() == "paletted"
    names = [c.label for c in layers["class map"].renderer().classes()]
    assert names == ["1: rising", "2: falling", "3: peaked"]
    assert layers["confidence"].renderer().type() == "singlebandpseudocolor"
    assert layers["scene (RGB)"].renderer().type() == "multibandcolor"
    order = [n.name() for n in project.layerTreeRoot().children()]
    assert order[0] == "class map"
    # issue 20: the project opens on the data, and the file inside the archive is named after the project
    import zipfile

    assert [n for n in zipfile.ZipFile(qgz).namelist() if n.endswith(".qgs")] == ["demo.qgs"]
    view = project.viewSettings().defaultViewExtent()
    assert not view.isNull() and view.crs() == layers["scene (RGB)"].crs()
    assert view.contains(layers["scene (RGB)"].extent()) and view.width() < 1.2 * layers["scene (RGB)"].extent().width()
