"""Hostile inputs through Processing and qgis_process (issue 20): settings files, CRSs written two ways, rasters
without georeferencing, failures whose cause must reach qgis_process's output, and the layers the Processing
dialogs open with."""
import json
import os

import numpy as np
import pytest
from osgeo import gdal

import data as D
from test_processing import QGIS_PROCESS, _qgis_process

needs_qgis_process = pytest.mark.skipif(not os.path.exists(QGIS_PROCESS) and os.environ.get("CI") != "true",
                                        reason="qgis_process.bin not installed (with CI=true this fails instead)")


def make_envi_utm(path, zone: int = 33):
    """The session scene as ENVI BSQ whose `map info` names UTM zone `zone` North (GDAL reads it as an unnamed
    Transverse Mercator CRS, not as EPSG:326zz)."""
    cube, _ = D.scene()
    h, w, b = cube.shape
    cube.transpose(2, 0, 1).astype("<i2").tofile(path)
    path.with_suffix(".hdr").write_text(
        f"ENVI\nsamples = {w}\nlines = {h}\nbands = {b}\nheader offset = 0\nfile type = ENVI Standard\n"
        f"data type = 2\ninterleave = bsq\nbyte order = 0\nmap info = {{UTM, 1.000, 1.000, {D.ORIGIN[0]}, "
        f"{D.ORIGIN[1]}, {D.PIXEL}, {D.PIXEL}, {zone}, North, WGS-84, units=Meters}}\nwavelength units = Nanometers\n"
        f"wavelength = {{{', '.join(str(x) for x in D.WAVELENGTHS_NM)}}}\ndata ignore value = {D.NODATA}\n")
    return path


def make_plain_labels(path, shape=None):
    """A label raster with no CRS and no geotransform (GDAL reports (0, 1, 0, 0, 0, 1))."""
    gt = D.scene()[1] if shape is None else np.ones(shape, np.uint8)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), gt.shape[1], gt.shape[0], 1, gdal.GDT_Byte)
    ds.GetRasterBand(1).WriteArray(gt)
    ds = None
    return path


# -- the GDAL backend ----------------------------------------------------------------------------------------------
def test_gdal_backend_takes_envi_utm_and_the_epsg_code_as_one_crs(qgis_app, tmp_path):
    from hypersnn.plugin.io_gdal import GdalBackend, raster_info
    from hypersnn.workflows.labels import read_label_raster

    envi = make_envi_utm(tmp_path / "scene.bin")
    labels = D.make_labels(tmp_path / "labels.tif")  # EPSG:32633
    lab = read_label_raster(GdalBackend(), str(labels), raster_info(envi))
    assert int((lab.array > 0).sum()) == int((D.scene()[1] > 0).sum())
    assert not GdalBackend().same_crs(raster_info(envi).crs_wkt, D.srs(32615).ExportToWkt())


def test_gdal_backend_matches_a_label_raster_without_georeferencing_by_pixel(qgis_app, tmp_path, scene_dir):
    from hypersnn.core.errors import LabelError
    from hypersnn.plugin.io_gdal import GdalBackend, raster_info
    from hypersnn.workflows.labels import read_label_raster

    info = raster_info(scene_dir / "scene.tif")
    with pytest.warns(UserWarning, match="no georeferencing"):
        lab = read_label_raster(GdalBackend(), str(make_plain_labels(tmp_path / "plain.tif")), info)
    assert int((lab.array > 0).sum()) == int((D.scene()[1] > 0).sum())
    with pytest.raises(LabelError) as e:
        read_label_raster(GdalBackend(), str(make_plain_labels(tmp_path / "small.tif", (5, 5))), info)
    assert "has no georeferencing" in str(e.value) and "different coordinate reference systems" not in str(e.value)


