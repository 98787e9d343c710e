"""Classify dialog: raster, model file (with what the model expects), outputs. Refuses a raster whose
bands do not match the model, with the engine's ModelMismatchError message. Proposes output names that do not
exist yet (never the training run's own `<raster>_classes.tif`) and asks before replacing a file the user chose."""
from __future__ import annotations

import html
import os
from typing import Optional

from qgis.core import QgsMapLayerProxyModel
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
)

from .common import (GEOTIFF_FILTER, add_map_outputs, confirm_replace, dialog_buttons, dialog_layout, file_widget,
                     free_outputs, output_problem, set_setting, setting)

OUTPUT_SUFFIXES = ("_classes.tif", "_confidence.tif", "_probabilities.tif", "_energy.tif")


class ClassifyDialog(QDialog):
    def __init__(self, iface=None, parent=None):
        super().__init__(parent or (iface.mainWindow() if iface is not None else None))
        self.iface = iface
        self.model = None
        self.model_error = ""
        self.info = None
        self.raster_error = ""
        self._auto_paths = {}
        outer, self.bar = dialog_layout(self, "HyperSNN: classify raster", "classify")

        g = QGroupBox("Input")
        form = QFormLayout(g)
        self.raster_combo = QgsMapLayerComboBox()
        self.raster_combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.raster_combo.setAllowEmptyLayer(True)
        form.addRow("Raster", self.raster_combo)
        self.raster_label = QLabel("")
        self.raster_label.setWordWrap(True)
        form.addRow("", self.raster_label)
        self.model_file = file_widget("HyperSNN model (*.hsnn)")
        form.addRow("Model file", self.model_file)
        outer.addWidget(g)

        g = QGroupBox("What the model expects")
        lay = QVBoxLayout(g)
        self.model_view = QTextBrowser()
        self.model_view.setMinimumHeight(170)
        lay.addWidget(self.model_view)
        self.match_label = QLabel("")
        self.match_label.setWordWrap(True)
        lay.addWidget(self.match_label)
        outer.addWidget(g, 1)

        g = QGroupBox("Outputs")
        form = QFormLayout(g)
        self.class_map_file, self.confidence_check, self.confidence_file = add_map_outputs(form)
        self.prob_check = QCheckBox("Class probabilities")
        self.prob_file = file_widget(GEOTIFF_FILTER, save=True)
        form.addRow(self.prob_check, self.prob_file)
        self.energy_check = QCheckBox("Energy map")
        self.energy_check.setToolTip("Where the SNN spends its energy: estimated pJ per pixel (complete convention) "
                                     "and spikes per pixel, as a styled layer")
        self.energy_file = file_widget(GEOTIFF_FILTER, save=True)
        form.addRow(self.energy_check, self.energy_file)
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("Spiking network (SNN)", "snn")
        self.mode_combo.addItem("The CNN it was converted from", "cnn")
        form.addRow("Network", self.mode_combo)
        self.window_spin = QSpinBox()
        self.window_spin.setRange(8, 4096)
        from ..core.config.schema import DEFAULT_WINDOW

        self.window_spin.setValue(DEFAULT_WINDOW)
        self.window_spin.setSuffix(" px")
        self.window_spin.setToolTip("Tile edge: memory use depends on this, not on the image size")
        form.addRow("Window", self.window_spin)
        outer.addWidget(g)

        self.buttons, self.help_button = dialog_buttons(self, "Classify")
        outer.addWidget(self.buttons)

        self.raster_combo.layerChanged.connect(self._raster_changed)
        self.model_file.fileChanged.connect(self._model_changed)
        for signal in (self.confidence_check.toggled, self.prob_check.toggled, self.energy_check.toggled,
                       self.mode_combo.currentIndexChanged):
            signal.connect(self._update_enabled)
        self.resize(720, 680)
        self._load_settings()
        self._raster_changed(self.raster_combo.currentLayer())
        self._model_changed(self.model_file.filePath())
        self._update_enabled()

    def _update_enabled(self, *_):
        self.confidence_file.setEnabled(self.confidence_check.isChecked())
        self.prob_file.setEnabled(self.prob_check.isChecked())
        # without torch the model runs on ONNX Runtime: SNN only, and no energy map (it counts torch operations)
        torch_engine = getattr(self.model, "engine", "torch") == "torch"
        self.mode_combo.setEnabled(torch_engine)
        if not torch_engine:
            self.mode_combo.setCurrentIndex(0)
        snn = (self.mode_combo.currentData() or "snn") == "snn"
        self.energy_check.setEnabled(snn and torch_engine)
        self.energy_file.setEnabled(snn and torch_engine and self.energy_check.isChecked())

    def _auto_path(self, widget, value):
        current = widget.filePath()
        if not current or current == self._auto_paths.get(id(widget)):
            widget.setFilePath(value)
            self._auto_paths[id(widget)] = value

    def _raster_changed(self, layer):
        from ..plugin.io_gdal import layer_raster_path, raster_info

        self.info = None
        self.raster_error = ""
        src = ""
        if layer is not None:
            try:
                src = layer_raster_path(layer)
                self.info = raster_info(src)
            except Exception as e:  # noqa: BLE001
                self.raster_error = str(e)
                self.raster_label.setText(f"<span style='color:#b00020'>{html.escape(str(e))}</span>")
            else:
                i = self.info
                wl = ""
                if i.wavelengths:
                    ws = [w for w in i.wavelengths if w is not None]
                    wl = f", {min(ws):.0f}-{max(ws):.0f} nm"
                self.raster_label.setText(f"{i.width} x {i.height} pixels, {i.count} bands{wl}")
        else:
            self.raster_label.setText("Choose the raster to classify")
        if src and self.info is not None:  # free names, numbered together: a training run's maps stay untouched
            for widget, path in zip(self._output_widgets(), free_outputs(src, OUTPUT_SUFFIXES)):
                self._auto_path(widget, path)
        self._check_match()

    def _output_widgets(self):
        return [self.class_map_file, self.confidence_file, self.prob_file, self.energy_file]

    def named_outputs(self) -> list:
        """[(what, path)] of the maps this run would write (the class map and those switched on), as the job names
        them; a path is empty where none is chosen yet."""
        job = self.job()
        maps = (("class map", job.class_map), ("confidence map", job.confidence),
                ("probability raster", job.probabilities), ("energy map", job.energy_map))
        return [(what, p) for what, p in maps if p is not None]

    def chosen_outputs(self) -> list:
        """The output files this run would write (the maps that are switched on)."""
        return [p for _, p in self.named_outputs() if p]

    def _model_changed(self, path):
        self.model = None
        self.model_error = ""
        if not path:
            self.model_view.setHtml("<i>Choose a model file (.hsnn) made by Train SNN classifier.</i>")
            self._check_match()
            return
        try:
            from ..core.models.engines import load_classifier

            self.model = load_classifier(path, "auto")  # torch where it imports, else ONNX Runtime
        except Exception as e:  # noqa: BLE001 - show the engine's reason (corrupt, newer format...)
            self.model_error = str(e)
            self.model_view.setHtml(f"<p style='color:#b00020'>{html.escape(str(e))}</p>")
        else:
            self.model_view.setHtml(self.model_html(self.model))
        self._update_enabled()
        self._check_match()

    @staticmethod
    def model_html(model) -> str:
        from ..core.models.summary import summary_rows

        rows = summary_rows(model.summary(), model.meta.get("metrics"), model.meta.get("created"))
        return "<table cellspacing='2'>" + "".join(
            f"<tr><td><b>{html.escape(k)}</b>&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>"

    def mismatch(self) -> Optional[str]:
        """The engine's ModelMismatchError message for this raster and model, or None when they fit."""
        if self.model is None or self.info is None:
            return None
        from ..core.errors import ModelMismatchError

        try:
            self.model.bands.check(self.info)
        except ModelMismatchError as e:
            return str(e)
        return None

    def _check_match(self):
        msg = self.mismatch()
        if msg:
            self.match_label.setText(f"<span style='color:#b00020'><b>This raster does not fit the model:</b> "
                                     f"{html.escape(msg)}</span>")
        elif self.model is not None and self.info is not None:
            self.match_label.setText("<span style='color:#1b7f3b'>The raster has the bands the model expects."
                                     "</span>")
        else:
            self.match_label.setText("")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok) if hasattr(self, "buttons") else None
        if ok is not None:
            ok.setEnabled(msg is None)

    def validate(self) -> Optional[str]:
        if self.raster_combo.currentLayer() is None:
            return "Choose the raster to classify."
        if self.info is None:
            return f"The raster cannot be used: {self.raster_error}"
        if not self.model_file.filePath():
            return "Choose a model file (.hsnn)."
        if self.model is None:
            return f"The model cannot be used: {self.model_error}"
        msg = self.mismatch()
        if msg:
            return msg
        return output_problem(self.named_outputs(), geotiff=True)

    def accept(self):
        problem = self.validate()
        if problem:
            self.bar.pushWarning("Cannot classify", problem)
            return
        existing = [p for p in self.chosen_outputs() if os.path.exists(p)]
        if existing and not confirm_replace(self, existing):
            return  # the dialog stays open for other names
        set_setting("classify/model", self.model_file.filePath())
        set_setting("classify/confidence", self.confidence_check.isChecked())
        set_setting("classify/probabilities", self.prob_check.isChecked())
        set_setting("classify/energy_map", self.energy_check.isChecked())
        set_setting("classify/window", self.window_spin.value())
        lyr = self.raster_combo.currentLayer()
        set_setting("classify/raster_layer", lyr.source() if lyr is not None else "")
        set_setting("last_output_dir", os.path.dirname(os.path.abspath(self.class_map_file.filePath())))
        super().accept()

    def _load_settings(self):
        from qgis.core import QgsProject

        model = setting("classify/model", "", str)
        if model and os.path.isfile(model):
            self.model_file.blockSignals(True)
            self.model_file.setFilePath(model)
            self.model_file.blockSignals(False)
        self.confidence_check.setChecked(setting("classify/confidence", True, bool))
        self.prob_check.setChecked(setting("classify/probabilities", False, bool))
        self.energy_check.setChecked(setting("classify/energy_map", False, bool))
        from ..core.config.schema import DEFAULT_WINDOW

        self.window_spin.setValue(int(setting("classify/window", DEFAULT_WINDOW, int)))
        src = setting("classify/raster_layer", "", str)
        for lyr in QgsProject.instance().mapLayers().values():
            if src and lyr.source() == src:
                self.raster_combo.setLayer(lyr)
                break
        if self.raster_combo.currentLayer() is None and self.raster_combo.count() > 1:
            self.raster_combo.setCurrentIndex(1)

    def job(self):
        """The workflows.classify.ClassifyJob these widgets describe (for tasks.ClassifyTask)."""
        from ..core.config.schema import ClassifyConfig
        from ..plugin.io_gdal import layer_raster_path
        from ..workflows.classify import ClassifyJob

        return ClassifyJob(
            raster=layer_raster_path(self.raster_combo.currentLayer()),
            model=self.model_file.filePath(),
            class_map=self.class_map_file.filePath(),
            confidence=self.confidence_file.filePath() if self.confidence_check.isChecked() else None,
            probabilities=self.prob_file.filePath() if self.prob_check.isChecked() else None,
            energy_map=self.energy_file.filePath() if self.energy_check.isChecked()
            and self.energy_check.isEnabled() else None,
            cfg=ClassifyConfig(window=self.window_spin.value(), mode=self.mode_combo.currentData() or "snn"),
        )
