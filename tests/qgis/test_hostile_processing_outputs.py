"""Hostile inputs and outputs through Processing (issue 20), the same refusals as on the command line, from the
GDAL/OGR backend: `hypersnn:sample` given an image as its class map, or an existing GeoPackage with other layers
as its output; `hypersnn:classify` given a map name that is not a GeoTIFF's."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsProcessingException

import data as D


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def provider(plugin):
    return plugin.provider


def test_sample_refuses_an_image_as_its_class_map(provider, scene_dir, tmp_path):
    import processing

    rng = np.random.default_rng(0)
    refl = D.make_raster(tmp_path / "refl.tif", rng.random((D.H, D.W, 30)).astype(np.float32), wavelengths=None,
                         nodata=None)
    ndvi = D.make_raster(tmp_path / "ndvi.tif", rng.random((D.H, D.W)).astype(np.float32), wavelengths=None,
                         nodata=None)
    for path, why in ((scene_dir / "scene.tif", "has 12 bands"), (refl, "has 30 bands"),
                      (ndvi, "holds float32 values")):
        with pytest.raises(QgsProcessingException, match=why + ".*not a class map"):
            processing.run("hypersnn:sample", {"INPUT": str(path), "N": 3, "OUTPUT": str(tmp_path / "pts.gpkg")})
    assert not (tmp_path / "pts.gpkg").exists()


def test_sample_never_empties_a_geopackage_with_other_layers(provider, scene_dir, tmp_path):
    import processing
    from osgeo import ogr

    gpkg = tmp_path / "project.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(gpkg))
    for name in ("training", "checked"):
        lyr = ds.CreateLayer(name, D.srs(D.EPSG), ogr.wkbPoint)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkt("POINT (500100 4999700)"))
        lyr.CreateFeature(f)
    ds = None
    before = _sha(gpkg)
    with pytest.raises(QgsProcessingException, match=r"already holds other layers \(checked, training\)"):
        processing.run("hypersnn:sample", {"INPUT": str(scene_dir / "labels.tif"), "N": 3, "OUTPUT": str(gpkg)})
    assert _sha(gpkg) == before
    ds = ogr.Open(str(gpkg))
    assert sorted(ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())) == ["checked", "training"]
    ds = None
    # a file holding only an earlier sample is replaced, as a rerun's output is
    pts = str(tmp_path / "pts.gpkg")
    processing.run("hypersnn:sample", {"INPUT": str(scene_dir / "labels.tif"), "N": 3, "OUTPUT": pts})
    res = processing.run("hypersnn:sample", {"INPUT": str(scene_dir / "labels.tif"), "N": 2, "OUTPUT": pts})
    assert res["N_POINTS"] == 6


def test_classify_refuses_a_map_name_that_is_not_a_geotiffs(provider, trained_model, scene_dir, tmp_path):
    import processing

    with pytest.raises(QgsProcessingException, match=r"must end in \.tif or \.tiff.*map\.png.*GeoTIFF"):
        processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                             "OUTPUT": str(tmp_path / "map.png")})
    assert not (tmp_path / "map.png").exists()
