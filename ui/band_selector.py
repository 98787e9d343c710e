"""Band selector: a table of bands (number, name, wavelength, bad-band flag) with check boxes, selection
by index ranges or wavelength windows, a 'drop bad bands' button and a live count; beside the table, the mean
spectrum of each training class (what users of EnMAP-Box and SCP look at to choose bands)."""
from __future__ import annotations

import math
from typing import List, Optional

import numpy as np
from qgis.PyQt.QtCore import QPointF, QRectF, Qt, pyqtSignal
from qgis.PyQt.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

def _ranges(idx: List[int]) -> str:
    from ..core.data.bands import index_ranges  # lazily: the plugin must load without the engine's dependencies

    return ",".join(index_ranges(idx))


def _entry_row(label: str, placeholder: str, tooltip: str, button_text: str, apply):
    """A "label, line edit, button" row (the band-range and wavelength-window rows) whose button and Return key
    both call `apply`: (row layout, line edit, button)."""
    row = QHBoxLayout()
    row.addWidget(QLabel(label))
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setToolTip(tooltip)
    button = QPushButton(button_text)
    button.clicked.connect(apply)
    edit.returnPressed.connect(apply)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row, edit, button


def mean_spectra(reader, labels, max_rows: int = 48) -> list:
    """[(name, (r, g, b), mean spectrum)] per class of `labels` (core.labels.Labels on the reader's grid), from
    at most `max_rows` image rows holding labels (evenly spread): bounded reading, also for a large scene."""
    lab = labels.array
    rows = np.flatnonzero((lab > 0).any(axis=1))
    if rows.size > max_rows:
        rows = rows[np.linspace(0, rows.size - 1, max_rows).round().astype(int)]
    nodata = reader.info.nodata
    sums, counts = {}, {}
    for r in rows:
        line = reader.read((int(r), 0, 1, reader.info.width)).reshape(reader.info.width, -1).astype(np.float64)
        keep = lab[r] > 0
        if nodata is not None:
            keep &= ~(np.isnan(line).any(axis=1) if np.isnan(nodata) else (line == nodata).any(axis=1))
        keep &= np.isfinite(line).all(axis=1)
        for v in np.unique(lab[r][keep]):
            px = line[keep & (lab[r] == v)]
            sums[int(v)] = sums.get(int(v), 0.0) + px.sum(axis=0)
            counts[int(v)] = counts.get(int(v), 0) + len(px)
    return [(c.name, tuple(c.color), sums[c.value] / counts[c.value]) for c in labels.classes if counts.get(c.value)]


