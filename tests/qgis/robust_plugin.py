"""Helpers of the plugin's robustness tests (issue 5, the QGIS side of tests/robustness/): running
QgsTasks through the task manager, capturing the message bar, the HyperSNN log and Processing
feedback, and writing broken inputs with osgeo.gdal/ogr and numpy only (no rasterio in QGIS)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import Qgis, QgsApplication, QgsProcessingFeedback, QgsTask

import data as D

ENVI_CODES = {"uint8": 1, "int16": 2, "int32": 3, "float32": 4, "float64": 5, "uint16": 12}


# -- tasks ---------------------------------------------------------------------------------------------

def wait_for(predicate, timeout=120.0, what="condition"):
    """Process Qt events until predicate() is true (tasks report back through the event loop)."""
    from qgis.PyQt.QtCore import QCoreApplication

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        QCoreApplication.processEvents()
        time.sleep(0.005)


def mark_finished(task):
    """Flag `task.finished_ran` once finished() (main thread) has run; call right after it was queued
    (finished() needs the event loop, so it cannot have run yet)."""
    orig = task.on_done

    def finished(t):
        if orig is not None:
            orig(t)
        t.finished_ran = True

    task.finished_ran = False
    task.on_done = finished
    return task


def start(plugin, task):
    """plugin.start_task (the task manager), plus the finished() marker."""
    plugin.start_task(task)
    return mark_finished(task)


def done(task) -> bool:
    return task.status() in (QgsTask.TaskStatus.Complete, QgsTask.TaskStatus.Terminated) and task.finished_ran


def run_task(plugin, task, timeout=120.0):
    """Start `task` through the plugin and the task manager; wait until finished() ran."""
    start(plugin, task)
    wait_for(lambda: done(task), timeout, task.description())
    return task


def no_active_tasks() -> bool:
    return QgsApplication.taskManager().countActiveTasks() == 0


def wait_idle(timeout=10.0):
    wait_for(no_active_tasks, timeout, "the task manager to have no active task")


def critical(iface) -> list:
    return iface.messageBar().get_messages(Qgis.MessageLevel.Critical)


def warnings_shown(iface) -> list:
    return iface.messageBar().get_messages(Qgis.MessageLevel.Warning)


def one_critical(iface, *fragments) -> str:
    """The single critical message-bar text holding every fragment (fails listing what was shown)."""
    hits = [m for m in critical(iface) if all(f in m for f in fragments)]
    assert hits, f"no critical message with {fragments}; shown: {critical(iface)}"
    return hits[0]


class LogCapture:
    """Messages of the QGIS message log (the HyperSNN tab), recorded through its signal."""

    def __init__(self):
        self.items: list = []
        QgsApplication.messageLog().messageReceived.connect(self._got)

    def _got(self, message, tag, level):
        self.items.append((tag, int(level), message))

    def texts(self, tag="HyperSNN") -> list:
        return [m for t, _, m in self.items if t == tag]

    def close(self):
        try:
            QgsApplication.messageLog().messageReceived.disconnect(self._got)
        except (TypeError, RuntimeError):
            pass


class Feedback(QgsProcessingFeedback):
    """Processing feedback that keeps what the algorithm reported."""

    def __init__(self):
        super().__init__()
        self.infos, self.warns = [], []

    def pushInfo(self, info):  # noqa: N802 - QGIS API
        self.infos.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning):  # noqa: N802 - QGIS API
        self.warns.append(warning)
        super().pushWarning(warning)


def folder_state(folder) -> dict:
    """{name: bytes} of every file in `folder`, hidden temporary files included."""
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


def elapsed(t0: float) -> float:
    return time.monotonic() - t0


# -- broken or unusual inputs --------------------------------------------------------------------------

def make_envi(path, cube: Optional[np.ndarray] = None, *, drop_fields: Sequence[str] = (),
              truncate_bytes: int = 0, extra_fields: Optional[dict] = None):
    """ENVI BIL data file `path` + `path`.hdr (wavelengths in micrometres) -> (data, header)."""
    if cube is None:
        cube = D.scene()[0]
    h, w, b = cube.shape
    data = Path(path)
    raw = np.ascontiguousarray(np.transpose(cube, (0, 2, 1))).astype(cube.dtype.newbyteorder("<")).tobytes()
    data.write_bytes(raw[:-truncate_bytes] if truncate_bytes else raw)
    fields = {
        "samples": str(w), "lines": str(h), "bands": str(b), "header offset": "0", "file type": "ENVI Standard",
        "data type": str(ENVI_CODES[cube.dtype.name]), "interleave": "bil", "byte order": "0",
        "map info": f"{{UTM, 1.000, 1.000, {D.ORIGIN[0]}, {D.ORIGIN[1]}, {D.PIXEL}, {D.PIXEL}, 33, North, "
                    f"WGS-84, units=Meters}}",
        "wavelength units": "Micrometers",
        "wavelength": "{" + ", ".join(repr(x / 1000.0) for x in D.WAVELENGTHS_NM[:b]) + "}",
        "data ignore value": str(D.NODATA),
    }
    fields.update(extra_fields or {})
    for k in drop_fields:
        fields.pop(k, None)
    hdr = Path(str(data) + ".hdr")
    hdr.write_text("ENVI\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()))
    return data, hdr


def drop_crs(path) -> Path:
    """Remove the CRS of a GeoTIFF (the geotransform stays)."""
    ds = gdal.Open(str(path), gdal.GA_Update)
    ds.SetProjection("")
    ds = None
    aux = Path(str(path) + ".aux.xml")
    if aux.exists():
        aux.unlink()
    assert gdal.Open(str(path)).GetProjection() == ""
    return Path(path)


def tiled_raster(path, reps=(10, 10)) -> Path:
    """The scene tiled `reps` times (same bands and wavelengths): enough windows to cancel in between."""
    cube = np.tile(D.scene()[0], (reps[0], reps[1], 1))
    return D.make_raster(path, cube)


def make_polygon_values(path, items, *, field="klass", field_type=ogr.OFTInteger, epsg=4326) -> Path:
    """GeoPackage polygons from (pixel box, raw class value) pairs; None writes a NULL value."""
    return D.make_polygons(path, items, field=field, field_type=field_type, epsg=epsg)


def rezip_model(src, dst, meta_edit=None) -> Path:
    """Copy a model file, editing its metadata (the tensor checksum stays valid)."""
    import zipfile

    with zipfile.ZipFile(src) as z:
        meta = json.loads(z.read("hypersnn.json"))
        blob = z.read("tensors.npz")
    if meta_edit:
        meta_edit(meta)
    with zipfile.ZipFile(dst, "w") as z:
        z.writestr("hypersnn.json", json.dumps(meta))
        z.writestr("tensors.npz", blob)
    return Path(dst)


class Payload:
    """Unpickling this creates the file `path`: proof of code execution if it ever appears."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def listing(folder) -> list:
    return sorted(os.listdir(folder))


