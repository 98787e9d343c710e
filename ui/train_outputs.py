"""The train dialog's "Outputs" group: the model file, the class and confidence maps, their default names (free
names that follow the raster until the user types their own) and the one question before replacing files. Kept
apart from the dialog so that every rule about what the run writes sits in one place."""
from __future__ import annotations

from qgis.PyQt.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel

from .common import add_map_outputs, confirm_replace, existing_outputs, file_widget, free_outputs


class OutputsSection:
    """Mixin of TrainDialog: the output widgets, their names and the agreement to replace existing files
    (`agreed_to_replace`, which lets the run replace report files it did not write). Needs `self._auto_paths`
    (a dict) before `_name_outputs` runs."""

    def _build_outputs(self, column):
        """Add the "Outputs" group to `column`."""
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
        column.addWidget(g)

    def _name_outputs(self, src: str):
        """Free output names beside the raster file `src` ("" when there is no usable raster)."""
        names = free_outputs(src, ("_snn.hsnn", "_classes.tif", "_confidence.tif")) if src else ["", "", ""]
        for widget, value in zip((self.model_file, self.class_map_file, self.confidence_file), names):
            self._auto_path(widget, value)

    def _auto_path(self, widget, value):
        """Follow the raster with default output names until the user types their own."""
        current = widget.filePath()
        if not current or current == self._auto_paths.get(id(widget)):
            widget.setFilePath(value)
            self._auto_paths[id(widget)] = value

    def _update_outputs_enabled(self):
        c = self.classify_check.isChecked()
        self.class_map_file.setEnabled(c)
        self.confidence_check.setEnabled(c)
        self.confidence_file.setEnabled(c and self.confidence_check.isChecked())

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

    def _agree_to_replace(self) -> bool:
        """Ask once before replacing any output that exists; False when the user declines."""
        existing = existing_outputs(self.output_paths())
        if not confirm_replace(self, existing):
            return False
        self.agreed_to_replace = bool(existing)  # the run may then replace report files it did not write
        return True
