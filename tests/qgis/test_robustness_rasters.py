"""Robustness matrix (issue 5), QGIS side: bad rasters through the plugin (train dialog + TrainTask,
ClassifyTask, Processing). Each is refused with a message naming the file and band/field at fault, or
handled (NaN/inf pixels, no CRS); nothing is written and no task stays behind."""
import gc
import re

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProject, QgsRasterLayer, QgsTask, QgsVectorLayer

import data as D
from robust_plugin import (Feedback, done, drop_crs, listing, log_capture, make_envi, mark_finished,  # noqa: F401
                           no_active_tasks, one_critical, one_torch_thread, run_task, train_dialog, wait_for,
                           warnings_shown)
from robust_plugin import classify_job  # noqa: E402


@pytest.fixture
def dirs(tmp_path):
    i, o = tmp_path / "in", tmp_path / "out"
    i.mkdir()
    o.mkdir()
    return i, o


def _add(*layers):
    for lyr in layers:
        assert lyr.isValid(), lyr.source()
    QgsProject.instance().addMapLayers(list(layers))
    return layers


def _train_from_dialog(plugin, iface, raster, polygons, out, **kw):
    """What a user does: load the layers, fill in the train dialog, press OK (plugin.start_training)."""
    r, p = _add(QgsRasterLayer(str(raster), raster.stem), QgsVectorLayer(str(polygons), polygons.stem, "ogr"))
    dlg = train_dialog(iface, r, p, out, **kw)
    assert dlg.validate() is None, dlg.validate()
    task = mark_finished(plugin.start_training(dlg))
    wait_for(lambda: done(task), 120, "the training task")
    dlg.deleteLater()
    return task


def test_raster_with_nodata_everywhere_fails_the_train_task_naming_the_raster(plugin, qgis_iface, qgis_new_project,
                                                                               scene_dir, dirs):
    src, out = dirs
    raster = D.make_raster(src / "blank.tif", np.full((D.H, D.W, D.B), D.NODATA, np.int16))
    qgis_iface.messageBar().clear_messages()
    task = _train_from_dialog(plugin, qgis_iface, raster, scene_dir / "train.gpkg", out)
    assert task.status() == QgsTask.TaskStatus.Terminated and not task.canceled_by_user
    one_critical(qgis_iface, f"raster {raster}: every pixel is nodata (-9999) or non-finite (NaN/inf)")
    assert listing(out) == [] and no_active_tasks()


def test_raster_with_nan_and_inf_pixels_trains_and_leaves_them_unclassified(plugin, qgis_iface, qgis_new_project,
                                                                            scene_dir, dirs):
    src, out = dirs
    cube = D.scene()[0].astype(np.float32)
    bad = [(4, 3, np.nan), (7, 12, np.inf), (5, 20, -np.inf), (15, 2, np.nan)]  # 3 labelled, 1 not
    for r, c, v in bad:
        cube[r, c, 3] = v
    raster = D.make_raster(src / "naninf.tif", cube)
    task = _train_from_dialog(plugin, qgis_iface, raster, scene_dir / "train.gpkg", out)
    assert task.status() == QgsTask.TaskStatus.Complete, task.error
    from hypersnn.core.models.torch_model import HyperSNNModel

    meta = HyperSNNModel.load(out / "model.hsnn").meta
    assert meta["split_protocol"]["excluded_invalid"] == 3  # labelled but NaN/inf: left out of training
    cls = gdal.Open(str(out / "classes.tif")).ReadAsArray()
    for r, c, _ in bad:
        assert cls[r, c] == 0
    assert (cls > 0).sum() == D.H * D.W - len(D.NODATA_PIXELS) - len(bad)
    assert no_active_tasks()


def _train_params(scene_dir, raster, out, **extra):
    p = {"INPUT": str(raster), "POLYGONS": str(scene_dir / "train.gpkg"), "CLASS_FIELD": "klass",
         "CONFIG": str(scene_dir / "tiny.json"), "OUTPUT_MODEL": str(out / "m.hsnn")}
    p.update(extra)
    return p


