"""The QGIS plugin object (the GUI entry point): toolbar, Raster > HyperSNN menu, Processing provider, report
dock, tasks.

Start-up imports only Qt/QGIS and plugin/deps.py: the engine (torch, numpy, ...) is imported when an
action runs, after the dependency check, so the plugin loads even when QGIS's Python lacks torch.
"""
from __future__ import annotations

import traceback

from qgis.core import Qgis, QgsApplication, QgsMessageLog

try:  # Qt6 (QGIS 4) has QAction in QtGui; QGIS's qgis.PyQt shims of newer releases re-export it in both
    from qgis.PyQt.QtGui import QAction
except ImportError:  # Qt5 on QGIS releases whose qgis.PyQt.QtGui lacks it (3.22)
    from qgis.PyQt.QtWidgets import QAction

from qgis.PyQt.QtCore import Qt

from .common import icon as _icon


def _alive(widget) -> bool:
    try:
        widget.isVisible()
        return True
    except RuntimeError:  # deleted on close
        return False

MENU = "&HyperSNN"
PROCESSING_MENU = (
    ("assess", "Assess a class map…", "Accuracy of a class map against reference polygons or a label raster "
                                     "(optionally area-adjusted)"),
    ("sample", "Sample validation points…", "A stratified random sample of a class map, as points to label"),
    ("energy", "Energy report…", "Estimated compute energy of a model's SNN against its CNNs"),
)
"""Processing algorithms of the provider that the plugin menu opens as their dialogs (hypersnn:<key>)."""


class HyperSNNPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.actions = []
        self.toolbar = None
        self.tasks = []
        self.report = None

    # -- Processing ---------------------------------------------------------------------------------
    def initProcessing(self):  # noqa: N802 - QGIS calls this name (also from qgis_process)
        if self.provider is not None:
            return
        from ..plugin.provider import HyperSNNProvider

        self.provider = HyperSNNProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    # -- GUI ----------------------------------------------------------------------------------------
    def initGui(self):  # noqa: N802
        self.initProcessing()
        specs = [
            ("train", "Train SNN classifier…", "Train a spiking classifier from a raster and polygons", self.train),
            ("classify", "Classify raster…", "Classify a raster with a HyperSNN model file", self.classify),
            ("layer", "Create training layer…", "New GeoPackage polygon layer for digitizing training areas",
             self.create_training_layer),
            ("report", "Open report…", "Show a HyperSNN accuracy/energy report", self.open_report),
        ]
        parent = self.iface.mainWindow()
        self.toolbar = self.iface.addToolBar("HyperSNN")
        self.toolbar.setObjectName("HyperSNNToolbar")
        for key, text, tip, slot in specs:
            a = QAction(_icon(key), text, parent)
            a.setObjectName(f"hypersnn_{key}")
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda checked=False, s=slot: self._safe(s))
            self.toolbar.addAction(a)
            self.iface.addPluginToRasterMenu(MENU, a)
            self.actions.append(a)
        # the Processing algorithms users look for in the menu too (EnMAP-Box, dzetsaka and SCP have them there)
        for key, text, tip in PROCESSING_MENU:
            a = QAction(QgsApplication.getThemeIcon("/processingAlgorithm.svg"), text, parent)
            a.setObjectName(f"hypersnn_{key}")
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda checked=False, k=key: self._safe(lambda: self.open_algorithm(k)))
            self.iface.addPluginToRasterMenu(MENU, a)
            self.actions.append(a)
        from .report_dock import ReportDock

        self.report = ReportDock(self.iface)

    def unload(self):
        for t in list(self.tasks):
            try:
                t.cancel()
            except RuntimeError:
                pass
        for a in self.actions:
            self.iface.removePluginRasterMenu(MENU, a)
            if self.toolbar is not None:
                self.toolbar.removeAction(a)
            a.deleteLater()
        self.actions = []
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.report is not None:
            self.report.close()
            self.report = None
        if getattr(self, "train_dialog", None) is not None and _alive(self.train_dialog):
            self.train_dialog.close()
        self.train_dialog = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    # -- helpers ------------------------------------------------------------------------------------
    def _safe(self, slot):
        """Run an action; any error goes to the message bar and log, never out into Qt."""
        try:
            slot()
        except Exception as e:  # noqa: BLE001
            QgsMessageLog.logMessage(traceback.format_exc(), "HyperSNN", Qgis.MessageLevel.Critical)
            self.message(f"{type(e).__name__}: {e}", Qgis.MessageLevel.Critical)

    def message(self, text, level=Qgis.MessageLevel.Info, duration=8):
        from ..plugin.layers import message

        message(self.iface, text, level, duration if level != Qgis.MessageLevel.Critical else 0)

    def ready(self, purpose: str = "all") -> bool:
        from .deps_dialog import ensure_dependencies

        return ensure_dependencies(self.iface.mainWindow(), self.iface, purpose=purpose)

    def start_task(self, task):
        """Keep a reference (Python tasks die with their last reference) and queue it."""
        self.tasks.append(task)
        task.on_done = self._task_done
        QgsApplication.taskManager().addTask(task)
        return task

    def _task_done(self, task):
        if task in self.tasks:
            self.tasks.remove(task)

    def show_report(self, path):
        if self.report is None:
            from .report_dock import ReportDock

            self.report = ReportDock(self.iface)
        self.report.show(path)
        from .common import set_setting

        set_setting("last_report", path)

    # -- actions ------------------------------------------------------------------------------------
    def train(self):
        if not self.ready():
            return
        from .train_dialog import show_train_dialog

        # non-modal: the attribute table and the map stay usable while choosing; Train starts the run
        self.train_dialog = show_train_dialog(self.iface, lambda dlg: self._safe(lambda: self.start_training(dlg)),
                                              getattr(self, "train_dialog", None))

    def start_training(self, dlg):
        """Start a TrainTask from an accepted TrainDialog."""
        from ..plugin.tasks import TrainTask

        job = dlg.build_job()
        return self.start_task(TrainTask(job, self.iface, show_report=self.show_report))

    def classify(self):
        if not self.ready("classify"):  # classification also runs without torch (ONNX Runtime)
            return
        from .classify_dialog import ClassifyDialog

        dlg = ClassifyDialog(self.iface)
        if dlg.exec():
            self.start_classify(dlg)

    def start_classify(self, dlg):
        from ..plugin.tasks import ClassifyTask

        return self.start_task(ClassifyTask(dlg.job(), iface=self.iface))

    def open_algorithm(self, key: str):
        """The Processing dialog of hypersnn:<key>, non-modal as from the Processing Toolbox."""
        import processing

        dlg = processing.createAlgorithmDialog(f"hypersnn:{key}", {})
        if dlg is None:
            raise RuntimeError(f"The Processing algorithm hypersnn:{key} is not available")
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self.algorithm_dialogs = [d for d in getattr(self, "algorithm_dialogs", []) if _alive(d)] + [dlg]
        return dlg

    def create_training_layer(self):
        from .training_layer_dialog import TrainingLayerDialog

        dlg = TrainingLayerDialog(self.iface)
        if dlg.exec():
            layer = dlg.create()
            self.iface.setActiveLayer(layer)
            self.message(f"Training layer {layer.name()} created and in edit mode: digitize polygons and pick their "
                         f"class in the attribute form, then save the edits.", Qgis.MessageLevel.Success)

    def open_report(self):
        from qgis.PyQt.QtWidgets import QFileDialog

        from .common import setting

        start = setting("last_report", "", str) or setting("last_output_dir", "", str)
        path, _ = QFileDialog.getOpenFileName(self.iface.mainWindow(), "Open HyperSNN report", start,
                                              "HyperSNN reports (*.html *.json)")
        if path:
            self.show_report(path)
