"""Qt6 readiness (QGIS 4): the Qt-only widgets of ui/ are built and used under PyQt6 from PyPI, without QGIS.

A Python that has PyQt6 (and numpy, which core/io/raster.py needs) runs the child script below with a stand-in
`qgis.PyQt` package first on PYTHONPATH. Like QGIS 4's, it re-exports PyQt6's QtCore, QtGui and QtWidgets
(pyqtSignal and pyqtSlot included) and also offers QAction, QActionGroup and QShortcut from QtWidgets. That
Python has no qgis.core or qgis.gui, and PyQt5 is blocked there. So a module that needs QGIS fails to import,
and a Qt5-only spelling (an unscoped enum like `QAbstractItemView.SelectRows`, `exec_()`, a method Qt6 dropped)
raises: each widget's check then fails with the child's traceback.

Which Python: $HYPERSNN_PYQT6_PYTHON, else <repo>/.venv-pyqt6/bin/python (scripts/pyqt6_venv.sh makes it).
Without either, or when PyQt6 does not import there, every test here skips and says why.

Built under PyQt6 here:
  ui/band_selector.py  BandSelector: bands with wavelengths and a bad band, ranges, wavelength windows,
                       dropping bad / water-absorption bands, check boxes, the live count signal
  ui/settings_form.py  SettingsForm: every training setting of the registry, set_config / apply round trip
  ui/spin_boxes.py     PcaSpin ("auto"/"none", validate, typed text), spin, dspin
  ui/report_dock.py    ReportDock with no iface (dock, ReportBrowser with an embedded PNG figure, close)
  ui/deps_dialog.py    the missing-packages message box and the engine error box (exec() and the static
                       boxes patched so nothing waits for a click)

Need QGIS (they import qgis.core / qgis.gui when loaded), so only tests/qgis/ on a real QGIS builds them:
  ui/plugin.py (QgsApplication, QgsMessageLog), ui/common.py (QgsSettings, QgsFileWidget), ui/train_dialog.py,
  ui/classify_dialog.py and ui/training_layer_dialog.py (QgsMapLayerComboBox, QgsMessageBar, QgsFileWidget, ...).
"""
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV_VAR = "HYPERSNN_PYQT6_PYTHON"
DEFAULT_PYTHON = ROOT / ".venv-pyqt6" / "bin" / "python"

# The stand-in for QGIS 4's qgis.PyQt: module name -> source.
SHIM = {
    "qgis/__init__.py": "",
    "qgis/PyQt/__init__.py": "",
    "qgis/PyQt/QtCore.py": "from PyQt6.QtCore import *  # noqa: F401,F403\n"
                           "from PyQt6.QtCore import pyqtProperty, pyqtSignal, pyqtSlot  # noqa: F401\n",
    "qgis/PyQt/QtGui.py": "from PyQt6.QtGui import *  # noqa: F401,F403\n",
    "qgis/PyQt/QtWidgets.py": "from PyQt6.QtWidgets import *  # noqa: F401,F403\n"
                              "from PyQt6.QtGui import QAction, QActionGroup, QShortcut  # noqa: F401\n",
}