def test_single_band_raster_is_refused_naming_the_bands_and_the_kernels(plugin, scene_dir, dirs):
    import processing

    src, out = dirs
    raster = D.make_raster(src / "one.tif", D.scene()[0][:, :, :1], wavelengths=D.WAVELENGTHS_NM[:1])
    with pytest.raises(QgsProcessingException, match=rf"raster {re.escape(str(raster))} \(1 of 1 bands: .*1 input "
                                                     rf"bands .* too few for the spectral kernels \[3\]"):
        processing.run("hypersnn:train", _train_params(scene_dir, raster, out))
    with pytest.raises(QgsProcessingException, match=r"1 of 1 bands.* selected, but pca_components is 6: .*use at "
                                                     r"most 1"):
        processing.run("hypersnn:train", _train_params(scene_dir, raster, out, PCA=6))
    assert listing(out) == []


def test_fewer_selected_bands_than_the_pca_setting_is_refused_naming_both(plugin, scene_dir, dirs):
    import processing

    _, out = dirs
    with pytest.raises(QgsProcessingException, match=r"scene\.tif: 4 of 12 bands: 1-4 .* selected, but "
                                                     r"pca_components is 6: PCA cannot keep more components than "
                                                     r"there are bands; use at most 4"):
        processing.run("hypersnn:train", _train_params(scene_dir, scene_dir / "scene.tif", out, BANDS="1-4", PCA=6))
    assert listing(out) == []


def test_envi_with_a_broken_header_is_refused_naming_the_header_and_the_field(plugin, qgis_iface, trained_model,
                                                                              dirs):
    import processing

    from hypersnn.core.errors import RasterError
    from hypersnn.plugin.io_gdal import open_raster
    from hypersnn.plugin.tasks import ClassifyTask

    src, out = dirs
    data, hdr = make_envi(src / "cube.bil", drop_fields=["samples"])
    msg = f"ENVI header {hdr} is missing the required field 'samples'"
    for opened in (data, hdr):  # GdalReader, whichever of the two files is given
        with pytest.raises(RasterError, match=re.escape(msg)):
            open_raster(opened)
    # Processing: QGIS cannot load it as a layer; the algorithm says why instead of "not found"
    with pytest.raises(QgsProcessingException, match=re.escape(msg)):
        processing.run("hypersnn:classify", {"INPUT": str(data), "MODEL": str(trained_model),
                                             "OUTPUT": str(out / "c.tif")})
    qgis_iface.messageBar().clear_messages()
    task = run_task(plugin, ClassifyTask(classify_job(str(data), str(trained_model), str(out / "c.tif")), iface=qgis_iface))
    assert task.status() == QgsTask.TaskStatus.Terminated
    one_critical(qgis_iface, msg)
    assert listing(out) == [] and no_active_tasks()


def test_truncated_envi_data_file_is_refused_with_expected_and_actual_size(plugin, qgis_iface, trained_model, dirs):
    import processing

    from hypersnn.plugin.io_gdal import layer_raster_path
    from hypersnn.plugin.tasks import ClassifyTask

    src, out = dirs
    data, hdr = make_envi(src / "cube.bil", truncate_bytes=100)
    layer = QgsRasterLayer(str(data), "cube")
    assert layer.isValid()  # QGIS itself opens it: only reading the pixels would find out
    expected = D.H * D.W * D.B * 2
    sizes = f"header {hdr} describes 24 samples x 20 lines x 12 bands of int16 (2 bytes) + 0 header bytes = " \
            f"{expected} bytes, but the file has {expected - 100} bytes"
    qgis_iface.messageBar().clear_messages()
    task = run_task(plugin, ClassifyTask(classify_job(layer_raster_path(layer), str(trained_model), str(out / "c.tif")), iface=qgis_iface))
    assert task.status() == QgsTask.TaskStatus.Terminated
    one_critical(qgis_iface, f"ENVI data file {data} is truncated", sizes)
    try:
        with pytest.raises(QgsProcessingException, match=re.escape(sizes)):
            processing.run("hypersnn:classify", {"INPUT": layer, "MODEL": str(trained_model),
                                                 "OUTPUT": str(out / "c.tif")})
    finally:
        # a layer owned by no project must die before QGIS exits, or the interpreter's teardown segfaults
        del layer
        gc.collect()
    assert listing(out) == [] and no_active_tasks()


