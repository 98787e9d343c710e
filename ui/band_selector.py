"""Band selector: a table of bands (number, name, wavelength, bad-band flag) with check boxes, selection
by index ranges or wavelength windows, a 'drop bad bands' button and a live count."""
from __future__ import annotations

import math
from typing import List, Optional

from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QBrush, QColor
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

def _ranges(idx: List[int]) -> str:
    from ..core.bands import index_ranges  # lazily: the plugin must load without the engine's dependencies

    return ",".join(index_ranges(idx))


class BandSelector(QWidget):
    """Shows a RasterInfo's bands; `selected()` gives the checked 0-based indices and `band_selection()`
    the engine's BandSelection for them."""

    selectionChanged = pyqtSignal(int)

    COL_USE, COL_NAME, COL_WL, COL_BAD = 0, 1, 2, 3

    def __init__(self, parent=None):
        super().__init__(parent)
        self.info = None
        self._updating = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Band", "Name", "Wavelength (nm)", "Bad band"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(self.COL_NAME, QHeaderView.ResizeMode.Stretch)
        for c in (self.COL_USE, self.COL_WL, self.COL_BAD):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._item_changed)
        lay.addWidget(self.table, 1)

        row = QHBoxLayout()
        row.addWidget(QLabel("Bands"))
        self.ranges_edit = QLineEdit()
        self.ranges_edit.setPlaceholderText("e.g. 1-103, 109-149, 164-200")
        self.ranges_edit.setToolTip("1-based band numbers and ranges; 'Select' checks exactly these bands")
        self.ranges_btn = QPushButton("Select")
        self.ranges_btn.clicked.connect(self.apply_ranges)
        self.ranges_edit.returnPressed.connect(self.apply_ranges)
        row.addWidget(self.ranges_edit, 1)
        row.addWidget(self.ranges_btn)
        lay.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Wavelengths"))
        self.wl_edit = QLineEdit()
        self.wl_edit.setPlaceholderText("e.g. 400-1340nm, 1450-1790nm or 0.4-1.3um")
        self.wl_edit.setToolTip("Keep only the checked bands whose centre lies in one of these windows")
        self.wl_btn = QPushButton("Keep window")
        self.wl_btn.clicked.connect(self.apply_wavelengths)
        self.wl_edit.returnPressed.connect(self.apply_wavelengths)
        row.addWidget(self.wl_edit, 1)
        row.addWidget(self.wl_btn)
        lay.addLayout(row)

        row = QHBoxLayout()
        self.all_btn = QPushButton("All")
        self.all_btn.clicked.connect(lambda: self.set_selected(range(self.count())))
        self.none_btn = QPushButton("None")
        self.none_btn.clicked.connect(lambda: self.set_selected([]))
        from ..core.bands import WATER_ABSORPTION_NM  # lazily, as above

        self.bad_btn = QPushButton("Drop bad / water-absorption bands")
        self.bad_btn.setToolTip("Uncheck bands flagged bad (bbl = 0) and, when wavelengths are known, bands "
                                "in the water-vapour absorption windows " +
                                ", ".join(f"{a:.0f}-{b:.0f} nm" for a, b in WATER_ABSORPTION_NM))
        self.bad_btn.clicked.connect(self.drop_bad_bands)
        self.count_label = QLabel("no raster")
        row.addWidget(self.all_btn)
        row.addWidget(self.none_btn)
        row.addWidget(self.bad_btn)
        row.addStretch(1)
        row.addWidget(self.count_label)
        lay.addLayout(row)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b00020")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        lay.addWidget(self.error_label)

    # -- content -----------------------------------------------------------------------------
    def count(self) -> int:
        return self.table.rowCount()

    def set_info(self, info, selected: Optional[List[int]] = None):
        """Show the bands of a RasterInfo (None clears). By default bad bands start unchecked."""
        self.info = info
        self._updating = True
        try:
            self.table.setRowCount(0)
            if info is not None:
                self._fill(info, selected)
        finally:
            self._updating = False
        self._changed()  # also when cleared: the count reads "no raster" and listeners hear 0

    def _fill(self, info, selected: Optional[List[int]]):
        self.table.setRowCount(info.count)
        bad = info.bad_bands or [False] * info.count
        wl = info.wavelengths or [None] * info.count
        grey = QBrush(QColor(150, 150, 150))
        for i in range(info.count):
            use = QTableWidgetItem(str(i + 1))
            use.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            use.setData(Qt.ItemDataRole.UserRole, i)
            self.table.setItem(i, self.COL_USE, use)
            self.table.setItem(i, self.COL_NAME, QTableWidgetItem(str(info.band_names[i])))
            w = wl[i]
            wtxt = "" if w is None or (isinstance(w, float) and math.isnan(w)) else f"{float(w):.1f}"
            wi = QTableWidgetItem(wtxt)
            wi.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, self.COL_WL, wi)
            bi = QTableWidgetItem("bad" if bad[i] else "")
            if bad[i]:
                for c in range(3):
                    item = self.table.item(i, c)
                    item.setForeground(grey)
            self.table.setItem(i, self.COL_BAD, bi)
        if selected is None:
            selected = [i for i in range(info.count) if not bad[i]]
        for i in range(info.count):
            self.table.item(i, self.COL_USE).setCheckState(Qt.CheckState.Checked if i in set(selected) else Qt.CheckState.Unchecked)

    def selected(self) -> List[int]:
        return [i for i in range(self.count()) if self.table.item(i, self.COL_USE).checkState() == Qt.CheckState.Checked]

    def set_selected(self, indices):
        keep = set(int(i) for i in indices)
        self._updating = True
        try:
            for i in range(self.count()):
                self.table.item(i, self.COL_USE).setCheckState(Qt.CheckState.Checked if i in keep else Qt.CheckState.Unchecked)
        finally:
            self._updating = False
        self._changed()

    def selection_text(self) -> str:
        """The checked bands as 1-based ranges ("1-103,109-149")."""
        return _ranges(self.selected())

    def band_selection(self):
        """The engine's BandSelection for exactly the checked bands."""
        from ..core.config import BandSelection

        sel = self.selected()
        all_bands = len(sel) == self.count()
        return BandSelection(indices="" if all_bands else self.selection_text(), wavelength_windows="",
                             drop_bad_bands=False)

    # -- actions -----------------------------------------------------------------------------
    def _error(self, text: str):
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def apply_ranges(self):
        if self.info is None:
            return
        from ..core.bands import parse_index_ranges
        from ..core.errors import InputError

        try:
            idx = parse_index_ranges(self.ranges_edit.text(), self.info.count)
        except InputError as e:
            self._error(str(e))
            return
        self._error("")
        self.set_selected(idx)

    def apply_wavelengths(self):
        if self.info is None:
            return
        from ..core.bands import parse_wavelength_windows
        from ..core.errors import InputError

        try:
            windows = parse_wavelength_windows(self.wl_edit.text())
        except InputError as e:
            self._error(str(e))
            return
        wl = self.info.wavelengths
        if windows and not wl:
            self._error("This raster has no wavelength metadata, so wavelength windows cannot be applied: "
                        "select bands by number instead")
            return
        self._error("")
        if not windows:
            return
        keep = [i for i in self.selected() if wl[i] is not None and any(lo <= wl[i] <= hi for lo, hi in windows)]
        self.set_selected(keep)

    def drop_bad_bands(self):
        if self.info is None:
            return
        from ..core.bands import water_absorption_bands  # lazily, as above

        bad = set(i for i, b in enumerate(self.info.bad_bands or []) if b) | set(water_absorption_bands(self.info))
        self.set_selected([i for i in self.selected() if i not in bad])

    def _item_changed(self, item):
        if not self._updating and item.column() == self.COL_USE:
            self._changed()

    def _changed(self):
        n = len(self.selected()) if self.info is not None else 0
        if self.info is None:
            self.count_label.setText("no raster")
            self.count_label.setStyleSheet("")
        else:
            text = f"{n} of {self.info.count} bands selected"
            wl = self.info.wavelengths
            if wl and n:
                ws = [wl[i] for i in self.selected() if wl[i] is not None]
                if ws:
                    text += f" ({min(ws):.0f}-{max(ws):.0f} nm)"
            self.count_label.setText(text)
            self.count_label.setStyleSheet("color: #b00020" if n == 0 else "")
        self.selectionChanged.emit(n)
