"""The train dialog's training-data rows: the training labels (polygons, points or a label raster), the class
field, the class table, the point buffer and the independent validation layer, and how the chosen layers are read
into LabelSources (and mean spectra for the band selector). Kept apart from the dialog: this is everything about
which labels train; what classes they hold is ui/train_classes.py."""
from __future__ import annotations

import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFieldProxyModel,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsRasterLayer,
)
from qgis.gui import QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

from .common import file_widget, setting
from .spin_boxes import dspin as _dspin


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


class TrainingDataSection:
    """Mixin of TrainDialog: the label rows of the "Training data" form and their reactions. Reads the dialog's
    `raster_combo` and raster `info`; the class listing it refreshes is ClassesSection's, the class table's
    default name follows the data through OutputsSection's `_auto_path`."""

    def _build_labels(self, form):
        """Add the training labels, class field and table, point buffer and validation rows to `form`."""
        self.poly_combo = QgsMapLayerComboBox()
        self.poly_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer |
                                   QgsMapLayerProxyModel.Filter.PointLayer |
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
                                          "(2n + 1) block around its pixel; map units, the pixels within that "
                                          "distance. 0: the pixel the point falls in")
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

    def label_raster(self):
        """The training layer when it is a label raster, else None."""
        layer = self.poly_combo.currentLayer()
        return layer if isinstance(layer, QgsRasterLayer) else None

    def _poly_changed(self, layer):
        from ..plugin.training_data import class_table_beside, data_path, guess_class_field

        self._poly_changed_disconnect()
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

        used = [self.poly_combo.currentLayer()] + ([self.val_combo.currentLayer()] if self.val_check.isChecked()
                                                   else [])
        points = any(isinstance(lyr, QgsVectorLayer)
                     and lyr.geometryType() == QgsWkbTypes.GeometryType.PointGeometry for lyr in used)
        self.point_buffer_label.setVisible(points)
        self.point_buffer_row.setVisible(points)

    def _poly_changed_disconnect(self):
        """Stop following the previous training layer's style (its class names and colours)."""
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
        from ..plugin.io_gdal import layer_raster_path
        from ..plugin.ogr_vectors import read_polygons_qgis
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
            notes.insert(0, f"raster {layer_raster_path(raster_layer)} has no CRS in its file; the polygons were "
                            f"placed with the CRS set on layer {raster_layer.name()!r} in QGIS "
                            f"({crs.authid() or crs.description()}); the outputs have no CRS either")
        buffer = {"point_buffer": self.point_buffer_spin.value(),
                  "point_buffer_unit": self.point_unit_combo.currentData()}
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