# -- fixtures (imported by the test modules) ------------------------------------------------------------


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks run fastest on one thread; on a busy machine OpenMP's spinning threads make them
    many times slower (as in tests/robustness/conftest.py). Restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def log_capture():
    cap = LogCapture()
    yield cap
    cap.close()


def train_dialog(iface, raster_layer, poly_layer, out, field="klass", classify=True, **cfg):
    """A filled-in TrainDialog (as a user leaves it before pressing OK); outputs in `out`."""
    from hypersnn.ui.train_dialog import TrainDialog

    dlg = TrainDialog(iface)
    dlg.raster_combo.setLayer(raster_layer)
    dlg.poly_combo.setLayer(poly_layer)
    dlg.field_combo.setField(field)
    dlg.set_config(D.tiny_config(**cfg))
    dlg.model_file.setFilePath(str(Path(out) / "model.hsnn"))
    dlg.classify_check.setChecked(classify)
    dlg.class_map_file.setFilePath(str(Path(out) / "classes.tif"))
    dlg.confidence_file.setFilePath(str(Path(out) / "confidence.tif"))
    return dlg


def train_job(raster, out, polygons, field="klass", classify=False, **cfg):
    """A workflows.train.TrainJob as the dialog builds it (polygons read and reprojected on the main thread)."""
    from hypersnn.plugin.io_gdal import raster_info
    from hypersnn.plugin.ogr_vectors import read_polygons_ogr
    from hypersnn.workflows.backend import LabelSource
    from hypersnn.workflows.train import TrainJob, default_report_target

    info = raster_info(raster)
    class_map = str(Path(out) / "classes.tif") if classify else None
    model = str(Path(out) / "model.hsnn")
    return TrainJob(raster=str(raster), cfg=D.tiny_config(**cfg), model_path=model,
                    labels=LabelSource(features=read_polygons_ogr(polygons, field, info.crs_wkt),
                                       description=str(polygons)),
                    class_map=class_map, report=default_report_target(model, class_map))


def classify_job(raster, model, class_map, confidence=None, probabilities=None, cfg=None, energy_map=None):
    """A workflows.classify.ClassifyJob (arguments in the order the classify dialog lists them)."""
    from hypersnn.core.config.schema import ClassifyConfig
    from hypersnn.workflows.classify import ClassifyJob

    return ClassifyJob(str(raster), model, str(class_map), confidence and str(confidence),
                       probabilities and str(probabilities), energy_map and str(energy_map), cfg or ClassifyConfig())


def run_classify(*args, **kw):
    """Classify through the workflow with the plugin's GDAL backend, outside any task."""
    from hypersnn.plugin.io_gdal import GdalBackend
    from hypersnn.workflows.classify import run_classify as run

    return run(classify_job(*args, **kw), GdalBackend())
