"""What the user sees when the engine's Python packages are missing: the message box with the exact pip command,
and the background pip task it offers (the checks themselves are in plugin/deps.py)."""
from __future__ import annotations

from typing import List

from ..plugin import deps
from ..plugin.deps import Missing


def ensure_dependencies(parent=None, iface=None, ask: bool = True, purpose: str = "all") -> bool:
    """True when the engine can run (`purpose` "classify": classification, which also runs without torch on
    ONNX Runtime). Otherwise tell the user what is missing and the exact pip command, and offer to run it (in a
    background task). Never raises."""
    try:
        missing = deps.missing_packages(purpose=purpose)
    except Exception as e:  # noqa: BLE001
        deps.log_warning(f"dependency check failed: {e}")
        return False
    if not missing:
        err = deps.engine_importable(purpose)
        if err is None:
            return True
        deps.log_warning(f"the HyperSNN engine does not import: {err}")
        _message(parent, "HyperSNN cannot start its engine", f"The engine does not import:\n{err}\n\n"
                 f"Reinstall the packages it needs with:\n  {deps.pip_command(deps.all_requirements())}", critical=True)
        return False
    text = deps.explain(missing)
    deps.log_warning(text)
    if not ask:
        return False
    try:
        from qgis.PyQt.QtWidgets import QMessageBox

        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("HyperSNN: missing Python packages")
        box.setText("HyperSNN needs " + ", ".join(m.module for m in missing) +
                    ", which QGIS's Python does not have.\n\nInstall now? (This runs pip; it can take several "
                    "minutes for torch.)")
        box.setDetailedText(text)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        if box.exec() == QMessageBox.StandardButton.Yes:
            start_install(missing, iface)
    except Exception as e:  # noqa: BLE001 - never crash QGIS over a message box
        deps.log_warning(f"could not show the dependency dialog: {e}")
    return False


_TASKS: list = []


def start_install(missing: List[Missing], iface=None):
    """pip install in a QgsTask; the result goes to the message bar and the log."""
    from qgis.core import Qgis, QgsApplication, QgsTask

    class PipTask(QgsTask):
        def __init__(self):
            super().__init__("HyperSNN: installing " + ", ".join(m.module for m in missing), QgsTask.Flag.CanCancel)
            self.result_text = ""

        def run(self):
            try:
                res = deps.install(missing)
            except Exception as e:  # noqa: BLE001
                self.result_text = f"pip could not run: {e}"
                return False
            self.result_text = (res.stdout or "")[-4000:] + (res.stderr or "")[-4000:]
            return res.returncode == 0

        def finished(self, ok):
            deps.log_warning(self.result_text)
            if ok:
                msg = "Packages installed. Restart QGIS to use HyperSNN."
            else:
                msg = (f"pip failed (see the HyperSNN log). Run it yourself in a terminal:\n"
                       f"{deps.pip_command(missing)}")
            if iface is not None:
                iface.messageBar().pushMessage("HyperSNN", msg, level=Qgis.MessageLevel.Success if ok else Qgis.MessageLevel.Critical,
                                               duration=0)
            if self in _TASKS:
                _TASKS.remove(self)

    task = PipTask()
    _TASKS.append(task)
    QgsApplication.taskManager().addTask(task)
    return task


def _message(parent, title, text, critical=False):
    try:
        from qgis.PyQt.QtWidgets import QMessageBox

        (QMessageBox.critical if critical else QMessageBox.warning)(parent, title, text)
    except Exception:  # noqa: BLE001
        deps.log_warning(text)
