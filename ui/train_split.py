"""The train dialog's split rows: how the labels divide into training and test (map production's cross-validation
or a hold-out split), each method's parameter on its own page, and the early-stopping share. Kept apart from the
dialog because what each method shows and remembers (its own training share) is one small table, `SPLITS`."""
from __future__ import annotations

from qgis.PyQt.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStackedWidget, QWidget

from .spin_boxes import percent as _percent
from .spin_boxes import spin as _spin

SPLITS = [("cv", "Map production: train on every label, cross-validated accuracy", "Folds"),
          ("auto", "Hold-out: whole polygons (2+ per class), else random", "Training share"),
          ("random", "Hold-out: random share per class", "Training share"),
          ("count", "Hold-out: fixed number of pixels per class", "Pixels per class"),
          ("blocks", "Hold-out: spatially disjoint blocks", "Blocks"),
          ("polygons", "Hold-out: whole polygons (spatially disjoint)", "Training share")]
"""(split method, what the list shows, the label of its parameter). Map production first: it is the default (the
map model trains on every label); the hold-out splits are for benchmarks."""


class SplitSection:
    """Mixin of TrainDialog: the split rows of the "Training data" form and their reactions. Reads the dialog's
    `val_check` (independent validation data: nothing is split, early stopping may still use a share)."""

    def _build_split(self, form):
        """Add the split method, its parameter (one page per method) and the early-stopping share to `form`."""
        self.split_combo = QComboBox()
        for key, text, _ in SPLITS:
            self.split_combo.addItem(text, key)
        form.addRow("Split", self.split_combo)
        self.split_stack = QStackedWidget()
        self.auto_frac_spin = _percent(0.01, 0.99, 0.1)
        self.frac_spin = _percent(0.01, 0.99, 0.1)
        self.count_spin = _spin(1, 100000, 50, suffix=" px")
        blk = QWidget()
        bl = QHBoxLayout(blk)
        bl.setContentsMargins(0, 0, 0, 0)
        self.block_frac_spin = _percent(0.01, 0.99, 0.5)
        self.block_spin = _spin(2, 4096, 16, suffix=" px")
        bl.addWidget(QLabel("training share"))
        bl.addWidget(self.block_frac_spin)
        bl.addWidget(QLabel("block"))
        bl.addWidget(self.block_spin)
        self.poly_frac_spin = _percent(0.01, 0.99, 0.5)
        self.folds_spin = _spin(2, 10, 3)
        self.folds_spin.setToolTip("Grouped cross-validation folds over spatial clusters of the labels: the map "
                                   "model trains on every label, and each fold's model (one training each) gives "
                                   "the accuracy")
        pages = {"cv": self.folds_spin, "auto": self.auto_frac_spin, "random": self.frac_spin,
                 "count": self.count_spin, "blocks": blk, "polygons": self.poly_frac_spin}
        for key, _, _ in SPLITS:
            self.split_stack.addWidget(pages[key])
        self.split_label = QLabel("Training share")
        form.addRow(self.split_label, self.split_stack)
        self.val_frac_spin = _percent(0.0, 0.9, 0.1)
        self.val_frac_spin.setToolTip("Share of the training pixels held back for early stopping")
        form.addRow("Early-stopping share", self.val_frac_spin)

    def _split_changed(self, *_):
        i = max(self.split_combo.currentIndex(), 0)
        self.split_stack.setCurrentIndex(i)
        self.split_label.setText(SPLITS[i][2])
        # map production holds nothing out, so nothing steers early stopping there: every epoch runs
        self.val_frac_spin.setEnabled(SPLITS[i][0] != "cv" or self.val_check.isChecked())

    def _fraction_spins(self) -> dict:
        """The training share of each split method that has one, each remembered on its own."""
        return {"auto": self.auto_frac_spin, "random": self.frac_spin, "blocks": self.block_frac_spin,
                "polygons": self.poly_frac_spin}
