"""Train dialog: raster + bands, training polygons + class field, validation or split, model settings,
outputs. Produces a RunConfig (`run_config()`) and a ready-to-run jobs.TrainJob (`build_job()`)."""
from __future__ import annotations

import html
import os
from typing import Optional

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFieldProxyModel,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsRasterLayer,
)
from qgis.gui import QgsFieldComboBox, QgsMapLayerComboBox, QgsMessageBar
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .band_selector import BandSelector
from .common import (add_help_button, add_map_outputs, confirm_replace, existing_outputs, file_widget, free_outputs,
                     icon, set_setting, setting)
from .spin_boxes import PcaSpin
from .spin_boxes import dspin as _dspin
from .spin_boxes import percent as _percent
from .spin_boxes import spin as _spin

SPLITS = [("cv", "Map production: train on every label, cross-validated accuracy", "Folds"),
          ("auto", "Hold-out: whole polygons (2+ per class), else random", "Training share"),
          ("random", "Hold-out: random share per class", "Training share"),
          ("count", "Hold-out: fixed number of pixels per class", "Pixels per class"),
          ("blocks", "Hold-out: spatially disjoint blocks", "Blocks"),
          ("polygons", "Hold-out: whole polygons (spatially disjoint)", "Training share")]
"""(split method, what the list shows, the label of its parameter). Map production first: it is the default (the
map model trains on every label); the hold-out splits are for benchmarks."""
ARCHS = [("hybrid", "Hybrid 3-D / 2-D CNN"), ("3d", "3-D CNN")]


def default_training_layer(raster):
    """The layer the dialog proposes as training data: the first polygon or point layer, else the first label
    raster (one integer band) other than `raster`."""
    from qgis.core import QgsVectorLayer, QgsWkbTypes

    from ..plugin.training_data import label_raster_problem

    layers = list(QgsProject.instance().mapLayers().values())
    kinds = (QgsWkbTypes.GeometryType.PolygonGeometry, QgsWkbTypes.GeometryType.PointGeometry)
    vec = next((lyr for lyr in layers if isinstance(lyr, QgsVectorLayer) and lyr.geometryType() in kinds), None)
    if vec is not None:
        return vec
    return next((lyr for lyr in layers if isinstance(lyr, QgsRasterLayer) and lyr is not raster
                 and not label_raster_problem(lyr)), None)


