"""Shared pytest fixtures. The file builders live in fixtures_data.py so tests can also call them
with their own options."""
import sys
from pathlib import Path

import pytest

import fixtures_data as fd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a folder of the repository, not of the installed package: tests import it
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def scene():
    """(cube, gt) arrays of the synthetic 20x24x12 scene."""
    return fd.synthetic_scene()


@pytest.fixture
def geotiff(tmp_path):
    """Path of the synthetic scene as a GeoTIFF with wavelengths in nm and nodata."""
    return fd.make_geotiff(tmp_path / "scene.tif")


@pytest.fixture
def label_geotiff(tmp_path, scene):
    """Path of the synthetic ground truth as a uint8 GeoTIFF (0 = unlabelled)."""
    return fd.make_geotiff(tmp_path / "gt.tif", scene[1], nodata=0, wavelengths=None)


@pytest.fixture
def envi(tmp_path):
    """(data, hdr) paths of the synthetic scene as ENVI BSQ with wavelengths in micrometres."""
    return fd.make_envi(tmp_path / "scene.img")


@pytest.fixture
def polygons_gpkg(tmp_path):
    """GeoPackage (EPSG:4326) with one polygon per class over the synthetic scene, integer field `klass`."""
    return fd.make_polygons_gpkg(
        tmp_path / "train.gpkg", [((2, 1, 6, 5), 1), ((3, 9, 7, 14), 2), ((12, 17, 18, 22), 3)])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """Path of a tiny trained model (tiny.tiny_model_file), trained once per test module that asks for it: the
    batch, Dask and mosaic tests classify with it. A module that needs another model defines its own `model_file`."""
    from tiny import tiny_model_file

    return tiny_model_file(tmp_path_factory.mktemp("model"))