CHILD = r'''
import importlib.util
import json
import os
import sys
import traceback

REPO, WORK = sys.argv[1], sys.argv[2]
sys.modules["PyQt5"] = None  # any Qt5 import fails here
# The repository root is the package `hypersnn` (pyproject.toml installs it so).
spec = importlib.util.spec_from_file_location("hypersnn", os.path.join(REPO, "__init__.py"),
                                              submodule_search_locations=[REPO])
pkg = importlib.util.module_from_spec(spec)
sys.modules["hypersnn"] = pkg
spec.loader.exec_module(pkg)

import qgis.PyQt.QtCore as shim_core  # noqa: E402
from qgis.PyQt.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, Qt, QUrl  # noqa: E402
from qgis.PyQt.QtGui import QImage, QTextDocument, QValidator  # noqa: E402
from qgis.PyQt.QtWidgets import QAbstractItemView, QApplication, QMessageBox, QTableWidget  # noqa: E402

assert PYQT_VERSION_STR.startswith("6."), PYQT_VERSION_STR
assert shim_core.__file__.startswith(WORK), shim_core.__file__
app = QApplication(["hypersnn-qt6-test"])
keep = []  # widgets stay alive until the end
raised_in_qt = []  # exceptions of Python code that Qt called (a virtual override, a slot): PyQt6 would abort


def _excepthook(*exc):
    raised_in_qt.append("".join(traceback.format_exception(*exc)))


sys.excepthook = _excepthook


def check_harness_rejects_qt5_and_qgis():
    """The test can fail: a Qt5-only spelling raises here, and QGIS classes do not exist."""
    t = QTableWidget()
    try:
        t.setSelectionBehavior(QAbstractItemView.SelectRows)
    except AttributeError:
        pass
    else:
        raise AssertionError("an unscoped enum member worked: this is not PyQt6")
    assert not hasattr(QMessageBox, "exec_") and hasattr(QMessageBox, "exec")
    for name in ("qgis.core", "qgis.gui", "PyQt5.QtCore"):
        try:
            __import__(name)
        except ImportError:
            continue
        raise AssertionError(f"{name} imports in the PyQt6 child")


def check_band_selector():
    from hypersnn.core.io.raster import RasterInfo
    from hypersnn.ui.band_selector import BandSelector

    n = 12
    wl = [450.0 + i * (2350.0 - 450.0) / (n - 1) for i in range(n)]
    info = RasterInfo(width=4, height=3, count=n, dtype="float32", wavelengths=wl, bad_bands=[False] * 11 + [True])
    bs = BandSelector()
    keep.append(bs)
    counts = []
    bs.selectionChanged.connect(counts.append)
    bs.show()
    bs.set_info(info)
    app.processEvents()
    assert bs.selected() == list(range(11)), bs.selected()  # the bad band starts unchecked
    assert bs.table.item(11, 3).text() == "bad" and bs.table.item(0, 2).text() == "450.0"
    assert bs.table.item(0, 0).flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert bs.table.item(0, 0).data(Qt.ItemDataRole.UserRole) == 0
    assert bs.count_label.text().startswith("11 of 12 bands selected (450-"), bs.count_label.text()
    bs.ranges_edit.setText("1-4, 8")
    bs.apply_ranges()
    assert bs.selected() == [0, 1, 2, 3, 7] and counts[-1] == 5, (bs.selected(), counts)
    assert bs.band_selection().indices == "1-4,8" and bs.selection_text() == "1-4,8"
    bs.ranges_edit.setText("1-40")
    bs.apply_ranges()
    assert "1..12" in bs.error_label.text() and not bs.error_label.isHidden(), bs.error_label.text()
    assert bs.selected() == [0, 1, 2, 3, 7]
    bs.set_selected(range(n))
    assert bs.band_selection().indices == ""  # all bands: no index list
    bs.wl_edit.setText("400-1300nm")
    bs.apply_wavelengths()
    assert bs.selected() and all(400 <= wl[i] <= 1300 for i in bs.selected()), bs.selected()
    assert bs.error_label.isHidden()
    bs.set_selected(range(n))
    bs.drop_bad_bands()
    kept = [wl[i] for i in bs.selected()]
    assert 11 not in bs.selected() and not any(1340 <= w <= 1450 or 1790 <= w <= 1960 for w in kept), kept
    before = counts[-1]
    bs.table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)  # a click updates the live count
    assert counts[-1] == before - 1 and 0 not in bs.selected()
    bs.all_btn.click()
    assert bs.selected() == list(range(n))
    bs.none_btn.click()
    assert bs.selected() == [] and "color: #b00020" in bs.count_label.styleSheet()
    bs.set_info(None)
    assert bs.count() == 0 and bs.count_label.text() == "no raster" and counts[-1] == 0  # cleared, and said so
    assert bs.selected() == [] and bs.count_label.styleSheet() == ""


def check_settings_form():
    from hypersnn.core.config.schema import RunConfig
    from hypersnn.core.config.settings import TRAIN_SECTIONS, settings
    from hypersnn.ui.settings_form import SettingsForm
    from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

    form = SettingsForm(TRAIN_SECTIONS)
    keep.append(form)
    form.show()
    assert set(form.widgets) == {s.key for s in settings(*TRAIN_SECTIONS, where="dialog")}
    kinds = {type(w) for w in form.widgets.values()}
    assert {QComboBox, QSpinBox, QDoubleSpinBox} <= kinds <= {QCheckBox, QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit}
    a = RunConfig()
    form.set_config(a)
    b = RunConfig()
    form.apply(b)
    for s in form.settings:  # defaults survive the round trip through the widgets
        va, vb = s.get(a), s.get(b)
        if isinstance(va, float):
            assert abs(va - vb) <= 10 ** -form.widgets[s.key].decimals(), (s.key, va, vb)
        else:
            assert va == vb, (s.key, va, vb)
    leak, bits, base = (form.widgets[k] for k in ("train.leak_mode", "model.input_bits", "baseline.kind"))
    assert isinstance(leak, QComboBox) and isinstance(bits, QSpinBox) and bits.maximum() == 16
    leak.setCurrentIndex(leak.findData("pow2"))
    bits.setValue(8)
    base.setCurrentIndex(base.findData("svm"))
    form.apply(b)
    assert b.train.leak_mode == "pow2" and b.model.input_bits == 8 and b.baseline.kind == "svm"
    form.set_config(RunConfig())
    assert leak.currentData() == RunConfig().train.leak_mode


def check_spin_boxes():
    from hypersnn.ui.spin_boxes import PcaSpin, dspin, spin

    p = PcaSpin()
    keep.append(p)
    p.show()
    assert p.value() == -1 and p.text() == "auto", p.text()
    p.setValue(0)
    assert p.text() == "none" and p.valueFromText("auto") == -1
    assert p.validate("au", 2)[0] == QValidator.State.Intermediate
    assert p.validate("12", 2)[0] == QValidator.State.Acceptable
    assert p.validate("x", 1)[0] == QValidator.State.Invalid
    p.lineEdit().setText("auto")  # typed text goes through validate/valueFromText from C++
    p.interpretText()
    assert p.value() == -1
    p.lineEdit().setText("7")
    p.interpretText()
    assert p.value() == 7 and p.text() == "7"
    s = spin(1, 16, 6, special="FP32", suffix=" bit")
    keep.append(s)
    assert s.value() == 6 and s.text() == "6 bit"
    s.setValue(1)
    assert s.text() == "FP32"
    d = dspin(0.01, 0.99, 0.1)
    keep.append(d)
    assert abs(d.value() - 0.1) < 1e-9 and d.decimals() == 3 and d.maximum() == 0.99


PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def check_report_dock():
    from hypersnn.ui.report_dock import ReportDock, extract_data_images, qt_rich_text

    html = ("<html><head><style>body{margin:2em}</style></head><body><h1>HyperSNN report</h1>"
            "<table><tr><th>OA</th></tr><tr><td>0.91</td></tr></table>"
            f'<img src="data:image/png;base64,{PNG_1PX}"></body></html>')
    text, images = extract_data_images(qt_rich_text(html))
    assert list(images) == ["hypersnn-figure-0.png"] and isinstance(images["hypersnn-figure-0.png"], QImage)
    assert 'border="1"' in text and "data:image" not in text
    path = os.path.join(WORK, "report.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    dock = ReportDock(None)
    dock.show(path)
    app.processEvents()
    assert dock.dock is not None and dock.dock.objectName() == "HyperSNNReportDock"
    assert dock.label.text() == "report.html" and dock.path == os.path.abspath(path)
    doc = dock.browser.document()
    img = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl("hypersnn-figure-0.png"))
    assert isinstance(img, QImage) and img.width() == 1, img
    assert "HyperSNN report" in dock.browser.toPlainText() and "0.91" in dock.browser.toPlainText()
    dock.show(path)  # a second report replaces the document
    app.processEvents()
    dock.close()
    assert dock.dock is None and dock.browser is None


def check_deps_dialog():
    from hypersnn.plugin import deps
    from hypersnn.plugin.deps import Missing
    from hypersnn.ui import deps_dialog

    logs, asked, boxes = [], [], []
    deps.log_warning = logs.append

    def fake_exec(box):
        asked.append((box.windowTitle(), box.text(), box.icon()))
        return QMessageBox.StandardButton.No

    QMessageBox.exec = fake_exec
    QMessageBox.critical = lambda *a: boxes.append(("critical",) + a[1:])
    QMessageBox.warning = lambda *a: boxes.append(("warning",) + a[1:])
    deps.missing_packages = lambda *a, **k: [Missing("torch", "torch", "the neural network engine")]
    assert deps_dialog.ensure_dependencies(None, None) is False
    assert not [t for t in logs if "could not show" in t], logs
    assert len(asked) == 1 and "torch" in asked[0][1] and asked[0][2] == QMessageBox.Icon.Warning, asked
    deps.missing_packages = lambda *a, **k: []
    deps.engine_importable = lambda *a, **k: "ImportError: boom"
    assert deps_dialog.ensure_dependencies(None, None) is False
    assert len(boxes) == 1 and boxes[0][0] == "critical" and "boom" in boxes[0][2], boxes


results = {"qt": QT_VERSION_STR, "pyqt": PYQT_VERSION_STR}
for name, fn in list(globals().items()):
    if name.startswith("check_") and callable(fn):
        del raised_in_qt[:]
        try:
            fn()
            app.processEvents()
            results[name[len("check_"):]] = ("raised inside a Qt call:\n" + "\n".join(raised_in_qt)) if raised_in_qt else "ok"
        except BaseException:  # noqa: BLE001 - reported to the test
            results[name[len("check_"):]] = traceback.format_exc() + "".join(raised_in_qt)
app.processEvents()
print("RESULTS " + json.dumps(results), flush=True)
'''

