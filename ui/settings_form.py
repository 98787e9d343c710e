"""A form of settings generated from the registry (core/settings.py): one field per setting, typed from its
metadata (spin box with its range, combo box with its choices, check box, line edit). The training dialog shows
every training setting it has no custom widget for here, so a setting added to core/config.py appears in the
dialog without touching it."""
from __future__ import annotations

from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget


class SettingsForm(QWidget):
    def __init__(self, sections, parent=None):
        super().__init__(parent)
        from ..core.settings import settings

        self.settings = settings(*sections, where="dialog")
        self.widgets = {}
        form = QFormLayout(self)
        for s in self.settings:
            w = self._widget(s)
            w.setToolTip(s.describe())
            w.setObjectName(f"setting_{s.section}_{s.name}")
            self.widgets[s.key] = w
            form.addRow(s.name.replace("_", " ").capitalize(), w)

    @staticmethod
    def _widget(s):
        if s.type is bool:
            return QCheckBox()
        if s.choices:
            w = QComboBox()
            for c in s.choices:
                w.addItem(str(c), c)
            return w
        if s.type is int:
            w = QSpinBox()
            w.setRange(int(s.lo if s.lo is not None else -2 ** 31), int(s.hi if s.hi is not None else 2 ** 31 - 1))
            return w
        if s.type is float:
            w = QDoubleSpinBox()
            w.setDecimals(6 if (s.hi or 1) <= 1 else 3)
            w.setRange(float(s.lo if s.lo is not None else -1e9), float(s.hi if s.hi is not None else 1e9))
            w.setSingleStep(0.1 if (s.hi or 10) > 1 else 1e-4)
            return w
        return QLineEdit()

    def set_config(self, cfg) -> None:
        for s in self.settings:
            w, v = self.widgets[s.key], s.get(cfg)
            if isinstance(w, QCheckBox):
                w.setChecked(bool(v))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(v)))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(v)
            else:
                w.setText(str(v))

    def apply(self, cfg) -> None:
        """Put the form's values onto `cfg`."""
        for s in self.settings:
            w = self.widgets[s.key]
            if isinstance(w, QCheckBox):
                v = w.isChecked()
            elif isinstance(w, QComboBox):
                v = w.currentData()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                v = w.value()
            else:
                v = w.text()
            s.set(cfg, v)
