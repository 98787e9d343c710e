"""What the train dialog remembers between sessions (QGIS settings under "train/"): every setting of
`TrainDialog.bindings()` by its registry key, the split method with each method's training share, the check boxes,
the class field, the settings file and the chosen layers (by source). Kept apart from the dialog so that what is
remembered, and how a missing layer falls back to a sensible default, is read in one place."""
from __future__ import annotations

import os

from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtWidgets import QComboBox

from .common import set_setting, setting
from .settings_form import set_widget_value, widget_value
from .train_labels import default_training_layer


class RememberedSettings:
    """Mixin of TrainDialog: `save_settings()` when Train is pressed, `load_settings()` when the dialog opens."""

    def save_settings(self):
        p = "train/"
        set_setting(p + "split", self.split_combo.currentData())
        for method, spin in self._fraction_spins().items():
            set_setting(f"{p}fraction/{method}", spin.value())
        for key, (widget, _, _) in self.bindings().items():  # by registry key: "train/train.time_steps"
            set_setting(p + key, widget_value(widget))
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
        from ..core.config.schema import BY_KEY, RunConfig

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
        for method, spin in self._fraction_spins().items():
            v = setting(f"{p}fraction/{method}", None, float)
            if v is not None:
                spin.setValue(float(v))
        for key, (widget, _, _) in self.bindings().items():
            typ = BY_KEY[key].type
            v = setting(p + key, None, typ if typ in (int, float, str) else str)
            if v is not None and (not isinstance(widget, QComboBox) or widget.findData(v) >= 0):
                set_widget_value(widget, v)
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
