"""A form of settings generated from the registry (core/config/settings.py): one field per setting, typed from its
metadata (spin box with its range, combo box with its choices, check box, line edit). The training dialog shows
every training setting it has no custom widget for here, so a setting added to core/config/schema.py appears in the
dialog without touching it. Labels are words, not field names: LABELS here, else the setting's name made
readable."""
from __future__ import annotations

from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget


LABELS = {
    "preprocess.standardize": "Standardise bands",
    "model.first_spatial_kernel": "First-layer spatial kernel",
    "model.input_bits": "Input precision",
    "train.cnn_lr": "CNN learning rate",
    "train.snn_lr": "SNN learning rate",
    "train.class_weighting": "Class weighting",
    "train.spike_penalty": "Spike-rate penalty",
    "train.leak_mode": "Membrane leak",
    "train.membrane_bits": "Membrane bits",
    "train.patience": "Early-stopping patience",
    "train.val_smoothing": "Validation smoothing",
    "baseline.kind": "Baseline classifier",
}
"""Readable labels of the settings the registry gives no `label` for."""
CHOICES = {
    "baseline.kind": {"none": "None", "svm": "SVM (RBF)", "rf": "Random forest", "both": "SVM and random forest"},
    "train.class_weighting": {"none": "None (equal weights)", "sqrt_inverse": "Square root of inverse frequency",
                              "inverse": "Inverse frequency"},
    "train.leak_mode": {"trained": "Trained", "pow2": "Trained, power of 2 (shift)", "none": "None (no leak)"},
    "model.first_spatial_kernel": {1: "1 x 1 (per-pixel spectra)", 3: "3 x 3"},
}
"""Readable text of choice values; the value itself is what the settings hold."""
SPECIAL = {"model.input_bits": "real numbers", "train.patience": "never stop early", "train.val_smoothing": "none"}
"""What a spin box shows at its lowest value when that value means something other than a number."""
SUFFIX = {"model.input_bits": " bits", "train.patience": " epochs", "train.val_smoothing": " epochs"}


def label_of(s) -> str:
    return LABELS.get(s.key) or s.name.replace("_", " ").capitalize()


class SettingsForm(QWidget):
    def __init__(self, sections, parent=None):
        super().__init__(parent)
        from ..core.config.settings import settings

        self.settings = settings(*sections, where="dialog")
        self.widgets = {}
        form = QFormLayout(self)
        for s in self.settings:
            w = self._widget(s)
            w.setToolTip(s.describe())
            w.setObjectName(f"setting_{s.section}_{s.name}")
            self.widgets[s.key] = w
            form.addRow(label_of(s), w)

    @staticmethod
    def _widget(s):
        if s.type is bool:
            return QCheckBox()
        if s.choices:
            w = QComboBox()
            words = CHOICES.get(s.key, {})
            for c in s.choices:
                w.addItem(words.get(c, str(c).replace("_", " ").capitalize()), c)
            return w
        if s.type is int:
            w = QSpinBox()
            w.setRange(int(s.lo if s.lo is not None else -2 ** 31), int(s.hi if s.hi is not None else 2 ** 31 - 1))
            if s.key in SPECIAL:
                w.setSpecialValueText(SPECIAL[s.key])
            if s.key in SUFFIX:
                w.setSuffix(SUFFIX[s.key])
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
            set_widget_value(self.widgets[s.key], s.get(cfg))

    def apply(self, cfg) -> None:
        """Put the form's values onto `cfg`."""
        for s in self.settings:
            s.set(cfg, widget_value(self.widgets[s.key]))


def widget_value(w):
    """The value a setting's widget shows: a check box's state, a combo box's item data, a spin box's number, or
    a line edit's text (the one reading of widgets, for this form and the Train dialog's own widgets)."""
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, QComboBox):
        return w.currentData()
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.value()
    return w.text()


def set_widget_value(w, v) -> None:
    """Show `v` in a setting's widget (the inverse of widget_value)."""
    if isinstance(w, QCheckBox):
        w.setChecked(bool(v))
    elif isinstance(w, QComboBox):
        w.setCurrentIndex(max(0, w.findData(v)))
    elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
        w.setValue(v)
    else:
        w.setText(str(v))