class SpectraPlot(QWidget):
    """Mean spectrum per class, drawn with QPainter (no plotting library in QGIS's process); unselected bands
    are shaded, so the effect of a band choice on the classes' spectra shows at a glance."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.curves, self.x, self.selected, self.message = [], None, set(), "No training data yet"
        self.x_label = "Band"
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_curves(self, curves, x=None, x_label="Band", message=""):
        self.curves, self.x, self.x_label, self.message = list(curves), x, x_label, message
        self.setToolTip("\n".join(name for name, _, _ in self.curves))
        self.update()

    def set_selected(self, selected):
        self.selected = set(selected)
        self.update()

    def paintEvent(self, event):  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().base())
        if not self.curves:
            p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
            return
        n = len(self.curves[0][2])
        x = np.asarray(self.x if self.x is not None and len(self.x) == n else np.arange(1, n + 1), float)
        ys = np.array([c[2] for c in self.curves], float)
        x0, x1 = float(np.nanmin(x)), float(np.nanmax(x)) or 1.0
        y0, y1 = float(np.nanmin(ys)), float(np.nanmax(ys))
        if x1 == x0:
            x1 = x0 + 1
        if y1 == y0:
            y1 = y0 + 1
        fm = p.fontMetrics()
        left, bottom = fm.horizontalAdvance(f"{y1:.4g}") + 8, fm.height() + 8
        area = QRectF(left, 6, max(self.width() - left - 130, 40), max(self.height() - bottom - 10, 20))
        px = lambda v: area.left() + (v - x0) / (x1 - x0) * area.width()  # noqa: E731
        py = lambda v: area.bottom() - (v - y0) / (y1 - y0) * area.height()  # noqa: E731
        shade = QColor(self.palette().mid().color())
        shade.setAlpha(60)
        step = area.width() / max(n - 1, 1)
        for i in range(n):
            if self.selected and i not in self.selected and np.isfinite(x[i]):
                p.fillRect(QRectF(px(x[i]) - step / 2, area.top(), step, area.height()), shade)
        p.setPen(QPen(self.palette().text().color()))
        p.drawRect(area)
        p.drawText(QPointF(2, area.top() + fm.ascent()), f"{y1:.4g}")
        p.drawText(QPointF(2, area.bottom()), f"{y0:.4g}")
        p.drawText(QPointF(area.left(), area.bottom() + fm.height() + 2), f"{x0:.0f}")
        p.drawText(QPointF(area.right() - fm.horizontalAdvance(f"{x1:.0f}"), area.bottom() + fm.height() + 2),
                   f"{x1:.0f}")
        p.drawText(QPointF(area.center().x() - fm.horizontalAdvance(self.x_label) / 2, area.bottom() + fm.height() + 2),
                   self.x_label)
        for k, (name, color, y) in enumerate(self.curves):
            pen = QPen(QColor(*color[:3]))
            pen.setWidthF(1.6)
            p.setPen(pen)
            path, started = QPainterPath(), False
            for xi, yi in zip(x, y):
                if not (np.isfinite(xi) and np.isfinite(yi)):
                    started = False
                    continue
                pt = QPointF(px(xi), py(yi))
                path.lineTo(pt) if started else path.moveTo(pt)
                started = True
            p.drawPath(path)
            ly = area.top() + 4 + k * (fm.height() + 1)
            if ly + fm.height() < self.height():
                p.drawLine(QPointF(area.right() + 8, ly + fm.height() / 2), QPointF(area.right() + 22, ly + fm.height() / 2))
                p.setPen(QPen(self.palette().text().color()))
                p.drawText(QPointF(area.right() + 26, ly + fm.ascent()), fm.elidedText(str(name), Qt.TextElideMode.ElideRight, 100))
        p.end()


class BandSelector(QWidget):
    """Shows a RasterInfo's bands; `selected()` gives the checked 0-based indices and `band_selection()`
    the engine's BandSelection for them. The "Class spectra" tab asks `spectra_provider()` (set by the dialog)
    for the curves when it is first shown after a change."""

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
        self.table.setMinimumHeight(110)
        self.plot = SpectraPlot()
        self.spectra_provider = None
        self._spectra_stale = True
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Bands")
        self.tabs.addTab(self.plot, "Class spectra")
        self.tabs.setTabToolTip(1, "Mean spectrum of each class of the training data; unselected bands are shaded")
        self.tabs.currentChanged.connect(lambda _: self.refresh_spectra())
        lay.addWidget(self.tabs, 1)

        row, self.ranges_edit, self.ranges_btn = _entry_row(
            "Bands", "e.g. 1-103, 109-149, 164-200",
            "1-based band numbers and ranges; 'Select' checks exactly these bands", "Select", self.apply_ranges)
        lay.addLayout(row)
        row, self.wl_edit, self.wl_btn = _entry_row(
            "Wavelengths", "e.g. 400-1340nm, 1450-1790nm or 0.4-1.3um",
            "Keep only the checked bands whose centre lies in one of these windows", "Keep window",
            self.apply_wavelengths)
        lay.addLayout(row)

        row = QHBoxLayout()
        self.all_btn = QPushButton("All")
        self.all_btn.clicked.connect(lambda: self.set_selected(range(self.count())))  # also clears a range error
        self.none_btn = QPushButton("None")
        self.none_btn.clicked.connect(lambda: self.set_selected([]))
        from ..core.data.bands import WATER_ABSORPTION_NM  # lazily, as above

        self.bad_btn = QPushButton("Drop bad + water bands")
        self.bad_btn.setToolTip("Uncheck bands flagged bad (bbl = 0) and, when wavelengths are known, bands "
                                "in the water-vapour absorption windows " +
                                ", ".join(f"{a:.0f}-{b:.0f} nm" for a, b in WATER_ABSORPTION_NM))
        self.bad_btn.clicked.connect(self.drop_bad_bands)
        self.count_label = QLabel("no raster")
        row.addWidget(self.all_btn)
        row.addWidget(self.none_btn)
        row.addWidget(self.bad_btn)
        row.addStretch(1)
        lay.addLayout(row)
        self.count_label.setWordWrap(True)
        lay.addWidget(self.count_label)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b00020")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        lay.addWidget(self.error_label)
        lay.addStretch(0)  # once the table reaches its maximum height, spare room goes below the controls

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
        self.spectra_changed()
        self._changed()  # also when cleared: the count reads "no raster" and listeners hear 0

    def spectra_changed(self):
        """The training data or raster changed: recompute the class spectra when they are next looked at."""
        self._spectra_stale = True
        self.refresh_spectra()

    def refresh_spectra(self):
        if not self._spectra_stale or self.tabs.currentWidget() is not self.plot:
            return
        self._spectra_stale = False
        if self.info is None or self.spectra_provider is None:
            self.plot.set_curves([], message="Choose a raster and training data to see their classes' spectra")
            return
        try:
            curves, message = self.spectra_provider(), ""
        except Exception as e:  # noqa: BLE001 - a plot must never break the dialog: say why it is empty
            curves, message = [], f"No class spectra: {e}"
        wl = self.info.wavelengths
        has_wl = bool(wl) and all(w is not None for w in wl)
        self.plot.set_curves(curves, np.array(wl, float) if has_wl else None,
                             "Wavelength (nm)" if has_wl else "Band", message or "No labelled pixels on the raster")
        self.plot.set_selected(self.selected())

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
        from ..core.config.schema import BandSelection

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
        from ..core.data.bands import parse_index_ranges
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
        from ..core.data.bands import parse_wavelength_windows
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
        from ..core.data.bands import water_absorption_bands  # lazily, as above

        bad = set(i for i, b in enumerate(self.info.bad_bands or []) if b) | set(water_absorption_bands(self.info))
        self.set_selected([i for i in self.selected() if i not in bad])

    def _item_changed(self, item):
        if not self._updating and item.column() == self.COL_USE:
            self._changed()

    def _changed(self):
        self._error("")  # a selection made after a refused range or window replaces it: its error is stale
        self.plot.set_selected(self.selected())
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