# -- Processing ----------------------------------------------------------------------------------------------------
def test_processing_train_takes_whole_number_floats_and_names_bad_lists(plugin, scene_dir, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    d = json.loads((scene_dir / "tiny.json").read_text())
    d["train"].update(cnn_epochs=1.0, snn_epochs=1.0, time_steps=2.0, batch_size=1e9)
    good = tmp_path / "floats.json"
    good.write_text(json.dumps(d))
    common = {"INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(scene_dir / "train.gpkg"), "CLASS_FIELD": "klass"}
    res = processing.run("hypersnn:train", {**common, "CONFIG": str(good), "OUTPUT_MODEL": str(tmp_path / "m.hsnn")})
    assert os.path.isfile(res["OUTPUT_MODEL"])
    d["model"]["conv3d_channels"] = ["a", "b"]
    bad = tmp_path / "letters.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(QgsProcessingException, match=r"model\.conv3d_channels item 1 .* must be a number"):
        processing.run("hypersnn:train", {**common, "CONFIG": str(bad), "OUTPUT_MODEL": str(tmp_path / "b.hsnn")})
    assert not (tmp_path / "b.hsnn").exists()


@pytest.fixture
def dialog_project(qgis_iface, layers, scene_dir, monkeypatch):
    """The session scene, its label raster and the training polygons loaded, and the browser model the Processing
    dialog asks the interface for (pytest-qgis's interface has none)."""
    from qgis.core import QgsRasterLayer
    from qgis.gui import QgsBrowserGuiModel

    model = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: model, raising=False)
    lab = QgsRasterLayer(str(scene_dir / "labels.tif"), "labels")  # sorts before "scene" by name
    layers["project"].addMapLayer(lab)
    yield dict(layers, labels=lab)
    layers["project"].removeMapLayer(lab.id())


def _dialog_values(alg_id):
    import processing

    dlg = processing.createAlgorithmDialog(alg_id, {})
    try:
        return dlg.mainWidget().createProcessingParameters()
    finally:
        dlg.deleteLater()


def test_processing_dialogs_open_with_the_layers_a_user_means(plugin, dialog_project):
    """Train: the hyperspectral raster (not the label raster, first by name) and the training polygons. Sample:
    the single-band integer class map, never the hyperspectral raster."""
    p = dialog_project
    for alg in ("hypersnn:train", "hypersnn:workflow"):
        v = _dialog_values(alg)
        assert v["INPUT"] == p["raster"].id(), alg
        assert v["POLYGONS"] in (p["train"].id(), p["valid"].id()), alg
    v = _dialog_values("hypersnn:sample")
    assert v["INPUT"] == p["labels"].id()


def test_processing_sample_does_not_open_on_the_hyperspectral_raster_when_a_class_map_is_listed_later(
        plugin, qgis_iface, layers, tmp_path, monkeypatch):
    """By name, 'aaa scene' comes first; the class map 'zz classes' is the one a user means."""
    from qgis.core import QgsRasterLayer
    from qgis.gui import QgsBrowserGuiModel

    model = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: model, raising=False)
    layers["raster"].setName("aaa scene")
    cm = QgsRasterLayer(str(D.make_labels(tmp_path / "classes.tif")), "zz classes")
    layers["project"].addMapLayer(cm)
    try:
        assert _dialog_values("hypersnn:sample")["INPUT"] == cm.id()
    finally:
        layers["project"].removeMapLayer(cm.id())


# -- qgis_process ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def qp(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qp")
    run = _qgis_process(tmp)
    rc, out, err = run("plugins", "enable", "hypersnn")
    assert rc == 0, out + err
    return run


@needs_qgis_process
def test_qgis_process_energy_with_envi_utm_and_an_epsg_label_raster(qp, trained_model, tmp_path):
    """Refused before as 'different coordinate reference systems' (the WKT texts differ, the CRS does not)."""
    envi = make_envi_utm(tmp_path / "scene.bin")
    labels = D.make_labels(tmp_path / "labels.tif")
    rc, out, err = qp("run", "hypersnn:energy", "--", f"MODEL={trained_model}", f"INPUT={envi}",
                      f"REFERENCE_RASTER={labels}", f"OUTPUT_REPORT={tmp_path / 'e.html'}")
    assert rc == 0, out + err
    assert (tmp_path / "e.html").is_file()


def _failures(scene_dir, trained_model, tmp_path):
    """(name, qgis_process arguments, words the output must hold) of failures whose cause must be shown."""
    d = json.loads((scene_dir / "tiny.json").read_text())
    d["model"]["dense"] = [0]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    other = D.make_raster(tmp_path / "labels15.tif", D.scene()[1], wavelengths=None, nodata=0, epsg=32615)
    train = ["hypersnn:train", "--", f"INPUT={scene_dir / 'scene.tif'}", f"POLYGONS={scene_dir / 'train.gpkg'}",
             "CLASS_FIELD=klass"]
    return [
        ("settings file", train + [f"CONFIG={bad}", f"OUTPUT_MODEL={tmp_path / 'a.hsnn'}"], ["model.dense", "got 0"]),
        ("band range", train + [f"CONFIG={scene_dir / 'tiny.json'}", "BANDS=5-99",
                                f"OUTPUT_MODEL={tmp_path / 'b.hsnn'}"], ["Band range", "5-99"]),
        ("crs", ["hypersnn:energy", "--", f"MODEL={trained_model}", f"INPUT={scene_dir / 'scene.tif'}",
                 f"REFERENCE_RASTER={other}", f"OUTPUT_REPORT={tmp_path / 'c.html'}"],
         ["different coordinate reference systems", "labels15.tif"]),
    ]


@needs_qgis_process
@pytest.mark.parametrize("json_mode", [False, True])
def test_qgis_process_failures_say_why(qp, scene_dir, trained_model, tmp_path, json_mode):
    for name, args, words in _failures(scene_dir, trained_model, tmp_path):
        rc, out, err = qp(*(["--json"] if json_mode else []), "run", *args)
        text = out + err
        assert rc == 1, (name, text)
        for w in words:
            assert w in text, (name, w, text[-2000:])
        assert "Traceback" not in text, (name, text[-2000:])
