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
    assert dlg.result() == dlg.Accepted
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
    assert dlg.result() != dlg.Accepted
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
    from hypersnn.core.labels import labels_from_polygons
    from hypersnn.plugin.io_gdal import raster_info, rasterize_gdal

    labels = labels_from_polygons(job.labels.features, raster_info(job.raster), rasterize_gdal)
    job.class_style.apply(labels)
    assert [(c.name, c.color) for c in labels.classes] == [(D.CLASS_NAMES[v], D.CLASS_COLORS[v]) for v in (1, 2, 3)]


def test_classify_dialog_shows_model_and_refuses_mismatch(trained_model, layers, scene_dir, qgis_iface,
                                                          clean_settings):
    from hypersnn.ui.classify_dialog import ClassifyDialog
    from qgis.core import QgsRasterLayer
    from qgis.PyQt.QtWidgets import QDialogButtonBox

    dlg = ClassifyDialog(qgis_iface)
    dlg.raster_combo.setLayer(layers["raster"])
    dlg.model_file.setFilePath(str(trained_model))
    text = dlg.model_view.toPlainText()
    for piece in ("12 of a 12-band raster: 1-12", "450.0-2350.0 nm", "3: 1: Class 1; 2: Class 2; 3: Class 3",
                  "Time steps", "2", "6-bit"):
        assert piece in text, piece
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
    assert dlg.result() != dlg.Accepted
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

    from hypersnn.core.settings import TRAIN_SECTIONS, settings

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
    dlg.set_config(cfg)
    assert leak.currentData() == "pow2"


def test_choosing_a_preset_shows_its_settings_and_default_puts_them_back(train_dialog):
    from hypersnn.core.config import PRESETS, RunConfig

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
