"""Dialogs build headless, list the project's real layers and the raster's band wavelengths, produce a
valid RunConfig, remember settings, and refuse what cannot work with a clear message."""
import pytest
from qgis.core import QgsCategorizedSymbolRenderer, QgsRendererCategory, QgsSymbol, QgsWkbTypes
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor

import data as D


@pytest.fixture
def train_dialog(layers, clean_settings, qgis_iface):
    from hypersnn.ui.train_dialog import TrainDialog

    dlg = TrainDialog(qgis_iface)
    yield dlg
    dlg.deleteLater()


def test_train_dialog_lists_layers_and_wavelengths(train_dialog, layers):
    dlg = train_dialog
    assert dlg.raster_combo.currentLayer() == layers["raster"]
    polys = [dlg.poly_combo.layer(i) for i in range(dlg.poly_combo.count())]
    assert layers["train"] in polys and layers["valid"] in polys and layers["raster"] not in polys
    assert dlg.poly_combo.currentLayer() is not None
    dlg.poly_combo.setLayer(layers["train"])
    assert dlg.field_combo.currentField() == "klass"
    t = dlg.bands.table
    assert t.rowCount() == 12
    assert t.item(0, 2).text() == f"{D.WAVELENGTHS_NM[0]:.1f}"
    assert t.item(11, 2).text() == "2350.0"
    assert dlg.bands.count_label.text().startswith("12 of 12 bands selected (450-2350 nm)")
    assert "24 x 20 pixels, 12 bands" in dlg.raster_label.text()
    assert dlg.model_file.filePath().endswith("scene_snn.hsnn")
    assert dlg.class_map_file.filePath().endswith("scene_classes.tif")
    assert dlg.validate() is None


def test_band_selector_ranges_wavelengths_bad_bands(qgis_app, tmp_path):
    from hypersnn.plugin.io_gdal import raster_info
    from hypersnn.ui.band_selector import BandSelector

    info = raster_info(D.make_raster(tmp_path / "s.tif", bbl=[1] * 11 + [0]))
    bs = BandSelector()
    counts = []
    bs.selectionChanged.connect(counts.append)
    bs.set_info(info)
    assert bs.selected() == list(range(11))  # the bad band starts unchecked
    assert bs.table.item(11, 3).text() == "bad"
    bs.ranges_edit.setText("1-4, 8")
    bs.apply_ranges()
    assert bs.selected() == [0, 1, 2, 3, 7] and counts[-1] == 5
    assert bs.count_label.text().startswith("5 of 12 bands selected")
    assert bs.band_selection().indices == "1-4,8"
    bs.ranges_edit.setText("1-40")
    bs.apply_ranges()
    assert "valid bands are 1..12" in bs.error_label.text() and bs.selected() == [0, 1, 2, 3, 7]
    bs.set_selected(range(12))
    bs.wl_edit.setText("400-1300nm")
    bs.apply_wavelengths()
    assert [round(info.wavelengths[i]) for i in bs.selected()] == [450, 623, 795, 968, 1141]
    bs.set_selected(range(12))
    bs.drop_bad_bands()  # bbl = 0 and the water-vapour windows (1340-1450, 1790-1960, 2450+ nm)
    kept = [info.wavelengths[i] for i in bs.selected()]
    assert 2350.0 not in kept and not any(1340 <= w <= 1450 or 1790 <= w <= 1960 for w in kept)
    assert len(kept) == 10  # 1831.8 nm (water vapour) and the bbl=0 band dropped
    bs.table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)  # a click updates the live count
    assert counts[-1] == 9