def test_raster_path_that_does_not_exist_is_named(plugin, qgis_iface, trained_model, scene_dir, dirs):
    import processing

    from hypersnn.plugin.tasks import ClassifyTask

    src, out = dirs
    missing = src / "nowhere.tif"
    qgis_iface.messageBar().clear_messages()
    task = run_task(plugin, ClassifyTask(classify_job(str(missing), str(trained_model), str(out / "c.tif")), iface=qgis_iface))
    assert task.status() == QgsTask.TaskStatus.Terminated
    one_critical(qgis_iface, f"Raster not found: {missing}")
    for alg, params in (("hypersnn:classify", {"MODEL": str(trained_model), "OUTPUT": str(out / "c.tif")}),
                        ("hypersnn:train", _train_params(scene_dir, missing, out))):
        with pytest.raises(QgsProcessingException, match=rf"INPUT: {re.escape(str(missing))} not found"):
            processing.run(alg, dict(params, INPUT=str(missing)))
    assert listing(out) == [] and no_active_tasks()


def test_raster_without_crs_trains_and_says_it_assumes_the_polygons_share_its_coordinates(
        plugin, qgis_iface, qgis_new_project, log_capture, dirs):
    src, out = dirs
    raster = drop_crs(D.make_raster(src / "nocrs.tif"))
    polygons = D.make_polygons(src / "utm.gpkg", epsg=D.EPSG)  # in a CRS, with the raster grid's coordinates
    qgis_iface.messageBar().clear_messages()
    task = _train_from_dialog(plugin, qgis_iface, raster, polygons, out)
    assert task.status() == QgsTask.TaskStatus.Complete, task.error
    assumption = "the raster has no CRS; assuming the polygons and the raster use the same coordinates"
    assert any(assumption in m for m in warnings_shown(qgis_iface)), warnings_shown(qgis_iface)
    assert any(assumption in m for m in log_capture.texts()), log_capture.texts()
    ds = gdal.Open(str(out / "classes.tif"))
    assert ds.GetProjection() == ""  # the class map does not invent a CRS either
    assert (ds.ReadAsArray() > 0).sum() == D.H * D.W - len(D.NODATA_PIXELS)
    # the polygons were burnt in the raster's own coordinates: 3 boxes of 9 x 6 pixels
    assert any(m.startswith("labels: 162 labelled pixels in 3 classes") for m in log_capture.texts())
    assert no_active_tasks()


def test_raster_without_crs_and_polygons_elsewhere_is_refused_explaining_the_crs(plugin, scene_dir, dirs):
    import processing

    src, out = dirs
    raster = drop_crs(D.make_raster(src / "nocrs.tif"))
    fb = Feedback()
    with pytest.raises(QgsProcessingException, match=r"no polygon covers a pixel of raster .*nocrs\.tif; check that "
                                                     r"the polygons overlap the raster and that both have the right "
                                                     r"CRS"):
        processing.run("hypersnn:train", _train_params(scene_dir, raster, out), feedback=fb)  # EPSG:4326 polygons
    assert any("the raster has no CRS; assuming the polygons and the raster use the same coordinates" in w
               for w in fb.warns), fb.warns
    assert listing(out) == []


def test_raster_without_crs_but_a_crs_set_in_qgis_says_which_crs_placed_the_polygons(
        plugin, qgis_iface, qgis_new_project, scene_dir, dirs):
    from qgis.core import QgsCoordinateReferenceSystem

    src, out = dirs
    raster = drop_crs(D.make_raster(src / "nocrs.tif"))
    r, p = _add(QgsRasterLayer(str(raster), "nocrs"), QgsVectorLayer(str(scene_dir / "train.gpkg"), "train", "ogr"))
    r.setCrs(QgsCoordinateReferenceSystem(f"EPSG:{D.EPSG}"))  # Layer > Set CRS, as a user would
    dlg = train_dialog(qgis_iface, r, p, out, classify=False)
    job = dlg.build_job()
    dlg.deleteLater()
    assert job.input_warnings and re.search(r"nocrs\.tif has no CRS in its file; the polygons were placed with the "
                                            r"CRS set on layer 'nocrs' in QGIS \(EPSG:32633\)", job.input_warnings[0])
    assert job.labels.features[0].geometry["coordinates"][0][0][0] > 400000  # EPSG:4326 polygons -> the layer's UTM
