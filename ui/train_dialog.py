"""Train dialog: raster + bands, training polygons + class field, validation or split, model settings,
outputs. Produces a RunConfig (`run_config()`) and a ready-to-run jobs.TrainJob (`build_job()`).

The dialog composes one mixin per section, each in its own module: ui/train_labels.py (training data),
ui/train_classes.py (their classes), ui/train_split.py, ui/train_model.py (model and "More settings"),
ui/train_outputs.py, ui/train_checks.py (`validate()`) and ui/train_remembered.py (settings kept between
sessions). What stays here: the layout, the raster, how the sections react to each other, and the settings
table `bindings()` that set_config, run_config, save_settings and load_settings all go through."""
from __future__ import annotations

from qgis.core import QgsCoordinateReferenceSystem, QgsMapLayerProxyModel
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .band_selector import BandSelector
from .common import dialog_buttons, dialog_layout
from .settings_form import set_widget_value, widget_value
from .train_checks import InputChecks
from .train_classes import ClassesSection
from .train_labels import TrainingDataSection
from .train_model import ARCHS, ModelSection
from .train_outputs import OutputsSection
from .train_remembered import RememberedSettings
from .train_split import SPLITS, SplitSection


class TrainDialog(TrainingDataSection, ClassesSection, SplitSection, ModelSection, OutputsSection, InputChecks,
                  RememberedSettings, QDialog):
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
        outer, self.bar = dialog_layout(self, "HyperSNN: train SNN classifier", "train")
        self.setModal(False)
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
        self._build_labels(form)
        self._build_split(form)
        right.addWidget(g)

        # -- model, and every other training setting, generated from the settings registry --------------
        self._build_model(right)
        right.addStretch(1)

        # -- outputs -----------------------------------------------------------------------------
        self._build_outputs(left)

        buttons, self.help_button = dialog_buttons(self, "Train", QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
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
        self._name_outputs(layer_raster_path(layer) if info is not None else "")

    def _update_enabled(self, *_):
        v = self.val_check.isChecked()
        for w in (self.val_combo, self.val_field_combo):
            w.setEnabled(v)
        for w in (self.split_combo, self.split_stack, self.split_label):
            w.setEnabled(not v)
        self._split_changed()
        self._update_point_buffer()
        self._update_outputs_enabled()

    # -- config ------------------------------------------------------------------------------------
    def bindings(self) -> dict:
        """The settings the dialog shows with a widget of its own, each once, by registry key:
        key -> (widget, to the widget, from the widget). set_config, run_config, save_settings and load_settings
        all go through this table (and "More settings" through the registry); what is not here is special: the
        split method with its per-method training shares, and the band selection."""
        same = lambda v: v  # noqa: E731
        return {
            "split.train_count": (self.count_spin, same, same),
            "split.block_size": (self.block_spin, same, same),
            "split.folds": (self.folds_spin, same, same),
            "split.val_fraction": (self.val_frac_spin, same, same),
            "model.arch": (self.arch_combo, same, lambda v: v or ARCHS[0][0]),
            "model.patch_size": (self.patch_spin, same, same),
            "preprocess.pca_components": (self.pca_spin, same, same),
            "train.time_steps": (self.time_steps_spin, same, same),
            # the spin box's lowest value, 1, reads "FP32": full precision is weight_bits 0
            "train.weight_bits": (self.bits_spin, lambda v: v or 1, lambda v: 0 if v <= 1 else v),
            "train.cnn_epochs": (self.cnn_epochs_spin, same, same),
            "train.snn_epochs": (self.snn_epochs_spin, same, same),
            "train.batch_size": (self.batch_spin, same, same),
            "train.seed": (self.seed_spin, same, same),
        }

    def set_config(self, cfg):
        """Show a RunConfig in the widgets; settings without a widget are kept for `run_config()`."""
        import copy

        from ..core.config.schema import BY_KEY

        self.base_config = copy.deepcopy(cfg)
        i = next((k for k, (key, _, _) in enumerate(SPLITS) if key == cfg.split.method), 0)
        self.split_combo.setCurrentIndex(i)
        for spin in self._fraction_spins().values():
            spin.setValue(cfg.split.train_fraction)
        for key, (widget, to_widget, _) in self.bindings().items():
            set_widget_value(widget, to_widget(BY_KEY[key].get(cfg)))
        self.more.set_config(cfg)

    def run_config(self):
        """The RunConfig these widgets describe (validated)."""
        import copy

        from ..core.config.schema import BY_KEY

        cfg = copy.deepcopy(self.base_config)
        key = self.split_combo.currentData() or SPLITS[0][0]
        cfg.split.method = "given" if self.val_check.isChecked() else key
        cfg.split.train_fraction = self._fraction_spins().get(key, self.frac_spin).value()
        if self.bands.info is not None:
            cfg.bands = self.bands.band_selection()
        for k, (widget, _, from_widget) in self.bindings().items():
            BY_KEY[k].set(cfg, from_widget(widget_value(widget)))
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

    # -- results -----------------------------------------------------------------------------------
    def accept(self):
        problem = self.validate()
        self.show_problem(problem)
        if problem:
            return
        if not self._agree_to_replace():
            return
        self.save_settings()
        super().accept()

    def done(self, result):
        self._poly_changed_disconnect()
        super().done(result)

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