def test_train_dialog_run_config_and_settings_are_remembered(train_dialog, layers, qgis_iface):
    from hypersnn.ui.train_dialog import TrainDialog

    dlg = train_dialog
    cfg = dlg.run_config()  # OK alone works: defaults validate
    assert cfg.model.arch == "hybrid" and cfg.train.time_steps == 5 and cfg.train.weight_bits == 6
    # map production is what the dialog offers first and trains by default: every label trains the map model
    assert dlg.split_combo.currentData() == "cv" and dlg.split_combo.itemData(0) == "cv"
    assert cfg.split.method == "cv" and dlg.split_label.text() == "Folds"
    assert not dlg.val_frac_spin.isEnabled()  # nothing is held out for early stopping in map production
    assert cfg.preprocess.pca_components == -1 and dlg.pca_spin.text() == "auto"
    dlg.pca_spin.setValue(0)
    assert dlg.pca_spin.text() == "none" and dlg.pca_spin.valueFromText("auto") == -1
    dlg.arch_combo.setCurrentIndex(dlg.arch_combo.findData("3d"))
    dlg.time_steps_spin.setValue(3)
    dlg.bits_spin.setValue(4)
    dlg.patch_spin.setValue(7)
    dlg.pca_spin.setValue(5)
    dlg.split_combo.setCurrentIndex(dlg.split_combo.findData("blocks"))
    assert dlg.val_frac_spin.isEnabled()
    dlg.block_spin.setValue(8)
    dlg.block_frac_spin.setValue(0.4)
    dlg.bands.set_selected(range(10))
    cfg = dlg.run_config()
    assert (cfg.model.arch, cfg.train.time_steps, cfg.train.weight_bits, cfg.model.patch_size) == ("3d", 3, 4, 7)
    assert cfg.preprocess.pca_components == 5
    assert (cfg.split.method, cfg.split.block_size, cfg.split.train_fraction) == ("blocks", 8, 0.4)
    assert cfg.bands.indices == "1-10" and cfg.bands.drop_bad_bands is False
    dlg.split_combo.setCurrentIndex(dlg.split_combo.findData("cv"))  # map production: folds, no training fraction
    dlg.folds_spin.setValue(4)
    assert dlg.split_label.text() == "Folds" and dlg.split_stack.currentWidget() is dlg.folds_spin
    assert (dlg.run_config().split.method, dlg.run_config().split.folds) == ("cv", 4)
    dlg.split_combo.setCurrentIndex(dlg.split_combo.findData("blocks"))
    dlg.bits_spin.setValue(1)
    assert dlg.run_config().train.weight_bits == 0  # the lowest value reads "FP32"
    dlg.bits_spin.setValue(4)
    dlg.accept()
    assert dlg.result() == dlg.DialogCode.Accepted
    again = TrainDialog(qgis_iface)
    assert again.arch_combo.currentData() == "3d" and again.time_steps_spin.value() == 3
    assert again.bits_spin.value() == 4 and again.split_combo.currentData() == "blocks"
    assert again.folds_spin.value() == 4
    assert again.raster_combo.currentLayer() == layers["raster"]
    assert again.poly_combo.currentLayer() == layers["train"]
    again.deleteLater()


def test_train_dialog_refuses_incomplete_input(train_dialog, layers):
    dlg = train_dialog
    dlg.bands.set_selected([])
    assert dlg.validate() == "Select at least one band."
    dlg.accept()
    assert dlg.result() != dlg.DialogCode.Accepted
    dlg.bands.set_selected(range(12))
    dlg.val_check.setChecked(True)
    dlg.val_combo.setLayer(layers["train"])
    dlg.poly_combo.setLayer(layers["train"])
    assert "must differ" in dlg.validate()
    dlg.val_combo.setLayer(layers["valid"])
    dlg.val_field_combo.setField("klass")
    assert dlg.validate() is None and dlg.run_config().split.method == "given"
    dlg.model_file.setFilePath("/no/such/folder/m.hsnn")
    assert "does not exist" in dlg.validate()


def test_class_names_and_colours_from_categorized_style(train_dialog, layers):
    lyr = layers["train"]
    cats = []
    for v, name in D.CLASS_NAMES.items():
        sym = QgsSymbol.defaultSymbol(QgsWkbTypes.GeometryType.PolygonGeometry)
        sym.setColor(QColor(*D.CLASS_COLORS[v]))
        cats.append(QgsRendererCategory(v, sym, name))
    lyr.setRenderer(QgsCategorizedSymbolRenderer("klass", cats))
    dlg = train_dialog
    dlg.poly_combo.setLayer(lyr)
    style = dlg.class_style()
    assert style == {str(v): (D.CLASS_NAMES[v], D.CLASS_COLORS[v]) for v in (1, 2, 3)}
    assert "meadow" in dlg.classes_label.text()
    dlg.point_buffer_spin.setValue(2)
    dlg.point_unit_combo.setCurrentIndex(dlg.point_unit_combo.findData("map units"))
    job = dlg.build_job()
    assert len(job.labels.features) == 3 and job.class_style.entries["2"][0] == "forest"
    assert (job.labels.point_buffer, job.labels.point_buffer_unit) == (2.0, "map units")
    from hypersnn.core.data.labels import labels_from_polygons
    from hypersnn.plugin.io_gdal import raster_info
    from hypersnn.plugin.ogr_vectors import rasterize_gdal

    labels = labels_from_polygons(job.labels.features, raster_info(job.raster), rasterize_gdal)
    job.class_style.apply(labels)
    assert [(c.name, c.color) for c in labels.classes] == [(D.CLASS_NAMES[v], D.CLASS_COLORS[v]) for v in (1, 2, 3)]


