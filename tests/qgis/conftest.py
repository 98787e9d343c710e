"""Fixtures of the QGIS plugin tests (run headless: QT_QPA_PLATFORM=offscreen, pytest-qgis fixtures).

Without QGIS's Python bindings every module here is skipped, except on CI (CI=true), where a missing
QGIS fails the run at collection: the plugin tests must never silently not run there.
"""
import os
import sys
from pathlib import Path

import pytest

try:
    import qgis.core  # noqa: F401

    HAVE_QGIS, QGIS_ERROR = True, ""
except ImportError as e:  # pragma: no cover - depends on the machine
    HAVE_QGIS, QGIS_ERROR = False, str(e)
    if os.environ.get("CI") == "true":
        raise RuntimeError(
            f"CI=true but QGIS's Python bindings cannot be imported ({e}): the QGIS plugin tests must run on "
            f"CI. Install python3-qgis (scripts/bootstrap.sh does) and use a venv made with "
            f"--system-site-packages."
        ) from None

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def pytest_pycollect_makemodule(module_path, parent):
    """Without QGIS (and CI unset) every module of this folder is reported as skipped."""
    if not HAVE_QGIS:  # pragma: no cover
        return _SkippedModule.from_parent(parent, path=module_path)
    return None


class _SkippedModule(pytest.Module):  # pragma: no cover - only without QGIS
    def collect(self):
        pytest.skip(f"QGIS is not importable ({QGIS_ERROR}); set CI=true to make this an error",
                    allow_module_level=True)


def _data():
    import data as D

    return D


@pytest.fixture(scope="session")
def D():
    return _data()


@pytest.fixture(scope="session")
def scene_dir(tmp_path_factory):
    """Session data: raster (UTM 33N), label raster, training and validation polygons (EPSG:4326)."""
    D = _data()
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
    """A model trained once per session directly through the training workflow and the GDAL backend (no Qt)."""
    from hypersnn.plugin.io_gdal import GdalBackend, raster_info
    from hypersnn.plugin.ogr_vectors import read_polygons_ogr
    from hypersnn.workflows.backend import LabelSource
    from hypersnn.workflows.train import TrainJob, run_train

    out = tmp_path_factory.mktemp("model")
    info = raster_info(scene_dir / "scene.tif")
    feats = read_polygons_ogr(scene_dir / "train.gpkg", "klass", info.crs_wkt)
    job = TrainJob(raster=str(scene_dir / "scene.tif"), cfg=_data().tiny_config(), model_path=str(out / "model.hsnn"),
                   labels=LabelSource(features=feats, description="train.gpkg"))
    return Path(run_train(job, GdalBackend()).model_path)


@pytest.fixture
def wait():
    from robust_plugin import wait_for  # one helper for both (QGIS is importable once the session started)

    return wait_for


@pytest.fixture
def plugin(qgis_iface, qgis_processing):
    """The plugin as QGIS loads it: classFactory(iface) + initGui(); unload() afterwards."""
    import hypersnn

    p = hypersnn.classFactory(qgis_iface)
    p.initGui()
    yield p
    p.unload()


@pytest.fixture
def clean_settings():
    """Forget the plugin's remembered settings around a test."""
    from qgis.core import QgsSettings

    QgsSettings().remove("hypersnn")
    yield
    QgsSettings().remove("hypersnn")


@pytest.fixture
def layers(qgis_new_project, scene_dir):
    """The scene raster, training and validation polygons loaded into a fresh project."""
    from qgis.core import QgsRasterLayer, QgsVectorLayer

    p = qgis_new_project
    r = QgsRasterLayer(str(scene_dir / "scene.tif"), "scene")
    t = QgsVectorLayer(str(scene_dir / "train.gpkg"), "train", "ogr")
    v = QgsVectorLayer(str(scene_dir / "valid.gpkg"), "valid", "ogr")
    assert r.isValid() and t.isValid() and v.isValid()
    p.addMapLayers([r, t, v])
    return {"raster": r, "train": t, "valid": v, "project": p}


@pytest.fixture(autouse=True, scope="session")
def _bar_keeps_show_more(qgis_app):
    """pytest-qgis's mock message bar records "title:text" and drops the "Show more" text, where the plugin puts
    a long message whole (plugin/layers.message cuts the bar's text at two lines): record it after the text, so
    tests read what a user can read."""
    from pytest_qgis.mock_qgis_classes import MockMessageBar
    from qgis.core import Qgis

    original = MockMessageBar.pushMessage

    def push(self, *args, **kwargs):
        more = kwargs.pop("showMore", None)
        if more is None and len(args) > 2 and isinstance(args[2], str):
            more, args = args[2], args[:2] + args[3:]
        level = kwargs.get("level", next((a for a in args[2:] if not isinstance(a, str)), Qgis.MessageLevel.Info))
        original(self, *args, **kwargs)
        if more:
            self.messages[level][-1] += "\n" + more

    MockMessageBar.pushMessage = push
    yield
    MockMessageBar.pushMessage = original


@pytest.fixture(autouse=True, scope="session")
def _collect_before_exit(qgis_app):
    """Python objects wrapping QGIS layers that sit in reference cycles (e.g. kept alive by a stored
    traceback) must be freed before pytest-qgis calls exitQgis(), or freeing them later segfaults."""
    yield
    import gc

    gc.collect()


_EXIT_STATUS = None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    global _EXIT_STATUS
    _EXIT_STATUS = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave without the interpreter's teardown once the session's result is known.

    After pytest-qgis's exitQgis(), Python objects that still wrap QGIS/GDAL objects (e.g. a layer kept
    alive by an exception traceback inside Processing) are freed during interpreter shutdown, which can
    segfault the process even though every test passed: it depends on memory layout (seen with
    test_truncated_envi_data_file_is_refused_with_expected_and_actual_size, not under -X faulthandler).
    Tests run in QGIS's own process in real use, where layers belong to a project; here the result is
    already reported, so exit with it directly.
    """
    if HAVE_QGIS and _EXIT_STATUS is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS)
