"""What the user sees when the engine's Python packages are missing: the message box with the exact pip command,
and the background pip task it offers (the checks themselves are in plugin/deps.py)."""
from __future__ import annotations

import html
from typing import List

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QMessageBox, QTextEdit

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
    text = deps.explain(missing, purpose)
    deps.log_warning(text)
    if not ask:
        return False
    try:
        box = dependency_box(parent, missing, purpose, text)
        answer = box.exec()
        if box.clickedButton() is box.copy_button:
            from qgis.PyQt.QtWidgets import QApplication

            QApplication.clipboard().setText(deps.pip_command(box.to_install))
        elif answer == QMessageBox.StandardButton.Yes:
            start_install(box.to_install, iface)
    except Exception as e:  # noqa: BLE001 - never crash QGIS over a message box
        deps.log_warning(f"could not show the dependency dialog: {e}")
    return False


def dependency_box(parent, missing: List[Missing], purpose: str = "all", text: str = ""):
    """The message box: what is missing, QGIS's own Python interpreter and the exact pip command (selectable, in
    full), with "Copy command", "Install now" (runs that command in a background task) and "Close", the default:
    nothing is installed unless the user asks for it. From Classify the command is the ONNX route's (onnx and
    onnxruntime suffice to classify)."""
    onnx = deps.onnx_route_missing() if purpose == "classify" and any(m.module == "torch" for m in missing) else []
    to_install = onnx or missing
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("HyperSNN: missing Python packages")
    exe = deps.python_executable()
    if onnx:
        lead = ("Classifying needs either torch or, for the ONNX route, onnx and onnxruntime, which suffice to "
                "classify with existing model files. QGIS's Python does not have " +
                ", ".join(m.module for m in onnx) + ".")
    else:
        lead = "HyperSNN needs " + ", ".join(m.module for m in missing) + ", which QGIS's Python does not have."
    box.setText(lead)
    cmd = deps.pip_command(to_install)
    slow = "; torch can take several minutes" if any(m.module == "torch" for m in to_install) else ""
    box.setInformativeText(f"QGIS's Python: {html.escape(exe)}<br><br>Install into it with this command (in a "
                           f"terminal, or with Install now{slow}):<br><code>{html.escape(cmd)}</code>")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setDetailedText(text or deps.explain(missing, purpose))
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Close)
    box.button(QMessageBox.StandardButton.Yes).setText("Install now")
    box.copy_button = box.addButton("Copy command", QMessageBox.ButtonRole.ActionRole)
    box.setDefaultButton(QMessageBox.StandardButton.Close)
    box.setEscapeButton(QMessageBox.StandardButton.Close)
    box.to_install = to_install
    # Qt's details pane is a few lines high: make it big enough to read the command and the reasons
    for edit in box.findChildren(QTextEdit):
        edit.setMinimumSize(620, 220)
    box.setStyleSheet("QLabel#qt_msgbox_label, QLabel#qt_msgbox_informativelabel {min-width: 560px;}")
    return box


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