CHECKS = ["harness_rejects_qt5_and_qgis", "band_selector", "settings_form", "spin_boxes", "report_dock",
          "deps_dialog"]


def _pyqt6_python():
    """(python, None) or (None, why it cannot be used)."""
    exe = os.environ.get(ENV_VAR) or (str(DEFAULT_PYTHON) if DEFAULT_PYTHON.exists() else "")
    if not exe:
        return None, (f"no Python with PyQt6: set {ENV_VAR} or run scripts/pyqt6_venv.sh "
                      f"(makes {DEFAULT_PYTHON.relative_to(ROOT)})")
    try:
        p = subprocess.run([exe, "-c", "import PyQt6.QtWidgets, numpy"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{exe} does not run: {e}"
    if p.returncode != 0:
        return None, f"PyQt6 or numpy does not import in {exe}: {(p.stderr.strip().splitlines() or ['?'])[-1]}"
    return exe, None


@pytest.fixture(scope="module")
def qt6_results(tmp_path_factory):
    exe, why = _pyqt6_python()
    if exe is None:
        if os.environ.get("CI") == "true":  # CI's bootstrap makes it: a missing PyQt6 there is a failure
            pytest.fail(f"CI=true: {why}")
        pytest.skip(why)
    work = tmp_path_factory.mktemp("qt6")
    shim = work / "shim"
    for rel, src in SHIM.items():
        (shim / rel).parent.mkdir(parents=True, exist_ok=True)
        (shim / rel).write_text(src, encoding="utf-8")
    script = work / "child.py"
    script.write_text(textwrap.dedent(CHILD), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "QT_PLUGIN_PATH")}
    env.update(PYTHONPATH=str(shim), QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1",
               XDG_RUNTIME_DIR=str(work))
    p = subprocess.run([exe, str(script), str(ROOT), str(work)], capture_output=True, text=True, timeout=120,
                       env=env, cwd=str(work))
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULTS ")]
    assert p.returncode == 0 and lines, f"the PyQt6 child failed (rc {p.returncode}):\n{p.stdout}\n{p.stderr}"
    return json.loads(lines[-1][len("RESULTS "):])


@pytest.mark.parametrize("check", CHECKS)
def test_widget_builds_and_works_under_pyqt6(qt6_results, check):
    assert qt6_results.get(check) == "ok", (f"under PyQt {qt6_results.get('pyqt')} / Qt {qt6_results.get('qt')}:\n"
                                            f"{qt6_results.get(check, 'not run')}")


def test_every_check_of_the_child_is_listed(qt6_results):
    assert set(qt6_results) - {"qt", "pyqt"} == set(CHECKS)


def test_python_lookup_prefers_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-python"))
    exe, why = _pyqt6_python()
    assert exe is None and "no-such-python" in why