def test_classify_dialog_shows_model_and_refuses_mismatch(trained_model, layers, scene_dir, qgis_iface,
                                                          clean_settings):
    import re

    from hypersnn.core.models.record import read_record
    from hypersnn.ui.classify_dialog import ClassifyDialog
    from qgis.core import QgsRasterLayer
    from qgis.PyQt.QtWidgets import QDialogButtonBox

    dlg = ClassifyDialog(qgis_iface)
    dlg.raster_combo.setLayer(layers["raster"])
    dlg.model_file.setFilePath(str(trained_model))
    text = dlg.model_view.toPlainText()
    for piece in ("12 of a 12-band raster: 1-12", "450.0-2350.0 nm", "3: 1: Class 1; 2: Class 2; 3: Class 3",
                  "6-bit"):
        assert piece in text, piece
    steps = read_record(trained_model).time_steps
    assert re.search(rf"Time steps\s+{steps}\n", text), text  # the model's own T, on its row
    assert dlg.mismatch() is None and dlg.validate() is None
    assert "has the bands the model expects" in dlg.match_label.text()
    other = QgsRasterLayer(str(scene_dir / "other.tif"), "other")
    layers["project"].addMapLayer(other)
    dlg.raster_combo.setLayer(other)
    msg = dlg.mismatch()
    assert "has 10 bands but the model expects 12" in msg
    assert "does not fit the model" in dlg.match_label.text()
    assert not dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert dlg.validate() == msg
    dlg.accept()
    assert dlg.result() != dlg.DialogCode.Accepted
    dlg.deleteLater()


def test_create_training_layer(layers, tmp_path, qgis_iface):
    from hypersnn.plugin.layers import add_polygon, class_style_from_layer
    from hypersnn.ui.training_layer_dialog import TrainingLayerDialog
    from qgis.core import QgsGeometry, QgsProject

    dlg = TrainingLayerDialog(qgis_iface)
    dlg.raster_combo.setLayer(layers["raster"])
    assert dlg.crs().authid() == "EPSG:32633"
    dlg.file.setFilePath(str(tmp_path / "new_training.gpkg"))
    dlg.table.item(0, 1).setText("water")
    assert dlg.validate() is None
    lyr = dlg.create()
    assert lyr.isValid() and lyr.isEditable() and lyr.crs().authid() == "EPSG:32633"
    assert [f.name() for f in lyr.fields()][-2:] == ["class_id", "class_name"]
    assert lyr.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry
    assert QgsProject.instance().mapLayer(lyr.id()) is lyr
    style = class_style_from_layer(lyr, "class_id")
    assert [v[0] for v in style.values()] == ["water", "Class 2", "Class 3"]
    ring = D.box_ring(1, 1, 5, 5)
    assert add_polygon(lyr, QgsGeometry.fromWkt("POLYGON((" + ",".join(f"{x} {y}" for x, y in ring) + "))"), 1)
    assert lyr.commitChanges()
    f = next(lyr.getFeatures())
    assert f["class_id"] == 1 and f["class_name"] == "water"  # filled from the class table
    assert (tmp_path / "new_training_classes.json").exists()
    dlg2 = TrainingLayerDialog(qgis_iface)
    dlg2.file.setFilePath(str(tmp_path / "new_training.gpkg"))
    assert "already exists" in dlg2.validate()


def test_more_settings_are_generated_from_the_registry(train_dialog):
    """Every training setting the dialog has no own widget for appears in 'More settings', typed from its
    metadata, and reaches the run's settings."""
    from qgis.PyQt.QtWidgets import QComboBox, QSpinBox

    from hypersnn.core.config.schema import RunConfig
    from hypersnn.core.config.settings import TRAIN_SECTIONS, settings

    dlg = train_dialog
    keys = {s.key for s in settings(*TRAIN_SECTIONS, where="dialog")}
    assert set(dlg.more.widgets) == keys
    assert {"train.leak_mode", "model.input_bits", "train.spike_penalty", "baseline.kind"} <= keys
    leak = dlg.more.widgets["train.leak_mode"]
    bits = dlg.more.widgets["model.input_bits"]
    assert isinstance(leak, QComboBox) and isinstance(bits, QSpinBox) and bits.maximum() == 16
    leak.setCurrentIndex(leak.findData("pow2"))
    bits.setValue(8)
    base = dlg.more.widgets["baseline.kind"]
    base.setCurrentIndex(base.findData("svm"))
    cfg = dlg.run_config()
    assert cfg.train.leak_mode == "pow2" and cfg.model.input_bits == 8 and cfg.baseline.kind == "svm"
    dlg.set_config(RunConfig())  # the widgets back at the defaults, then the settings read back into them
    assert leak.currentData() == "trained" and bits.value() == 0 and base.currentData() != "svm"
    dlg.set_config(cfg)
    assert leak.currentData() == "pow2" and bits.value() == 8 and base.currentData() == "svm"


