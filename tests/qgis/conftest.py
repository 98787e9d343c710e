"""Fixtures of the QGIS plugin tests (run headless: QT_QPA_PLATFORM=offscreen).

Without QGIS these tests are skipped, except on CI (CI=true), where a missing QGIS must fail the run.
"""
import os
import sys
import time
from pathlib import Path

import pytest

try:
    import qgis.core  # noqa: F401
    HAVE_QGIS = True
    QGIS_ERROR = ""
except ImportError as e:  # pragma: no cover - depends on the machine
    HAVE_QGIS = False
    QGIS_ERROR = str(e)
    if os.environ.get("CI") == "true":
        raise RuntimeError(
            f"CI=true but QGIS's Python bindings cannot be imported ({e}): the QGIS plugin tests must run on "
            f"CI. Install python3-qgis (scripts/bootstrap.sh does) and use a venv with --system-site-packages."
        ) from None

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[2]


def _data():
    import data as D

    return D



    @pytest.fixture(scope="session")
    def scene_dir(tmp_path_factory):
        """Session data: raster (UTM), label raster, training and validation polygons (EPSG:4326)."""
        d = tmp_path_factory.mktemp("scene")
        D.make_raster(d / "scene.tif")
        D.make_labels(d / "labels.tif")
        D.make_polygons(d / "train.gpkg")
        D.make_polygons(d / "valid.gpkg", D.VALID_BOXES)
        D.make_polygons(d / "train_text.gpkg", text=True, field="cover")
        D.make_raster(d / "other.tif", D.scene(bands=10)[0], wavelengths=D.WAVELENGTHS_NM[:10])
        D.write_tiny_config(d / "tiny.json")
        return d

    @pytest.fixture(scope="session")
    def trained_model(scene_dir, tmp_path_factory):
        """A model trained once for the session (directly through plugin.jobs, no Qt)."""
        from hypersnn.core.labels import PolygonFeature  # noqa: F401
        from hypersnn.plugin.io_gdal import raster_info, read_polygons_ogr
        from hypersnn.plugin.jobs import TrainJob, run_train

        out = tmp_path_factory.mktemp("model")
        info = raster_info(scene_dir / "scene.tif")
        feats = read_polygons_ogr(scene_dir / "train.gpkg", "klass", info.crs_wkt)
        job = TrainJob(raster_path=str(scene_dir / "scene.tif"), cfg=D.tiny_config(),
                       model_path=str(out / "model.hsnn"), features=feats, labels_source="train.gpkg")
        res = run_train(job)
        return Path(res.model_path)

    @pytest.fixture
    def project(qgis_new_project):
        return qgis_new_project

    def wait_for(predicate, timeout=120.0, what="condition"):
        """Process Qt events until predicate() is true (tasks report back through the event loop)."""
        from qgis.PyQt.QtCore import QCoreApplication

        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            QCoreApplication.processEvents()
            time.sleep(0.01)

    @pytest.fixture
    def wait():
        return wait_for

    @pytest.fixture
    def plugin(qgis_iface):
        """The plugin as QGIS loads it: classFactory + initGui; unload afterwards."""
        import hypersnn

        p = hypersnn.classFactory(qgis_iface)
        p.initGui()
        yield p
        p.unload()

    @pytest.fixture
    def isolated_settings(monkeypatch):
        """Clear the plugin's remembered settings before a test."""
        from qgis.core import QgsSettings

        s = QgsSettings()
        s.remove("hypersnn")
        yield s
        s.remove("hypersnn")
