"""The train dialog's "Model" group (preset, architecture, time steps, weight bits, patch size, PCA, epochs, seed,
batch, a settings file) and its "More settings" group (every other training setting, generated from the
registry). Kept apart from the dialog: these are the widgets that show settings, while which setting each widget
shows is the dialog's one table, `TrainDialog.bindings()`."""
from __future__ import annotations

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout

from .common import file_widget
from .spin_boxes import PcaSpin
from .spin_boxes import spin as _spin

ARCHS = [("hybrid", "Hybrid 3-D / 2-D CNN"), ("3d", "3-D CNN")]


class ModelSection:
    """Mixin of TrainDialog: the model settings' widgets and the two reactions that load settings into them (a
    preset, a settings file). Uses the dialog's `run_config()`, `set_config()` and message `bar`."""

    def _build_model(self, column):
        """Add the "Model" and "More settings" groups to `column`."""
        g = QGroupBox("Model")
        form = QFormLayout(g)
        from ..core.config.schema import PRESET_NOTES, PRESETS
        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(name, name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, PRESET_NOTES[name],
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setToolTip("A named bundle of settings; the fields below show what it sets")
        form.addRow("Preset", self.preset_combo)
        self.arch_combo = QComboBox()
        for key, text in ARCHS:
            self.arch_combo.addItem(text, key)
        form.addRow("Architecture", self.arch_combo)
        row = QHBoxLayout()
        self.time_steps_spin = _spin(1, 64, 5)
        self.time_steps_spin.setToolTip("SNN time steps T: more steps, finer rate code, more energy")
        self.bits_spin = _spin(1, 16, 6, special="FP32")
        self.bits_spin.setToolTip("Weight bits (2..16); the lowest value means full precision (FP32)")
        row.addWidget(self.time_steps_spin)
        row.addWidget(QLabel("weight bits"))
        row.addWidget(self.bits_spin)
        form.addRow("Time steps", row)
        row = QHBoxLayout()
        self.patch_spin = _spin(1, 63, 11, step=2, suffix=" px")
        self.pca_spin = PcaSpin()
        self.pca_spin.setToolTip("Principal components kept after band selection, fitted on the training pixels: "
                                 "auto = 30 with more than 64 bands, else none; none = use the bands")
        row.addWidget(self.patch_spin)
        row.addWidget(QLabel("PCA"))
        row.addWidget(self.pca_spin)
        form.addRow("Patch size", row)
        row = QHBoxLayout()
        self.cnn_epochs_spin = _spin(0, 10000, 30)
        self.snn_epochs_spin = _spin(0, 10000, 10)
        row.addWidget(QLabel("CNN"))
        row.addWidget(self.cnn_epochs_spin)
        row.addWidget(QLabel("SNN"))
        row.addWidget(self.snn_epochs_spin)
        form.addRow("Epochs", row)
        row = QHBoxLayout()
        self.seed_spin = _spin(0, 2 ** 31 - 1, 0)
        self.batch_spin = _spin(1, 65536, 64)
        row.addWidget(self.seed_spin)
        row.addWidget(QLabel("batch"))
        row.addWidget(self.batch_spin)
        form.addRow("Seed", row)
        self.config_file = file_widget("HyperSNN settings (*.json)")
        self.config_file.setToolTip("Optional JSON settings (as for the command line's --config): every setting "
                                    "not shown here, e.g. layer widths and learning rates")
        self.config_file.fileChanged.connect(self._config_file_changed)
        self.preset_combo.currentIndexChanged.connect(self._preset_changed)
        form.addRow("Settings file", self.config_file)
        column.addWidget(g)

        # -- every other training setting, generated from the settings registry ------------------------
        from qgis.gui import QgsCollapsibleGroupBox

        from ..core.config.settings import TRAIN_SECTIONS
        from .settings_form import SettingsForm

        g = QgsCollapsibleGroupBox("More settings")
        g.setCollapsed(True)
        lay = QVBoxLayout(g)
        self.more = SettingsForm(TRAIN_SECTIONS)
        lay.addWidget(self.more)
        self.more_group = g
        column.addWidget(g)

    def _config_file_changed(self, path):
        if not path:
            return
        from ..core.config.schema import RunConfig

        try:
            cfg = RunConfig.load(path)
        except Exception as e:  # noqa: BLE001
            self.bar.pushCritical("Settings file", str(e))
            return
        self.set_config(cfg)

    def _preset_changed(self, *_):
        """Show the chosen preset's settings (every setting some preset controls: the preset's value or the
        default), keeping everything else as it is."""
        from ..core.config.schema import PRESETS, RunConfig

        name = self.preset_combo.currentData() or "default"
        cfg, default = self.run_config(), RunConfig()
        for key in {k for p in PRESETS.values() for k in p}:
            section, field_name = key.split(".")
            value = PRESETS[name].get(key, getattr(getattr(default, section), field_name))
            setattr(getattr(cfg, section), field_name, list(value) if isinstance(value, list) else value)
        self.set_config(cfg)