def test_choosing_a_preset_shows_its_settings_and_default_puts_them_back(train_dialog):
    from hypersnn.core.config.schema import PRESETS, RunConfig

    dlg = train_dialog
    dlg.preset_combo.setCurrentIndex(dlg.preset_combo.findData("efficient"))
    cfg = dlg.run_config()
    for key, value in PRESETS["efficient"].items():
        section, name = key.split(".")
        assert getattr(getattr(cfg, section), name) == value, key
    dlg.preset_combo.setCurrentIndex(dlg.preset_combo.findData("default"))
    cfg, default = dlg.run_config(), RunConfig()
    for key in PRESETS["efficient"]:
        section, name = key.split(".")
        assert getattr(getattr(cfg, section), name) == getattr(getattr(default, section), name), key


# -- issue 20: the Train dialog on a small screen, its guesses, its refusals and its outputs -----------------------

def _inputs(dlg):
    """Every control a user works in the Train dialog (inside its scroll area)."""
    from qgis.gui import QgsFileWidget, QgsMapLayerComboBox
    from qgis.PyQt.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QTableWidget

    kinds = (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractButton, QgsFileWidget, QgsMapLayerComboBox, QTableWidget)
    content = dlg.scroll.widget()
    return [w for w in content.findChildren(kinds) if w.isVisibleTo(dlg) and w.isEnabled()
            and not isinstance(w.parentWidget(), (QgsFileWidget, QAbstractSpinBox, QComboBox))]


