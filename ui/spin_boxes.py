"""Spin boxes of the training dialog. Qt only (no qgis.core / qgis.gui), so tests/test_qt6_widgets.py can build
them under PyQt6 from PyPI."""
from __future__ import annotations

from qgis.PyQt.QtGui import QValidator
from qgis.PyQt.QtWidgets import QDoubleSpinBox, QSpinBox


def spin(lo, hi, value, step=1, special=None, suffix=""):
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    if special:
        s.setSpecialValueText(special)
    if suffix:
        s.setSuffix(suffix)
    return s


class PcaSpin(QSpinBox):
    """Principal components: -1 shows as "auto", 0 as "none" (the settings' own values, core/data/preprocess.resolve_pca)."""

    WORDS = {-1: "auto", 0: "none"}

    def __init__(self):
        super().__init__()
        self.setRange(-1, 500)
        self.setValue(-1)

    def textFromValue(self, value):  # noqa: N802 - Qt API
        return self.WORDS.get(value, str(value))

    def valueFromText(self, text):  # noqa: N802 - Qt API
        words = {w: v for v, w in self.WORDS.items()}
        t = text.strip().lower()
        return words[t] if t in words else int(t)

    def validate(self, text, pos):
        t = text.strip().lower()
        if t in self.WORDS.values() or t.isdigit():
            return QValidator.State.Acceptable, text, pos
        if any(w.startswith(t) for w in self.WORDS.values()) or not t:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos


def dspin(lo, hi, value, step=0.05, decimals=3):
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setValue(value)
    return s


class PercentSpin(QDoubleSpinBox):
    """A fraction (0..1, what the settings hold) shown and typed as a percentage ("10 %"): users think of a
    hold-out share in per cent, while `value()` / `setValue()` stay in the settings' own unit."""

    def __init__(self, lo, hi, value, step=0.05):
        super().__init__()
        self.setDecimals(4)
        self.setRange(lo, hi)
        self.setSingleStep(step)
        self.setValue(value)

    def textFromValue(self, value):  # noqa: N802 - Qt API
        return f"{round(value * 100, 2):g} %"

    def valueFromText(self, text):  # noqa: N802 - Qt API
        try:
            return float(text.replace("%", "").strip()) / 100
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        t = text.replace("%", "").strip()
        if not t:
            return QValidator.State.Intermediate, text, pos
        try:
            v = float(t) / 100
        except ValueError:
            return QValidator.State.Invalid, text, pos
        ok = self.minimum() - 1e-9 <= v <= self.maximum() + 1e-9
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


def percent(lo, hi, value, step=0.05):
    return PercentSpin(lo, hi, value, step)
