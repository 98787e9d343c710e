"""Create training layer: a GeoPackage polygon layer in the raster's CRS with class_id/class_name and a
categorized style, ready for digitizing."""
from __future__ import annotations

import os

from qgis.core import QgsCoordinateReferenceSystem, QgsMapLayerProxyModel
from qgis.gui import QgsColorButton, QgsFileWidget, QgsMapLayerComboBox, QgsProjectionSelectionWidget
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
)

from .common import default_output, dialog_buttons, dialog_layout, set_setting


class TrainingLayerDialog(QDialog):
    def __init__(self, iface=None, parent=None):
        super().__init__(parent or (iface.mainWindow() if iface is not None else None))
        self.iface = iface
        outer, self.bar = dialog_layout(self, "HyperSNN: create training layer", "layer")
        form = QFormLayout()
        outer.addLayout(form)
        self.raster_combo = QgsMapLayerComboBox()
        self.raster_combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.raster_combo.setAllowEmptyLayer(True)
        form.addRow("Raster (for the CRS)", self.raster_combo)
        self.crs_widget = QgsProjectionSelectionWidget()
        form.addRow("CRS", self.crs_widget)
        self.file = QgsFileWidget()
        self.file.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
        self.file.setFilter("GeoPackage (*.gpkg)")
        form.addRow("GeoPackage", self.file)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["class_id", "class_name", "Colour"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        outer.addWidget(self.table, 1)
        row = QHBoxLayout()
        add = QPushButton("Add class")
        add.clicked.connect(lambda: self.add_class())
        rem = QPushButton("Remove class")
        rem.clicked.connect(self.remove_class)
        row.addWidget(add)
        row.addWidget(rem)
        row.addStretch(1)
        outer.addLayout(row)
        buttons, self.help_button = dialog_buttons(self, "Create")
        outer.addWidget(buttons)
        self.raster_combo.layerChanged.connect(self._raster_changed)
        self._auto = ""
        for i in range(3):
            self.add_class()
        if self.raster_combo.currentLayer() is None and self.raster_combo.count() > 1:
            self.raster_combo.setCurrentIndex(1)
        self._raster_changed(self.raster_combo.currentLayer())
        self.resize(560, 460)

    def _raster_changed(self, layer):
        if layer is not None:
            self.crs_widget.setCrs(layer.crs())
            src = layer.source().split("|")[0]
            value = default_output(src, "_training.gpkg")
            base, n = value[:-5], 2
            while os.path.exists(value):
                value = f"{base}_{n}.gpkg"
                n += 1
            if not self.file.filePath() or self.file.filePath() == self._auto:
                self.file.setFilePath(value)
                self._auto = value

    def add_class(self, value=None, name=None, color=None):
        from ..core.report.palette import class_color

        r = self.table.rowCount()
        value = value if value is not None else (max(self.values(), default=0) + 1)
        self.table.insertRow(r)
        spin = QSpinBox()
        spin.setRange(1, 65535)
        spin.setValue(int(value))
        self.table.setCellWidget(r, 0, spin)
        self.table.setItem(r, 1, QTableWidgetItem(name or f"Class {value}"))
        btn = QgsColorButton()
        btn.setColor(QColor(*(color or class_color(int(value)))))
        self.table.setCellWidget(r, 2, btn)

    def remove_class(self):
        r = self.table.currentRow()
        if r < 0:
            r = self.table.rowCount() - 1
        if r >= 0 and self.table.rowCount() > 1:
            self.table.removeRow(r)

    def values(self):
        return [self.table.cellWidget(r, 0).value() for r in range(self.table.rowCount())]

    def classes(self):
        out = []
        for r in range(self.table.rowCount()):
            c = self.table.cellWidget(r, 2).color()
            item = self.table.item(r, 1)
            out.append({"value": self.table.cellWidget(r, 0).value(),
                        "name": (item.text().strip() if item else "") or f"Class {r + 1}",
                        "color": (c.red(), c.green(), c.blue())})
        return out

    def crs(self) -> QgsCoordinateReferenceSystem:
        return self.crs_widget.crs()

    def validate(self):
        vals = self.values()
        if not vals:
            return "Add at least one class."
        if len(set(vals)) != len(vals):
            return "Each class needs its own class_id."
        if not self.crs().isValid():
            return "Choose a CRS (normally the raster's)."
        p = self.file.filePath()
        if not p:
            return "Choose the GeoPackage file to create."
        if not p.lower().endswith(".gpkg"):
            return "The file name must end in .gpkg."
        if os.path.exists(p):
            return f"{p} already exists; choose a new file name."
        if not os.path.isdir(os.path.dirname(os.path.abspath(p))):
            return f"The folder does not exist: {os.path.dirname(p)}"
        return None

    def accept(self):
        problem = self.validate()
        if problem:
            self.bar.pushWarning("Cannot create the layer", problem)
            return
        set_setting("last_output_dir", os.path.dirname(os.path.abspath(self.file.filePath())))
        super().accept()

    def create(self):
        """Create the layer (after accept): returns the QgsVectorLayer, in edit mode."""
        from ..plugin.layers import create_training_layer

        return create_training_layer(self.file.filePath(), self.crs(), self.classes())