def _reachable(dlg):
    """The controls that scrolling to them does not bring fully into the scroll area's view."""
    from qgis.PyQt.QtCore import QRect

    view = dlg.scroll.viewport()
    missed = []
    for w in _inputs(dlg):
        c = w.mapTo(dlg.scroll.widget(), w.rect().center())  # scroll so that the whole control shows
        dlg.scroll.ensureVisible(c.x(), c.y(), min(w.width(), view.width()) // 2 + 1,
                              min(w.height(), view.height()) // 2 + 1)
        rect = QRect(w.mapTo(view, w.rect().topLeft()), w.size())
        seen = rect.intersected(view.rect())  # a table taller than the view scrolls itself: a part is enough
        if seen.height() < min(rect.height(), 40) or seen.width() < min(rect.width(), 40):
            missed.append(f"{type(w).__name__} {w.objectName() or w.toolTip()[:30]!r} at {rect} in {view.size()}")
    return missed


def test_train_dialog_fits_a_1366x768_screen_and_every_control_can_be_reached(train_dialog, qgis_app):
    """Issue 20, item 1: the dialog opened 1370 x 1236 with a minimum height of 865 px, so Train and Cancel were
    off a 768-px screen. Now its minimum fits a laptop's free area (1366 x 728 less a title bar), it never opens
    larger than the screen, the buttons stay outside the scrolling part, and scrolling reaches every control."""
    from qgis.PyQt.QtWidgets import QDialogButtonBox

    dlg = train_dialog
    dlg.more_group.setCollapsed(False)  # the longest form: every registry setting shown
    dlg.show()
    qgis_app.processEvents()
    avail = dlg.screen().availableGeometry()
    assert dlg.width() <= avail.width() and dlg.height() <= avail.height(), (dlg.size(), avail)
    hint = dlg.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 728 - 40, hint
    for w, h in ((1366, 728 - 40), (avail.width(), avail.height() - 40)):  # a laptop, and this (virtual) screen
        dlg.resize(w, h)
        qgis_app.processEvents()
        assert dlg.height() <= 728 and dlg.width() <= 1366, dlg.size()
        train = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
        for b in (train, dlg.buttons.button(QDialogButtonBox.StandardButton.Cancel), dlg.help_button):
            pos = b.mapTo(dlg, b.rect().bottomRight())
            assert b.isVisible() and 0 <= pos.y() <= dlg.height() and 0 <= pos.x() <= dlg.width(), (w, h, pos)
        assert len(_inputs(dlg)) > 40
        assert _reachable(dlg) == [], (w, h)
        names = {dlg.bands.all_btn, dlg.bands.bad_btn, dlg.bands.ranges_edit, dlg.model_file, dlg.confidence_file,
                 dlg.more.widgets["baseline.kind"]}
        assert names <= set(_inputs(dlg))
    dlg.hide()


def _vector(path, rows, fields, epsg=None, points=False, offset=(0.0, 0.0)):
    """A GeoPackage of boxes on the scene grid (UTM 33N); `rows`: [((r0, c0, r1, c1), {field: value})]."""
    from osgeo import ogr

    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    lyr = ds.CreateLayer("training", D.srs(epsg or D.EPSG), ogr.wkbPoint if points else ogr.wkbPolygon)
    for name, kind in fields:
        lyr.CreateField(ogr.FieldDefn(name, kind))
    for box, values in rows:
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in D.box_ring(*box):
            ring.AddPoint_2D(x + offset[0], y + offset[1])
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in values.items():
            f.SetField(k, v)
        f.SetGeometry(poly.Centroid() if points else poly)
        lyr.CreateFeature(f)
    ds = None
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(str(path), path.stem, "ogr")
    assert layer.isValid()
    return layer


def _small_boxes(n=12):
    return [((1 + (i // 6) * 9, 1 + (i % 6) * 3, 1 + (i // 6) * 9 + 6, 1 + (i % 6) * 3 + 2)) for i in range(n)]


def test_class_field_guess_is_never_a_feature_id_and_an_id_like_field_is_warned(train_dialog, layers, tmp_path):
    """Issue 20, item 2: the class field defaulted to `fid` ("485 class values in 485 polygons"). A layer with
    fid, a unique name and a land-cover field now gets the land-cover field; a categorized style's field wins;
    and choosing the name field (one value per feature) says so in the dialog."""
    from osgeo import ogr

    rows = [(box, {"name": f"parcel {i}", "area_id": 100 + i, "landcover": ("water", "forest", "meadow")[i % 3]})
            for i, box in enumerate(_small_boxes(12))]
    lyr = _vector(tmp_path / "parcels.gpkg", rows, [("name", ogr.OFTString), ("area_id", ogr.OFTInteger),
                                                    ("landcover", ogr.OFTString)])
    assert [f.name() for f in lyr.fields()][0] == "fid"
    layers["project"].addMapLayer(lyr)
    dlg = train_dialog
    dlg.poly_combo.setLayer(lyr)
    assert dlg.field_combo.currentField() == "landcover"
    assert not dlg.field_warning.isVisibleTo(dlg)
    assert dlg.classes_label.text().startswith("3 classes in 12 features, named by field 'landcover'")
    for field in ("fid", "name", "area_id"):
        dlg.field_combo.setField(field)
        assert dlg.field_warning.isVisibleTo(dlg), field
        assert "12 different values in 12 features" in dlg.field_warning.text()
        assert "not a class" in dlg.field_warning.text()
    dlg.field_combo.setField("landcover")
    assert not dlg.field_warning.isVisibleTo(dlg)
    # a categorized style on another plausible field is what the user styled the classes by
    rows = [(box, {"level": 1 + i % 2, "landcover": ("water", "forest", "meadow")[i % 3]})
            for i, box in enumerate(_small_boxes(12))]
    styled = _vector(tmp_path / "styled.gpkg", rows, [("level", ogr.OFTInteger), ("landcover", ogr.OFTString)])
    cats = [QgsRendererCategory(v, QgsSymbol.defaultSymbol(QgsWkbTypes.GeometryType.PolygonGeometry), f"L{v}")
            for v in (1, 2)]
    styled.setRenderer(QgsCategorizedSymbolRenderer("level", cats))
    layers["project"].addMapLayer(styled)
    dlg.poly_combo.setLayer(styled)
    assert dlg.field_combo.currentField() == "level"


def test_outputs_get_free_names_and_replacing_asks_first(layers, clean_settings, qgis_iface, tmp_path, qgis_app):
    """Issue 20, item 4: retraining with the auto-filled names replaced the earlier model and maps silently. The
    dialog now proposes names no earlier run used (beside the raster), and an existing output chosen by hand
    is replaced only after a Yes in a question box (No keeps the dialog open and the file intact)."""
    import shutil

    from qgis.core import QgsRasterLayer
    from qgis.PyQt.QtCore import QTimer
    from qgis.PyQt.QtWidgets import QApplication, QMessageBox

    from hypersnn.ui.train_dialog import TrainDialog

    shutil.copyfile(layers["raster"].source(), tmp_path / "scene.tif")
    raster = QgsRasterLayer(str(tmp_path / "scene.tif"), "scene copy")
    layers["project"].removeMapLayer(layers["raster"].id())
    layers["project"].addMapLayer(raster)
    (tmp_path / "scene_snn.hsnn").write_bytes(b"earlier model")
    (tmp_path / "scene_classes_2_report.html").write_text("an earlier run's report")
    dlg = TrainDialog(qgis_iface)
    assert dlg.raster_combo.currentLayer() == raster
    assert dlg.model_file.filePath() == str(tmp_path / "scene_snn_3.hsnn")  # _2 is taken by the report
    assert dlg.class_map_file.filePath() == str(tmp_path / "scene_classes_3.tif")
    assert dlg.confidence_file.filePath() == str(tmp_path / "scene_confidence_3.tif")
    assert dlg.validate() is None
    dlg.model_file.setFilePath(str(tmp_path / "scene_snn.hsnn"))  # the user picks the earlier model's name
    assert not dlg.model_file.confirmOverwrite()  # asked once, below, not twice
    asked = []

    def answer(button):
        def click():
            box = next((w for w in QApplication.topLevelWidgets()
                        if isinstance(w, QMessageBox) and w.objectName() == "hypersnn_confirm_replace"
                        and w.isVisible()), None)
            if box is None:
                QTimer.singleShot(20, click)
                return
            asked.append(box.text())
            box.button(button).click()
        QTimer.singleShot(0, click)

    answer(QMessageBox.StandardButton.No)
    dlg.accept()
    assert asked and str(tmp_path / "scene_snn.hsnn") in asked[-1] and "Replace them?" in asked[-1]
    assert dlg.result() != dlg.DialogCode.Accepted and (tmp_path / "scene_snn.hsnn").read_bytes() == b"earlier model"
    answer(QMessageBox.StandardButton.Yes)
    dlg.accept()
    assert len(asked) == 2 and dlg.result() == dlg.DialogCode.Accepted
    assert dlg.build_job().replace_reports  # the Yes covers the report files listed in the question too
    # with free names nothing is asked
    again = TrainDialog(qgis_iface)
    again.accept()
    assert len(asked) == 2 and again.result() == again.DialogCode.Accepted
    assert not again.build_job().replace_reports
    dlg.deleteLater()
    again.deleteLater()


def test_labels_off_the_raster_or_of_one_class_keep_the_dialog_open(train_dialog, layers, tmp_path):
    """Issue 20, item 10: polygons 50 km off the raster and a field with one class were accepted and the task
    failed. The dialog now says so and stays open."""
    from osgeo import ogr

    dlg = train_dialog
    rows = [(box, {"klass": 1 + i % 3}) for i, box in enumerate(_small_boxes(6))]
    far = _vector(tmp_path / "far.gpkg", rows, [("klass", ogr.OFTInteger)], offset=(50000.0, 0.0))
    one = _vector(tmp_path / "one.gpkg", [(b, {"klass": 2}) for b in _small_boxes(6)], [("klass", ogr.OFTInteger)])
    layers["project"].addMapLayers([far, one])
    dlg.poly_combo.setLayer(far)
    dlg.field_combo.setField("klass")
    problem = dlg.validate()
    assert problem and "'far' lies entirely outside raster 'scene'" in problem and "CRS" in problem
    dlg.accept()
    assert dlg.result() != dlg.DialogCode.Accepted and dlg.problem_label.isVisibleTo(dlg)
    assert "entirely outside" in dlg.problem_label.text()  # in full, beside the buttons
    dlg.poly_combo.setLayer(one)
    dlg.field_combo.setField("klass")
    assert "holds only one class (2)" in dlg.validate()
    assert "holds only one class (2)" in dlg.problem_label.text()  # the shown problem follows the input
    dlg.accept()
    assert dlg.result() != dlg.DialogCode.Accepted
    dlg.poly_combo.setLayer(layers["train"])
    dlg.field_combo.setField("klass")
    assert not dlg.problem_label.isVisibleTo(dlg)  # fixed: the problem goes away
    # the same for independent validation polygons off the raster
    dlg.poly_combo.setLayer(layers["train"])
    dlg.field_combo.setField("klass")
    dlg.val_check.setChecked(True)
    dlg.val_combo.setLayer(far)
    dlg.val_field_combo.setField("klass")
    assert "validation data 'far' lies entirely outside" in dlg.validate()
    dlg.val_combo.setLayer(layers["valid"])
    dlg.val_field_combo.setField("klass")
    assert dlg.validate() is None


def test_band_range_error_clears_once_a_selection_is_made(qgis_app, tmp_path):
    """Issue 20, item 10: the band-range error stayed on screen after "All" was clicked."""
    from hypersnn.plugin.io_gdal import raster_info
    from hypersnn.ui.band_selector import BandSelector

    bs = BandSelector()
    bs.set_info(raster_info(D.make_raster(tmp_path / "s.tif")))
    for clear in (bs.all_btn.click, bs.none_btn.click, bs.bad_btn.click,
                  lambda: bs.table.item(0, 0).setCheckState(Qt.CheckState.Checked)):  # a click in the table
        bs.ranges_edit.setText("1-40")
        bs.apply_ranges()
        assert "valid bands are 1..12" in bs.error_label.text() and not bs.error_label.isHidden()
        clear()
        assert bs.error_label.isHidden() and bs.error_label.text() == ""


def test_more_settings_read_as_words_fractions_as_percent_point_buffer_only_for_points(train_dialog, layers,
                                                                                         tmp_path):
    """Issue 20, item 11: "Cnn lr", "Snn lr", "Val smoothing", "Kind: none", "Input bits 0" and 0.100 were what
    the dialog showed; the point buffer showed for polygons."""
    from osgeo import ogr
    from qgis.PyQt.QtWidgets import QFormLayout

    from hypersnn.core.config.settings import TRAIN_SECTIONS, settings

    dlg = train_dialog
    form = dlg.more.layout()
    assert isinstance(form, QFormLayout)
    labels = {s.key: form.labelForField(dlg.more.widgets[s.key]).text()
              for s in settings(*TRAIN_SECTIONS, where="dialog")}
    assert labels["train.cnn_lr"] == "CNN learning rate" and labels["train.snn_lr"] == "SNN learning rate"
    assert labels["train.val_smoothing"] == "Validation smoothing" and labels["baseline.kind"] == "Baseline classifier"
    assert not {"Cnn lr", "Snn lr", "Val smoothing", "Kind", "Input bits"} & set(labels.values())
    kind = dlg.more.widgets["baseline.kind"]
    assert [kind.itemText(i) for i in range(kind.count())][:2] == ["None", "SVM (RBF)"]
    bits = dlg.more.widgets["model.input_bits"]
    bits.setValue(0)
    assert bits.text() == "real numbers"
    bits.setValue(8)
    assert bits.text() == "8 bits" and dlg.run_config().model.input_bits == 8
    # fractions as percentages, still fractions in the settings
    dlg.split_combo.setCurrentIndex(dlg.split_combo.findData("random"))
    assert dlg.frac_spin.text() == "10 %" and dlg.val_frac_spin.text() == "10 %"
    dlg.frac_spin.lineEdit().setText("25 %")
    dlg.frac_spin.interpretText()
    assert dlg.frac_spin.value() == 0.25 and dlg.run_config().split.train_fraction == 0.25
    dlg.frac_spin.setValue(0.125)
    assert dlg.frac_spin.text() == "12.5 %"
    # point buffer: points only
    dlg.poly_combo.setLayer(layers["train"])
    assert dlg.point_buffer_row.isHidden() and dlg.point_buffer_label.isHidden()
    pts = _vector(tmp_path / "pts.gpkg", [(b, {"klass": 1 + i % 3}) for i, b in enumerate(_small_boxes(6))],
                  [("klass", ogr.OFTInteger)], points=True)
    layers["project"].addMapLayer(pts)
    dlg.poly_combo.setLayer(pts)
    assert not dlg.point_buffer_row.isHidden() and not dlg.point_buffer_label.isHidden()


def test_help_button_opens_the_plugin_documentation(train_dialog, qgis_app, qgis_iface):
    """Issue 20, item 13: a Help button in each of the plugin's dialogs, as in EnMAP-Box, dzetsaka and SCP."""
    from hypersnn.ui.classify_dialog import ClassifyDialog
    from hypersnn.ui.training_layer_dialog import TrainingLayerDialog

    from qgis.PyQt.QtCore import QObject, pyqtSlot
    from qgis.PyQt.QtGui import QDesktopServices

    class Browser(QObject):
        def __init__(self):
            super().__init__()
            self.urls = []

        @pyqtSlot("QUrl")
        def open(self, url):
            self.urls.append(url.toString())

    browser = Browser()
    QDesktopServices.setUrlHandler("https", browser, "open")
    others = [ClassifyDialog(qgis_iface), TrainingLayerDialog(qgis_iface)]
    try:
        train_dialog.help_button.click()
        for dlg in others:
            dlg.help_button.click()
    finally:
        QDesktopServices.unsetUrlHandler("https")
        for dlg in others:
            dlg.deleteLater()
    assert browser.urls == ["https://github.com/hypersnn/hypersnn#qgis-plugin"] * 3


def test_band_selector_plots_the_mean_spectrum_of_each_class(train_dialog, layers):
    """Issue 20, item 13: a spectral plot in the band selector: the mean spectrum per class of the training
    data, the same numbers as the pixels under the polygons."""
    import numpy as np

    from hypersnn.core.data.labels import labels_from_polygons
    from hypersnn.plugin.io_gdal import open_raster
    from hypersnn.plugin.ogr_vectors import rasterize_gdal

    dlg = train_dialog
    dlg.poly_combo.setLayer(layers["train"])
    dlg.field_combo.setField("klass")
    assert dlg.bands.plot.curves == []  # computed only when looked at
    dlg.bands.tabs.setCurrentWidget(dlg.bands.plot)
    curves = dlg.bands.plot.curves
    assert [c[0] for c in curves] == ["Class 1", "Class 2", "Class 3"], dlg.bands.plot.message
    job = dlg.build_job()
    r = open_raster(job.raster)
    cube = r.read().astype(float)
    labels = labels_from_polygons(job.labels.features, r.info, rasterize_gdal)
    for (name, _, mean), v in zip(curves, (1, 2, 3)):
        px = cube[labels.array == v]
        px = px[(px != D.NODATA).all(axis=1)]
        assert np.allclose(mean, px.mean(axis=0), rtol=1e-5), name
    assert dlg.bands.plot.grab().width() > 0  # paints
    dlg.bands.set_selected([0, 1])
    assert dlg.bands.plot.selected == {0, 1}


def test_train_dialog_is_not_modal_and_starts_the_run_on_accept(layers, clean_settings, qgis_iface, qgis_app):
    """Issue 20, item 13: the dialog no longer blocks QGIS (the attribute table can be opened while choosing
    the class field); Train hands the dialog to the caller, and a second call brings the open one forward."""
    from qgis.PyQt.QtWidgets import QApplication

    from hypersnn.ui.train_dialog import show_train_dialog

    started = []
    dlg = show_train_dialog(qgis_iface, started.append)
    qgis_app.processEvents()
    assert dlg.isVisible() and not dlg.isModal() and QApplication.activeModalWidget() is None
    assert show_train_dialog(qgis_iface, started.append, dlg) is dlg
    dlg.accept()
    assert started == [dlg] and not dlg.isVisible()
    other = show_train_dialog(qgis_iface, started.append, dlg)
    assert other is not dlg
    other.reject()
    assert started == [dlg]


def test_plugin_menu_opens_the_train_dialog_without_blocking(plugin, layers, clean_settings, qgis_app):
    """The plugin's Train action (ui/plugin.py) shows the dialog non-modally and keeps a single one open."""
    from qgis.PyQt.QtWidgets import QApplication

    plugin.train()
    dlg = plugin.train_dialog
    qgis_app.processEvents()
    assert dlg.isVisible() and not dlg.isModal() and QApplication.activeModalWidget() is None
    plugin.train()
    assert plugin.train_dialog is dlg
    dlg.reject()


def test_sample_label_raster_and_class_table_train_from_the_dialog(plugin, qgis_new_project, clean_settings,
                                                                   qgis_iface, tmp_path, wait):
    """Issue 20, item 5 (floor): the bundled Indian Pines sample (cube, label raster, classes.json) trains from
    the dialog with its class names: the dialog accepts the label raster, finds the class table beside it, and
    a one-epoch run through the training task writes a model whose classes carry those names."""
    import json
    import shutil

    from qgis.core import QgsRasterLayer, QgsTask

    from hypersnn.core.models.record import read_record
    from hypersnn.plugin.tasks import TrainTask
    from hypersnn.ui.train_dialog import TrainDialog

    from pathlib import Path

    from hypersnn.plugin.training_data import label_raster_problem

    sample = Path(__file__).resolve().parents[2] / "resources" / "indian_pines"
    for name in ("indian_pines.tif", "indian_pines_gt.tif", "classes.json"):
        shutil.copyfile(sample / name, tmp_path / name)
    names = {c["value"]: c["name"] for c in json.loads((sample / "classes.json").read_text())["classes"]}
    cube = QgsRasterLayer(str(tmp_path / "indian_pines.tif"), "indian_pines")
    gt = QgsRasterLayer(str(tmp_path / "indian_pines_gt.tif"), "indian_pines_gt")
    qgis_new_project.addMapLayers([cube, gt])
    dlg = TrainDialog(qgis_iface)
    assert dlg.raster_combo.currentLayer() == cube
    assert dlg.poly_combo.currentLayer() == gt  # proposed: the only label raster in the project
    polys = [dlg.poly_combo.layer(i) for i in range(dlg.poly_combo.count())]
    assert cube not in polys  # the hyperspectral raster is never offered as its own labels
    assert not dlg.field_combo.isEnabled()
    assert dlg.class_table_file.filePath() == str(tmp_path / "classes.json")
    assert "16 classes, names from the class table" in dlg.classes_label.text()
    assert "Alfalfa" in dlg.classes_label.text()
    dlg.set_config(D.tiny_config(split={"method": "count", "train_count": 8, "val_fraction": 0.0},
                                 train={"cnn_epochs": 1, "snn_epochs": 1}, preprocess={"pca_components": 8}))
    dlg.classify_check.setChecked(False)
    assert dlg.validate() is None, dlg.validate()
    assert "has 200 bands: a label raster has one band" in label_raster_problem(cube)
    job = dlg.build_job()
    assert job.labels.kind == "raster" and job.labels.path == str(tmp_path / "indian_pines_gt.tif")
    assert job.labels.class_table == str(tmp_path / "classes.json")
    task = TrainTask(job, qgis_iface, show_report=lambda path: None)
    plugin.start_task(task)
    wait(lambda: task.status() in (QgsTask.TaskStatus.Complete, QgsTask.TaskStatus.Terminated), 300, "training")
    assert task.status() == QgsTask.TaskStatus.Complete, getattr(task, "error", None)
    record = read_record(job.model_path)
    assert {c["value"]: c["name"] for c in record.classes} == names
    dlg.deleteLater()
