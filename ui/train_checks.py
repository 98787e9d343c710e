"""The train dialog's check of its input: the first problem that prevents training (said in the dialog, in full,
beside the buttons, rather than by a failed task), and how a shown problem follows the input. Kept apart from the
dialog because it reads every section: layers, classes, class table, validation data, outputs and settings."""
from __future__ import annotations

import html
import os
from typing import Optional

from .common import output_problem


class InputChecks:
    """Mixin of TrainDialog: `validate()` over the dialog's widgets, and `problem_label` showing its answer."""

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
        problem = output_problem(paths)
        if problem:
            return problem
        if not self.model_file.filePath().lower().endswith(".hsnn"):
            return "The model file name must end in .hsnn."
        try:
            self.run_config()
        except HyperSNNError as e:
            return str(e)
        return None

    def show_problem(self, problem: Optional[str]):
        self.problem_label.setText(f"<b>Cannot train yet:</b> {html.escape(problem)}" if problem else "")
        self.problem_label.setVisible(bool(problem))

    def _recheck(self, *_):
        """Once a problem is shown, it follows the input: fixed, it goes away; another one replaces it."""
        if self.problem_label.isVisibleTo(self):
            self.show_problem(self.validate())