class TrainDialog(QDialog):
    """Non-modal (QGIS stays usable, e.g. the attribute table while choosing the class field): `accepted` is
    emitted once the input is complete and every output to be replaced was agreed to; `build_job()` then gives
    the run. The content scrolls and the buttons stay visible, so every control is reachable on a small screen."""

    def __init__(self, iface=None, parent=None):
        super().__init__(parent or (iface.mainWindow() if iface is not None else None))
        from ..core.config.schema import RunConfig

        self.iface = iface
        self.base_config = RunConfig()
        self._auto_paths = {}
        self._label_raster_cache = {}
        self.setWindowTitle("HyperSNN: train SNN classifier")
        self.setWindowIcon(icon("train"))
        self.setModal(False)
        outer = QVBoxLayout(self)
        self.bar = QgsMessageBar(self)
        self.bar.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        outer.addWidget(self.bar)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget()
        self.scroll.setWidget(content)
        outer.addWidget(self.scroll, 1)
        cols = QBoxLayout(QBoxLayout.Direction.LeftToRight, content)
        cols.setContentsMargins(0, 0, 0, 0)
        self.columns = cols
        left, right = QVBoxLayout(), QVBoxLayout()
        cols.addLayout(left, 5)
        cols.addLayout(right, 4)

        # -- raster and bands --------------------------------------------------------------------
        g = QGroupBox("Hyperspectral raster")
        lay = QVBoxLayout(g)
        self.raster_combo = QgsMapLayerComboBox()
        self.raster_combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.raster_combo.setAllowEmptyLayer(True)
        lay.addWidget(self.raster_combo)
        self.raster_label = QLabel("")
        self.raster_label.setWordWrap(True)
        lay.addWidget(self.raster_label)
        self.bands = BandSelector()
        self.bands.spectra_provider = self.class_spectra
        lay.addWidget(self.bands, 1)
        left.addWidget(g, 1)

        # -- training data ---------------------------------------------------------------------------
        g = QGroupBox("Training data")
        form = QFormLayout(g)
        self.poly_combo = QgsMapLayerComboBox()
        self.poly_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer | QgsMapLayerProxyModel.Filter.PointLayer |
                                   QgsMapLayerProxyModel.Filter.RasterLayer)
        self.poly_combo.setAllowEmptyLayer(True)
        self.poly_combo.setToolTip("Polygons or points with a class field, or a label raster (one integer band, "
                                   "0 or nodata = unlabelled), as the command line's --polygons or --labels")
        form.addRow("Training labels", self.poly_combo)
        self.field_combo = QgsFieldComboBox()
        self.field_combo.setFilters(QgsFieldProxyModel.Filter.Numeric | QgsFieldProxyModel.Filter.String)
        form.addRow("Class field", self.field_combo)
        self.classes_label = QLabel("")
        self.classes_label.setWordWrap(True)
        form.addRow("", self.classes_label)
        self.field_warning = QLabel("")
        self.field_warning.setWordWrap(True)
        self.field_warning.setStyleSheet("color: #b00020")
        self.field_warning.hide()
        form.addRow(self.field_warning)
        self.class_table_file = file_widget("Class table or QGIS style (*.json *.qml)")
        self.class_table_file.setToolTip("Optional class names and colours: a JSON class table [{value, name, color}] "
                                         "or a QGIS style (.qml), as the command line's --classes. Found beside the "
                                         "training data (classes.json, <name>_classes.json, <name>.qml) by default")
        self.class_table_file.fileChanged.connect(lambda _: self._refresh_classes())
        form.addRow("Class table", self.class_table_file)
        row = QHBoxLayout()
        self.point_buffer_spin = _dspin(0.0, 100000.0, 0.0, step=1.0, decimals=1)
        self.point_buffer_spin.setToolTip("Grow each point into the pixels around it: n pixels gives the (2n + 1) x "
                                          "(2n + 1) block around its pixel; map units, the pixels within that distance. "
                                          "0: the pixel the point falls in")
        self.point_unit_combo = QComboBox()
        from ..core.config.schema import POINT_BUFFER_UNITS

        for unit in POINT_BUFFER_UNITS:
            self.point_unit_combo.addItem(unit, unit)
        row.addWidget(self.point_buffer_spin)
        row.addWidget(self.point_unit_combo)
        self.point_buffer_row = QWidget()
        self.point_buffer_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.point_buffer_label = QLabel("Point buffer")
        form.addRow(self.point_buffer_label, self.point_buffer_row)
        self.val_check = QCheckBox("Independent validation polygons or points")
        self.val_check.setToolTip("Test on separate polygons: every training pixel trains, validation pixels test")
        form.addRow(self.val_check)
        self.val_combo = QgsMapLayerComboBox()
        self.val_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer | QgsMapLayerProxyModel.Filter.PointLayer)
        self.val_combo.setAllowEmptyLayer(True)
        self.val_field_combo = QgsFieldComboBox()
        self.val_field_combo.setFilters(QgsFieldProxyModel.Filter.Numeric | QgsFieldProxyModel.Filter.String)
        form.addRow("Validation polygons", self.val_combo)
        form.addRow("Validation class field", self.val_field_combo)
        self.split_combo = QComboBox()
        for key, text, _ in SPLITS:
            self.split_combo.addItem(text, key)
        form.addRow("Split", self.split_combo)
        self.split_stack = QStackedWidget()
        self.auto_frac_spin = _percent(0.01, 0.99, 0.1)
        self.frac_spin = _percent(0.01, 0.99, 0.1)
        self.count_spin = _spin(1, 100000, 50, suffix=" px")
        blk = QWidget()
        bl = QHBoxLayout(blk)
        bl.setContentsMargins(0, 0, 0, 0)
        self.block_frac_spin = _percent(0.01, 0.99, 0.5)
        self.block_spin = _spin(2, 4096, 16, suffix=" px")
        bl.addWidget(QLabel("training share"))
        bl.addWidget(self.block_frac_spin)
        bl.addWidget(QLabel("block"))
        bl.addWidget(self.block_spin)
        self.poly_frac_spin = _percent(0.01, 0.99, 0.5)
        self.folds_spin = _spin(2, 10, 3)
        self.folds_spin.setToolTip("Grouped cross-validation folds over spatial clusters of the labels: the map model "
                                   "trains on every label, and each fold's model (one training each) gives the accuracy")
        pages = {"cv": self.folds_spin, "auto": self.auto_frac_spin, "random": self.frac_spin, "count": self.count_spin,
                 "blocks": blk, "polygons": self.poly_frac_spin}
        for key, _, _ in SPLITS:
            self.split_stack.addWidget(pages[key])
        self.split_label = QLabel("Training share")
        form.addRow(self.split_label, self.split_stack)
        self.val_frac_spin = _percent(0.0, 0.9, 0.1)
        self.val_frac_spin.setToolTip("Share of the training pixels held back for early stopping")
        form.addRow("Early-stopping share", self.val_frac_spin)
        right.addWidget(g)

        # -- model -------------------------------------------------------------------------------
        g = QGroupBox("Model")
        form = QFormLayout(g)
        from ..core.config.schema import PRESET_NOTES, PRESETS
        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(name, name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, PRESET_NOTES[name], Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setToolTip("A named bundle of settings; the fields below show what it sets")
        form.addRow("Preset", self.preset_combo)
        self.arch_combo = QComboBox()
        for key, text in ARCHS:
            self.arch_combo.addItem(text, key)
        form.addRow("Architecture", self.arch_combo)
        row = QHBoxLayout()
        self.time_steps_spin = _spin(1, 64, 5)
        self.time_steps_spin.setToolTip("SNN time steps T: more steps, finer rate code, more energy")
        self.bits_spin = _spin(1, 16, 6, special="FP32")
        self.bits_spin.setToolTip("Weight bits (2..16); the lowest value means full precision (FP32)")
        row.addWidget(self.time_steps_spin)
        row.addWidget(QLabel("weight bits"))
        row.addWidget(self.bits_spin)
        form.addRow("Time steps", row)
        row = QHBoxLayout()
        self.patch_spin = _spin(1, 63, 11, step=2, suffix=" px")
        self.pca_spin = PcaSpin()
        self.pca_spin.setToolTip("Principal components kept after band selection, fitted on the training pixels: "
                                 "auto = 30 with more than 64 bands, else none; none = use the bands")
        row.addWidget(self.patch_spin)
        row.addWidget(QLabel("PCA"))
        row.addWidget(self.pca_spin)
        form.addRow("Patch size", row)
        row = QHBoxLayout()
        self.cnn_epochs_spin = _spin(0, 10000, 30)
        self.snn_epochs_spin = _spin(0, 10000, 10)
        row.addWidget(QLabel("CNN"))
        row.addWidget(self.cnn_epochs_spin)
        row.addWidget(QLabel("SNN"))
        row.addWidget(self.snn_epochs_spin)
        form.addRow("Epochs", row)
        row = QHBoxLayout()
        self.seed_spin = _spin(0, 2 ** 31 - 1, 0)
        self.batch_spin = _spin(1, 65536, 64)
        row.addWidget(self.seed_spin)
        row.addWidget(QLabel("batch"))
        row.addWidget(self.batch_spin)
        form.addRow("Seed", row)
        self.config_file = file_widget("HyperSNN settings (*.json)")
        self.config_file.setToolTip("Optional JSON settings (as for the command line's --config): every setting "
                                    "not shown here, e.g. layer widths and learning rates")
        self.config_file.fileChanged.connect(self._config_file_changed)
        self.preset_combo.currentIndexChanged.connect(self._preset_changed)
        form.addRow("Settings file", self.config_file)
        right.addWidget(g)

        # -- every other training setting, generated from the settings registry ------------------------
        from qgis.gui import QgsCollapsibleGroupBox

        from ..core.config.settings import TRAIN_SECTIONS
        from .settings_form import SettingsForm

        g = QgsCollapsibleGroupBox("More settings")
        g.setCollapsed(True)
        lay = QVBoxLayout(g)
        self.more = SettingsForm(TRAIN_SECTIONS)
        lay.addWidget(self.more)
        self.more_group = g
        right.addWidget(g)
        right.addStretch(1)

        # -- outputs -----------------------------------------------------------------------------
        g = QGroupBox("Outputs")
        form = QFormLayout(g)
        self.model_file = file_widget("HyperSNN model (*.hsnn)", save=True)
        form.addRow("Model file", self.model_file)
        self.classify_check = QCheckBox("Classify the raster when training is done")
        self.classify_check.setChecked(True)
        form.addRow(self.classify_check)
        self.class_map_file, self.confidence_check, self.confidence_file = add_map_outputs(form)
        for w in (self.model_file, self.class_map_file, self.confidence_file):
            w.setConfirmOverwrite(False)  # asked once, on Train, for every output that exists (typed or browsed)
        note = QLabel("The accuracy and energy report (HTML, JSON, CSV) is written beside the class map. "
                      "Existing files are replaced only after you agree.")
        note.setWordWrap(True)
        form.addRow(note)
        left.addWidget(g)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Train")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        self.help_button = add_help_button(buttons, "qgis-plugin")
        # why Train did nothing, in full (a message bar cuts long text to two lines), beside the buttons
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setObjectName("problem_label")
        self.problem_label.setStyleSheet("QLabel#problem_label { background: #fff3cd; color: #5c4400; "
                                         "border: 1px solid #e0c060; padding: 4px; }")
        self.problem_label.hide()
        outer.addWidget(self.problem_label)
        outer.addWidget(buttons)
        self.buttons = buttons

        self.raster_combo.layerChanged.connect(self._raster_changed)
        self.poly_combo.layerChanged.connect(self._poly_changed)
        self.field_combo.fieldChanged.connect(self._field_changed)
        self.val_combo.layerChanged.connect(self._val_changed)
        self.val_check.toggled.connect(self._update_enabled)
        self.split_combo.currentIndexChanged.connect(self._split_changed)
        self.classify_check.toggled.connect(self._update_enabled)
        self.confidence_check.toggled.connect(self._update_enabled)
        for signal in (self.raster_combo.layerChanged, self.poly_combo.layerChanged, self.field_combo.fieldChanged,
                       self.val_combo.layerChanged, self.val_field_combo.fieldChanged, self.val_check.toggled,
                       self.bands.selectionChanged, self.class_table_file.fileChanged, self.model_file.fileChanged):
            signal.connect(self._recheck)

        self.load_settings()
        self._raster_changed(self.raster_combo.currentLayer())
        self._poly_changed(self.poly_combo.currentLayer())
        self._split_changed()
        self._update_enabled()
        for combo in self.scroll.widget().findChildren(QComboBox):
            # long item texts must not widen the dialog beyond a small screen: the list shows them in full
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        self.fit_to_screen()

    TWO_COLUMNS = 1000
    """Below this width (a small screen) the two columns stack and the content scrolls vertically only."""

    def resizeEvent(self, event):  # noqa: N802 - Qt API
        wide = event.size().width() >= self.TWO_COLUMNS
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self.columns.direction() != direction:
            self.columns.setDirection(direction)
        # the band table (or spectra plot) fills its column, but never grows past one screenful, also when a
        # long right column ("More settings" open) makes the content taller than the view
        self.bands.tabs.setMaximumHeight(max(160, event.size().height() - 330))
        super().resizeEvent(event)

    def fit_to_screen(self):
        """Open at a comfortable size, never larger than the screen's free area (a 1366 x 768 laptop with a
        task bar included): the scroll area takes what does not fit, the buttons stay in view."""
        from qgis.PyQt.QtGui import QGuiApplication

        parent = self.parentWidget()
        screen = (parent.screen() if parent is not None and hasattr(parent, "screen") else None) or \
            QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        w, h = 1120, 860
        if avail is not None:
            # leave room for the window frame and title bar, which availableGeometry does not subtract
            w, h = min(w, avail.width() - 24), min(h, avail.height() - 48)
            self.setMaximumSize(avail.width(), avail.height())
        self.setMinimumSize(min(480, w), min(320, h))
        self.resize(w, h)

    # -- reactions ---------------------------------------------------------------------------------
    def _raster_changed(self, layer):
        from ..plugin.io_gdal import layer_raster_path, raster_info

        info = None
        self.raster_error = ""
        if layer is not None:
            try:
                info = raster_info(layer_raster_path(layer))
            except Exception as e:  # noqa: BLE001 - show why this layer cannot be used
                self.raster_error = str(e)
                self.raster_label.setText(f"<span style='color:#b00020'>{e}</span>")
            else:
                wl = "with wavelengths" if info.wavelengths else "no wavelength metadata"
                bad = f", {sum(info.bad_bands)} flagged bad" if info.bad_bands and any(info.bad_bands) else ""
                crs = QgsCoordinateReferenceSystem.fromWkt(info.crs_wkt).authid() if info.crs_wkt else "no CRS"
                self.raster_label.setText(f"{info.width} x {info.height} pixels, {info.count} bands ({wl}{bad}), "
                                          f"{info.dtype}, {crs}")
        else:
            self.raster_label.setText("Choose a raster layer (GeoTIFF, ENVI, ...)")
        self.bands.set_info(info)
        self.info = info
        # the hyperspectral raster is never its own label raster
        self.poly_combo.setExceptedLayerList([layer] if layer is not None else [])
        src = layer_raster_path(layer) if info is not None else ""
        names = free_outputs(src, ("_snn.hsnn", "_classes.tif", "_confidence.tif")) if src else ["", "", ""]
        for widget, value in zip((self.model_file, self.class_map_file, self.confidence_file), names):
            self._auto_path(widget, value)

    def _auto_path(self, widget, value):
        """Follow the raster with default output names until the user types their own."""
        current = widget.filePath()
        if not current or current == self._auto_paths.get(id(widget)):
            widget.setFilePath(value)
            self._auto_paths[id(widget)] = value

    def label_raster(self):
        """The training layer when it is a label raster, else None."""
        layer = self.poly_combo.currentLayer()
        return layer if isinstance(layer, QgsRasterLayer) else None

    def _poly_changed(self, layer):
        from ..plugin.training_data import class_table_beside, data_path, guess_class_field

        old = getattr(self, "_styled_layer", None)
        if old is not None:
            try:
                old.rendererChanged.disconnect(self._refresh_classes)
            except (TypeError, RuntimeError):
                pass
        self._styled_layer = layer
        if layer is not None:
            layer.rendererChanged.connect(self._refresh_classes)
        keep = self.field_combo.currentField() or setting("train/class_field", "")
        is_raster = isinstance(layer, QgsRasterLayer)
        self.field_combo.blockSignals(True)
        self.field_combo.setLayer(None if is_raster else layer)
        if layer is not None and not is_raster:
            pick = guess_class_field(layer, keep)
            if pick:
                self.field_combo.setField(pick)
        self.field_combo.blockSignals(False)
        self.field_combo.setEnabled(not is_raster)
        self.field_combo.setToolTip("A label raster holds its classes as pixel values: no class field" if is_raster
                                    else "The attribute holding each polygon's class")
        self._auto_path(self.class_table_file, class_table_beside(data_path(layer)))
        self._update_point_buffer()
        self._field_changed(self.field_combo.currentField())

    def _val_changed(self, layer):
        self.val_field_combo.setLayer(layer)
        if layer is not None:
            from ..plugin.training_data import guess_class_field

            pick = guess_class_field(layer, self.field_combo.currentField())
            if pick:
                self.val_field_combo.setField(pick)
        self._update_point_buffer()

    def _update_point_buffer(self):
        """The point buffer matters only for point layers: hidden for polygons and label rasters."""
        from qgis.core import QgsVectorLayer, QgsWkbTypes

        used = [self.poly_combo.currentLayer()] + ([self.val_combo.currentLayer()] if self.val_check.isChecked() else [])
        points = any(isinstance(lyr, QgsVectorLayer) and lyr.geometryType() == QgsWkbTypes.GeometryType.PointGeometry
                     for lyr in used)
        self.point_buffer_label.setVisible(points)
        self.point_buffer_row.setVisible(points)

    def _refresh_classes(self, *_):
        self._field_changed(self.field_combo.currentField())

    def class_table_path(self) -> str:
        return self.class_table_file.filePath().strip()

    def class_style(self) -> dict:
        """{value as text: (name, colour)}: the class table when one is given, else the layer's categorized
        (polygons) or paletted (label raster) style."""
        from ..plugin.layers import class_style_from_layer
        from ..plugin.training_data import raster_class_style

        layer = self.poly_combo.currentLayer()
        table = self.class_table_path()
        if table and os.path.isfile(table):
            from ..core.errors import HyperSNNError
            from ..core.data.labels import read_class_table, read_qml_classes

            try:
                if table.lower().endswith(".qml"):
                    return read_qml_classes(table)
                return {str(c.value): (c.name, tuple(c.color)) for c in read_class_table(table)}
            except HyperSNNError:
                pass  # validate() names the problem
        if isinstance(layer, QgsRasterLayer):
            return raster_class_style(layer)
        return class_style_from_layer(layer, self.field_combo.currentField())

    def class_values(self) -> list:
        """The distinct class values of the training data (label raster pixels > 0, or the class field's values)."""
        from ..plugin.training_data import field_values, label_raster_problem, label_raster_values

        layer = self.poly_combo.currentLayer()
        if layer is None:
            return []
        if isinstance(layer, QgsRasterLayer):
            if label_raster_problem(layer):
                return []
            from ..plugin.io_gdal import layer_raster_path

            path = layer_raster_path(layer)
            if path not in self._label_raster_cache:
                try:
                    self._label_raster_cache[path] = label_raster_values(path)
                except Exception:  # noqa: BLE001 - validate() and the run say why it cannot be read
                    self._label_raster_cache[path] = []
            return self._label_raster_cache[path]
        field = self.field_combo.currentField()
        return sorted((str(v) for v in field_values(layer, field, 500)), key=lambda s: (len(s), s)) if field else []

    def _field_changed(self, field):
        from ..plugin.training_data import id_field_warning, label_raster_problem

        layer = self.poly_combo.currentLayer()
        self.bands.spectra_changed()
        raster = self.label_raster()
        warning = label_raster_problem(raster) if raster is not None else id_field_warning(layer, field)
        self.field_warning.setText(warning)
        self.field_warning.setVisible(bool(warning))
        if layer is None or (raster is None and not field) or (raster is not None and warning):
            self.classes_label.setText("")
            self.classes_label.setToolTip("")
            return
        style = self.class_style()
        values = [str(v) for v in self.class_values()]
        where = ("the class table" if self.class_table_path() and os.path.isfile(self.class_table_path())
                 else "the layer's style")
        if style:
            keys = [k for k in style if k in values] or list(style) if raster is not None else list(style)
            items = [f"{k} {style[k][0]}" if style[k][0] != k else k for k in keys]
            head = f"{len(items)} classes, names from {where}"
        elif raster is None and any(not v.strip().lstrip("-").isdigit() for v in values):
            items = values
            head = f"{len(items)} classes in {layer.featureCount()} features, named by field {field!r}"
        else:
            items = values
            unit = "pixel values" if raster is not None else f"values in {layer.featureCount()} features"
            head = f"{len(items)} class {unit} (no names: add a class table or a categorized style)"
        self.classes_label.setToolTip(head + ":\n" + "\n".join(items))
        text = head + ": " + ", ".join(items)
        self.classes_label.setText(text if len(text) <= 140 else text[:137].rstrip(", ") + "...")

    def _split_changed(self, *_):
        i = max(self.split_combo.currentIndex(), 0)
        self.split_stack.setCurrentIndex(i)
        self.split_label.setText(SPLITS[i][2])
        # map production holds nothing out, so nothing steers early stopping there: every epoch runs
        self.val_frac_spin.setEnabled(SPLITS[i][0] != "cv" or self.val_check.isChecked())

    def _update_enabled(self, *_):
        v = self.val_check.isChecked()
        for w in (self.val_combo, self.val_field_combo):
            w.setEnabled(v)
        for w in (self.split_combo, self.split_stack, self.split_label):
            w.setEnabled(not v)
        self._split_changed()
        self._update_point_buffer()
        c = self.classify_check.isChecked()
        self.class_map_file.setEnabled(c)
        self.confidence_check.setEnabled(c)
        self.confidence_file.setEnabled(c and self.confidence_check.isChecked())

    def _config_file_changed(self, path):
        if not path:
            return
        from ..core.config.schema import RunConfig

        try:
            cfg = RunConfig.load(path)
        except Exception as e:  # noqa: BLE001
            self.bar.pushCritical("Settings file", str(e))
            return
        self.set_config(cfg)

    def _preset_changed(self, *_):
        """Show the chosen preset's settings (every setting some preset controls: the preset's value or the
        default), keeping everything else as it is."""
        from ..core.config.schema import PRESETS, RunConfig

        name = self.preset_combo.currentData() or "default"
        cfg, default = self.run_config(), RunConfig()
        for key in {k for p in PRESETS.values() for k in p}:
            section, field_name = key.split(".")
            value = PRESETS[name].get(key, getattr(getattr(default, section), field_name))
            setattr(getattr(cfg, section), field_name, list(value) if isinstance(value, list) else value)
        self.set_config(cfg)

    # -- config ------------------------------------------------------------------------------------
    def set_config(self, cfg):
        """Show a RunConfig in the widgets; settings without a widget are kept for `run_config()`."""
        import copy

        self.base_config = copy.deepcopy(cfg)
        s, m, t = cfg.split, cfg.model, cfg.train
        i = next((k for k, (key, _, _) in enumerate(SPLITS) if key == s.method), 0)
        self.split_combo.setCurrentIndex(i)
        self.frac_spin.setValue(s.train_fraction)
        self.auto_frac_spin.setValue(s.train_fraction)
        self.block_frac_spin.setValue(s.train_fraction)
        self.poly_frac_spin.setValue(s.train_fraction)
        self.count_spin.setValue(s.train_count)
        self.block_spin.setValue(s.block_size)
        self.folds_spin.setValue(s.folds)
        self.val_frac_spin.setValue(s.val_fraction)
        self.arch_combo.setCurrentIndex(next((k for k, (key, _) in enumerate(ARCHS) if key == m.arch), 0))
        self.patch_spin.setValue(m.patch_size)
        self.pca_spin.setValue(cfg.preprocess.pca_components)
        self.time_steps_spin.setValue(t.time_steps)
        self.bits_spin.setValue(t.weight_bits if t.weight_bits else 1)
        self.cnn_epochs_spin.setValue(t.cnn_epochs)
        self.snn_epochs_spin.setValue(t.snn_epochs)
        self.batch_spin.setValue(t.batch_size)
        self.seed_spin.setValue(t.seed)
        self.more.set_config(cfg)

    def run_config(self):
        """The RunConfig these widgets describe (validated)."""
        import copy

        cfg = copy.deepcopy(self.base_config)
        key = self.split_combo.currentData() or SPLITS[0][0]
        cfg.split.method = key
        cfg.split.train_fraction = {"auto": self.auto_frac_spin, "random": self.frac_spin, "blocks": self.block_frac_spin,
                                    "polygons": self.poly_frac_spin}.get(key, self.frac_spin).value()
        cfg.split.train_count = self.count_spin.value()
        cfg.split.block_size = self.block_spin.value()
        cfg.split.folds = self.folds_spin.value()
        cfg.split.val_fraction = self.val_frac_spin.value()
        if self.val_check.isChecked():
            cfg.split.method = "given"
        if self.bands.info is not None:
            cfg.bands = self.bands.band_selection()
        cfg.model.arch = self.arch_combo.currentData() or "hybrid"
        cfg.model.patch_size = self.patch_spin.value()
        cfg.preprocess.pca_components = self.pca_spin.value()
        cfg.train.time_steps = self.time_steps_spin.value()
        cfg.train.weight_bits = 0 if self.bits_spin.value() <= 1 else self.bits_spin.value()
        cfg.train.cnn_epochs = self.cnn_epochs_spin.value()
        cfg.train.snn_epochs = self.snn_epochs_spin.value()
        cfg.train.batch_size = self.batch_spin.value()
        cfg.train.seed = self.seed_spin.value()
        self.more.apply(cfg)
        return cfg.couple_seeds(None, seed_given=True).validate()

    def restore_defaults(self):
        from ..core.config.schema import RunConfig

        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentIndex(0)
        self.preset_combo.blockSignals(False)
        self.set_config(RunConfig())
        self.val_check.setChecked(False)
        self.classify_check.setChecked(True)
        self.confidence_check.setChecked(True)
        self.config_file.setFilePath("")
        if self.bands.info is not None:
            self.bands.set_info(self.bands.info)

    # -- validation and results --------------------------------------------------------------------
    def validate(self) -> Optional[str]:
        """The first problem that prevents training, or None: everything the dialog can know before a run
        (labels off the raster, a single class, a label raster that is not one, ...) is said here, not by a
        failed task."""
        from ..core.errors import HyperSNNError
        from ..plugin.training_data import label_raster_problem, outside_raster

        raster = self.raster_combo.currentLayer()
        if raster is None:
            return "Choose the hyperspectral raster layer."
        if self.bands.info is None:
            return f"The raster cannot be used: {self.raster_error}"
        if not self.bands.selected():
            return "Select at least one band."
        layer = self.poly_combo.currentLayer()
        if layer is None:
            return "Choose the training polygons, points or label raster (Create training layer makes a polygon layer)."
        if self.label_raster() is not None:
            problem = label_raster_problem(layer)
            if problem:
                return problem
        else:
            field = self.field_combo.currentField()
            if not field:
                return "Choose the class field of the training polygons."
            if layer.featureCount() == 0:
                return f"The training layer {layer.name()!r} has no polygons yet."
        problem = outside_raster(layer, raster)
        if problem:
            return problem
        values = self.class_values()
        if len(values) < 2:
            where = (f"label raster {layer.name()!r}" if self.label_raster() is not None
                     else f"field {self.field_combo.currentField()!r} of layer {layer.name()!r}")
            if not values and self.label_raster() is None:  # the words the engine uses (plugin/io_gdal.py)
                return (f"Class field {self.field_combo.currentField()!r} of layer {layer.name()!r} is empty (null) "
                        f"in every feature: choose the field that holds the classes.")
            if not values:
                return f"The {where} holds no class values (all 0 or nodata)."
            return (f"The {where} holds only one class ({values[0]}): training needs at least two. Choose the field "
                    f"that holds the classes, or add polygons of other classes.")
        table = self.class_table_path()
        if table:
            if not os.path.isfile(table):
                return f"The class table does not exist: {table}"
            try:
                if table.lower().endswith(".qml"):
                    from ..core.data.labels import read_qml_classes

                    read_qml_classes(table)
                else:
                    from ..core.data.labels import read_class_table

                    read_class_table(table)
            except HyperSNNError as e:
                return str(e)
        if self.val_check.isChecked():
            if self.label_raster() is not None:
                return ("Independent validation polygons need training polygons, not a label raster: untick "
                        "'Independent validation polygons' (a split of the label raster tests instead).")
            if self.val_combo.currentLayer() is None:
                return "Choose the validation polygon layer, or untick 'Independent validation polygons'."
            if self.val_combo.currentLayer() == layer:
                return "The validation layer must differ from the training layer."
            if not self.val_field_combo.currentField():
                return "Choose the class field of the validation polygons."
            problem = outside_raster(self.val_combo.currentLayer(), raster, "validation data")
            if problem:
                return problem
        paths = [("model file", self.model_file.filePath())]
        if self.classify_check.isChecked():
            paths.append(("class map", self.class_map_file.filePath()))
            if self.confidence_check.isChecked():
                paths.append(("confidence map", self.confidence_file.filePath()))
        for what, p in paths:
            if not p:
                return f"Choose where to save the {what}."
            if not os.path.isdir(os.path.dirname(os.path.abspath(p))):
                return f"The folder for the {what} does not exist: {os.path.dirname(p)}"
        if not self.model_file.filePath().lower().endswith(".hsnn"):
            return "The model file name must end in .hsnn."
        try:
            self.run_config()
        except HyperSNNError as e:
            return str(e)
        return None

    def output_paths(self) -> list:
        """Every file the run will write: model, maps when classifying, and the report beside them."""
        from ..workflows.train import default_report_target

        model = self.model_file.filePath()
        class_map = self.class_map_file.filePath() if self.classify_check.isChecked() else None
        out = [model]
        if class_map:
            out.append(class_map)
            if self.confidence_check.isChecked():
                out.append(self.confidence_file.filePath())
        return out + default_report_target(model, class_map).files()

    def show_problem(self, problem: Optional[str]):
        self.problem_label.setText(f"<b>Cannot train yet:</b> {html.escape(problem)}" if problem else "")
        self.problem_label.setVisible(bool(problem))

    def _recheck(self, *_):
        """Once a problem is shown, it follows the input: fixed, it goes away; another one replaces it."""
        if self.problem_label.isVisibleTo(self):
            self.show_problem(self.validate())

    def accept(self):
        problem = self.validate()
        self.show_problem(problem)
        if problem:
            return
        existing = existing_outputs(self.output_paths())
        if not confirm_replace(self, existing):
            return
        self.agreed_to_replace = bool(existing)  # the run may then replace report files it did not write
        self.save_settings()
        super().accept()

    def done(self, result):
        self._poly_changed_disconnect()
        super().done(result)

    def _poly_changed_disconnect(self):
        old = getattr(self, "_styled_layer", None)
        if old is not None:
            try:
                old.rendererChanged.disconnect(self._refresh_classes)
            except (TypeError, RuntimeError):
                pass
        self._styled_layer = None

    def label_source(self):
        """(training LabelSource, validation LabelSource or None, notes): polygons read here (main thread) in
        the raster's CRS; a label raster by its path, as the command line's --labels."""
        from ..plugin.io_gdal import layer_raster_path, read_polygons_qgis
        from ..workflows.backend import LabelSource
        from ..workflows.callbacks import call_with_warnings

        raster_layer = self.raster_combo.currentLayer()
        layer = self.poly_combo.currentLayer()
        table = self.class_table_path() or None
        if self.label_raster() is not None:
            return LabelSource(path=layer_raster_path(layer), class_table=table), None, []
        crs = QgsCoordinateReferenceSystem.fromWkt(self.info.crs_wkt) if self.info.crs_wkt else raster_layer.crs()
        feats, notes = call_with_warnings(read_polygons_qgis, layer, self.field_combo.currentField(), crs)
        if not self.info.crs_wkt and crs.isValid():
            notes.insert(0, f"raster {layer_raster_path(raster_layer)} has no CRS in its file; the polygons were placed "
                            f"with the CRS set on layer {raster_layer.name()!r} in QGIS "
                            f"({crs.authid() or crs.description()}); the outputs have no CRS either")
        buffer = {"point_buffer": self.point_buffer_spin.value(), "point_buffer_unit": self.point_unit_combo.currentData()}
        src = layer.source().split("|")[0]
        labels = LabelSource(features=feats, description=src if os.path.exists(src) else layer.name(),
                             class_table=table, **buffer)
        val = None
        if self.val_check.isChecked():
            vf, more = call_with_warnings(read_polygons_qgis, self.val_combo.currentLayer(),
                                          self.val_field_combo.currentField(), crs)
            notes += [n for n in more if n not in notes]
            val = LabelSource(features=vf, description=self.val_combo.currentLayer().name(), **buffer) if vf else None
        return labels, val, notes

    def class_spectra(self) -> list:
        """Mean spectrum per class of the training data (the band selector's plot), read from a bounded number
        of image rows on the main thread."""
        from ..plugin.io_gdal import GdalBackend, layer_raster_path, open_raster
        from ..workflows.labels import ClassStyle, training_labels
        from .band_selector import mean_spectra

        if self.raster_combo.currentLayer() is None or self.info is None or self.poly_combo.currentLayer() is None:
            return []
        if self.label_raster() is None and not self.field_combo.currentField():
            return []
        labels_src, _, _ = self.label_source()
        labels, _ = training_labels(GdalBackend(), labels_src, self.info, style=ClassStyle(self.class_style()))
        reader = open_raster(layer_raster_path(self.raster_combo.currentLayer()))
        try:
            return mean_spectra(reader, labels)
        finally:
            reader.close()

    def build_job(self):
        """A workflows.train.TrainJob: polygons read here (main thread), reprojected to the raster's CRS."""
        from ..plugin.io_gdal import layer_raster_path
        from ..workflows.labels import ClassStyle
        from ..workflows.train import TrainJob, default_report_target

        problem = self.validate()
        if problem:
            from ..core.errors import InputError

            raise InputError(problem)
        raster = layer_raster_path(self.raster_combo.currentLayer())
        labels, val, notes = self.label_source()
        classify = self.classify_check.isChecked()
        class_map = self.class_map_file.filePath() if classify else None
        layer = self.poly_combo.currentLayer()
        return TrainJob(
            raster=raster, cfg=self.run_config(), model_path=self.model_file.filePath(),
            labels=labels, validation=val,
            class_style=ClassStyle(self.class_style()), class_map=class_map,
            confidence=self.confidence_file.filePath() if classify and self.confidence_check.isChecked() else None,
            report=default_report_target(self.model_file.filePath(), class_map),
            provenance={"command": "HyperSNN train dialog",
                        ("label_raster" if self.label_raster() is not None else "polygon_layer"): layer.name(),
                        "tool": "HyperSNN QGIS plugin"},
            inputs=[(self.config_file.filePath(), "settings file")], input_warnings=notes,
            replace_reports=getattr(self, "agreed_to_replace", False),
        )

    # -- settings ----------------------------------------------------------------------------------
    def save_settings(self):
        p = "train/"
        set_setting(p + "split", self.split_combo.currentData())
        set_setting(p + "train_fraction", self.frac_spin.value())
        set_setting(p + "auto_fraction", self.auto_frac_spin.value())
        set_setting(p + "block_fraction", self.block_frac_spin.value())
        set_setting(p + "polygon_fraction", self.poly_frac_spin.value())
        set_setting(p + "train_count", self.count_spin.value())
        set_setting(p + "block_size", self.block_spin.value())
        set_setting(p + "folds", self.folds_spin.value())
        set_setting(p + "val_fraction", self.val_frac_spin.value())
        set_setting(p + "arch", self.arch_combo.currentData())
        set_setting(p + "time_steps", self.time_steps_spin.value())
        set_setting(p + "weight_bits", self.bits_spin.value())
        set_setting(p + "patch_size", self.patch_spin.value())
        set_setting(p + "pca", self.pca_spin.value())
        set_setting(p + "cnn_epochs", self.cnn_epochs_spin.value())
        set_setting(p + "snn_epochs", self.snn_epochs_spin.value())
        set_setting(p + "batch_size", self.batch_spin.value())
        set_setting(p + "seed", self.seed_spin.value())
        set_setting(p + "classify", self.classify_check.isChecked())
        set_setting(p + "confidence", self.confidence_check.isChecked())
        set_setting(p + "validation", self.val_check.isChecked())
        set_setting(p + "class_field", self.field_combo.currentField())
        set_setting(p + "config_file", self.config_file.filePath())
        for key, combo in (("raster_layer", self.raster_combo), ("polygon_layer", self.poly_combo),
                           ("validation_layer", self.val_combo)):
            lyr = combo.currentLayer()
            set_setting(p + key, lyr.source() if lyr is not None else "")
        model = self.model_file.filePath()
        if model:
            set_setting("last_output_dir", os.path.dirname(os.path.abspath(model)))

    def load_settings(self):
        from ..core.config.schema import RunConfig

        p = "train/"
        d = RunConfig()
        cfg_path = setting(p + "config_file", "", str)
        if cfg_path and os.path.isfile(cfg_path):
            try:
                d = RunConfig.load(cfg_path)
                self.config_file.blockSignals(True)
                self.config_file.setFilePath(cfg_path)
                self.config_file.blockSignals(False)
            except Exception:  # noqa: BLE001
                d = RunConfig()
        self.set_config(d)
        split = setting(p + "split", None, str)
        if split:
            i = self.split_combo.findData(split)
            if i >= 0:
                self.split_combo.setCurrentIndex(i)
        for key, w in (("train_fraction", self.frac_spin), ("auto_fraction", self.auto_frac_spin),
                       ("block_fraction", self.block_frac_spin),
                       ("polygon_fraction", self.poly_frac_spin), ("val_fraction", self.val_frac_spin)):
            v = setting(p + key, None, float)
            if v is not None:
                w.setValue(float(v))
        for key, w in (("train_count", self.count_spin), ("block_size", self.block_spin), ("folds", self.folds_spin),
                       ("time_steps", self.time_steps_spin), ("weight_bits", self.bits_spin),
                       ("patch_size", self.patch_spin), ("pca", self.pca_spin),
                       ("cnn_epochs", self.cnn_epochs_spin), ("snn_epochs", self.snn_epochs_spin),
                       ("batch_size", self.batch_spin), ("seed", self.seed_spin)):
            v = setting(p + key, None, int)
            if v is not None:
                w.setValue(int(v))
        arch = setting(p + "arch", None, str)
        if arch and self.arch_combo.findData(arch) >= 0:
            self.arch_combo.setCurrentIndex(self.arch_combo.findData(arch))
        self.classify_check.setChecked(setting(p + "classify", True, bool))
        self.confidence_check.setChecked(setting(p + "confidence", True, bool))
        self.val_check.setChecked(setting(p + "validation", False, bool))
        for key, combo in (("raster_layer", self.raster_combo), ("polygon_layer", self.poly_combo),
                           ("validation_layer", self.val_combo)):
            src = setting(p + key, "", str)
            if src:
                for lyr in QgsProject.instance().mapLayers().values():
                    if lyr.source() == src:
                        combo.setLayer(lyr)
                        break
        if self.raster_combo.currentLayer() is None:
            first = next((lyr for lyr in QgsProject.instance().mapLayers().values()
                          if isinstance(lyr, QgsRasterLayer) and lyr.bandCount() > 3), None)
            if first is not None:
                self.raster_combo.setLayer(first)
        if self.poly_combo.currentLayer() is None:
            self.poly_combo.setLayer(default_training_layer(self.raster_combo.currentLayer()))
        if not setting(p + "validation_layer", "", str):
            self.val_combo.setLayer(None)
        self.val_field_combo.setLayer(self.val_combo.currentLayer())


def show_train_dialog(iface, on_accept, current=None):
    """Show the Train dialog without blocking QGIS, so the attribute table, the map and layer styles stay usable
    while choosing. One at a time: an open one (`current`) is brought to the front instead. `on_accept(dialog)`
    runs when Train is pressed and the input is complete. Returns the dialog (keep a reference to it)."""
    try:
        if current is not None and current.isVisible():
            current.raise_()
            current.activateWindow()
            return current
    except RuntimeError:  # its C++ side is gone
        pass
    dlg = TrainDialog(iface)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # freed once closed: on_accept runs before that
    dlg.accepted.connect(lambda: on_accept(dlg))
    dlg.show()
    return dlg
