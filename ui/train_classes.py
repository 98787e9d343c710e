"""What the train dialog says about the training data's classes: the class values (a label raster's pixel values or
the class field's values), their names and colours (a class table or QGIS style beside the data, else the layer's
own style), the one-line summary under the class field and the warning for an ID-like field. Kept apart from the
dialog's layer choice (ui/train_labels.py): this is what the chosen layer holds."""
from __future__ import annotations

import os

from qgis.core import QgsRasterLayer


class ClassesSection:
    """Mixin of TrainDialog: reads the dialog's `poly_combo`, `field_combo`, `class_table_file`, `label_raster()`
    and `bands`, and writes `classes_label` and `field_warning`. Needs `self._label_raster_cache` (a dict)."""

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
