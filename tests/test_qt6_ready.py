"""Qt6 readiness (QGIS 4): plugin/, ui/ and the QGIS tests use only spellings that PyQt5 and PyQt6 both accept.

PyQt6 drops unscoped enum members (`Qt.Checked` -> `Qt.CheckState.Checked`), `exec_()` and QVariant.Type, and
QGIS's Qt6 builds import Qt only through `qgis.PyQt`. The scoped forms all work on QGIS 3.22 (PyQt5 5.15).
Qt6 also drops a few Qt5 classes and methods (QRegExp, QDesktopWidget, QFontMetrics.width, ...) and moves
QAction, QActionGroup and QShortcut from QtWidgets to QtGui: they are imported from QtGui first, with QtWidgets
only as the ImportError fallback for QGIS 3.22. tests/test_qt6_widgets.py builds the Qt-only widgets under PyQt6.
"""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*ROOT.glob("plugin/**/*.py"), *ROOT.glob("ui/**/*.py"), ROOT / "__init__.py",
                *ROOT.glob("tests/qgis/*.py")])
# `Class.Member` with no `.` or call after it: an unscoped enum member (scoped ones read `Class.Enum.Member`).
UNSCOPED = re.compile(r"\b(Qt|Q[A-Z][A-Za-z]+|Qgs[A-Za-z]+|Qgis)\.([A-Z][A-Za-z0-9_]*)\b(?!\s*[.(\w])")
NOT_ENUMS = {"QGIS_VERSION", "QGIS_VERSION_INT", "QGIS_RELEASE_NAME"}  # constants, not enum members
PATTERNS = {
    r"\.exec_\(|[\"']exec_[\"']": "exec_() is gone in PyQt6: use exec()",
    r"^\s*(from|import)\s+PyQt[56]\b": "import Qt through qgis.PyQt",
    r"\bQVariant\.(Int|Double|String|Bool|LongLong|Date|DateTime)\b": "QVariant.Type is gone in PyQt6: use "
                                                                      "plugin.qgis_compat.field_type",
    r"\bQRegExp": "QRegExp (and QRegExpValidator) are gone in Qt6: use QRegularExpression(Validator)",
    r"\bQDesktopWidget\b|\.desktop\(\)": "QDesktopWidget and QApplication.desktop() are gone in Qt6: use QScreen",
    r"\b(fontMetrics\(\)|QFontMetricsF?\(.*\))\.width\(": "QFontMetrics.width() is gone in Qt6: use horizontalAdvance()",
    r"\bMidButton\b": "Qt.MidButton is gone in Qt6: use Qt.MouseButton.MiddleButton",
    r"\.delta\(\)": "QWheelEvent.delta() is gone in Qt6: use angleDelta()",
    r"\bQTextCodec\b": "QTextCodec is gone from Qt6's QtCore",
    r"\bQtWebKit": "QtWebKit is gone in Qt6 (QGIS 4)",
    r"\bqApp\b": "qApp is gone in PyQt6: use QApplication.instance()",
    r"\bQtWidgets\.(QAction|QActionGroup|QShortcut)\b": "QAction, QActionGroup and QShortcut live in QtGui under Qt6",
    r"(?<!DialogCode)\.(Accepted|Rejected)\b": "a dialog's result read as dlg.Accepted is gone in PyQt6: use "
                                               "dlg.DialogCode.Accepted",
}
MOVED_TO_QTGUI = {"QAction", "QActionGroup", "QShortcut"}


def _code_lines(path: Path):
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.strip() and not code.lstrip().startswith(('"', "'")):
            yield no, code


def _widgets_imports_moved_to_qtgui(text: str):
    """(line, name) of each `from ...QtWidgets import QAction` (QActionGroup, QShortcut) that is not the
    ImportError fallback of a `try:` (Qt6 has these in QtGui; QGIS 3.22's qgis.PyQt.QtGui lacks them)."""
    tree = ast.parse(text)
    fallback = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try)
                for h in t.handlers for stmt in h.body for n in ast.walk(stmt)}
    return [(n.lineno, a.name) for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[-1] == "QtWidgets"
            and id(n) not in fallback for a in n.names if a.name in MOVED_TO_QTGUI]


def test_no_qt5_only_spelling_in_the_plugin():
    bad = []
    for f in FILES:
        if f.name == "test_qt6_ready.py" or f == ROOT / "plugin" / "qgis_compat.py":
            continue  # qgis_compat holds the Qt5 spellings, used only on QGIS < 3.38
        for no, name in _widgets_imports_moved_to_qtgui(f.read_text(encoding="utf-8")):
            bad.append(f"{f.relative_to(ROOT)}:{no}: {name} is in QtGui under Qt6: import it from "
                       f"qgis.PyQt.QtGui, with QtWidgets only in an `except ImportError:` fallback")
        for no, code in _code_lines(f):
            for pat, why in PATTERNS.items():
                if re.search(pat, code):
                    bad.append(f"{f.relative_to(ROOT)}:{no}: {why}: {code.strip()}")
            for m in UNSCOPED.finditer(code):
                if m.group(2) not in NOT_ENUMS:
                    bad.append(f"{f.relative_to(ROOT)}:{no}: unscoped enum {m.group(0)}: {code.strip()}")
    assert not bad, "\n".join(bad)


def test_the_check_catches_each_qt5_only_spelling(tmp_path):
    samples = {"item.setCheckState(Qt.Checked)": "unscoped", "dlg.exec_()": "exec_",
               "setattr(QMessageBox, 'exec_', f)": "exec_",
               "from PyQt5.QtCore import Qt": "qgis.PyQt", "QgsField('a', QVariant.Int)": "QVariant",
               "level = Qgis.Critical": "unscoped",
               "v = QRegExpValidator(QRegExp('[0-9]+'))": "QRegExp",
               "rect = QDesktopWidget().screenGeometry()": "QDesktopWidget",
               "rect = QApplication.desktop().availableGeometry()": "QDesktopWidget",
               "w = self.fontMetrics().width(text)": "horizontalAdvance",
               "w = QFontMetrics(font).width(text)": "horizontalAdvance",
               "if e.button() == Qt.MouseButton.MidButton:": "MiddleButton",
               "steps = event.delta() / 120": "angleDelta",
               "codec = QTextCodec.codecForName('UTF-8')": "QTextCodec",
               "from qgis.PyQt.QtWebKitWidgets import QWebView": "QtWebKit",
               "qApp.processEvents()": "qApp",
               "a = QtWidgets.QAction('x')": "QtGui",
               "assert dlg.result() == dlg.Accepted": "DialogCode", "if box.exec() == self.Rejected:": "DialogCode"}
    for code, why in samples.items():
        reasons = [msg for p, msg in PATTERNS.items() if re.search(p, code)]
        reasons += ["unscoped enum" for m in UNSCOPED.finditer(code) if m.group(2) not in NOT_ENUMS]
        assert any(why in r for r in reasons), (code, reasons)  # caught, and for the expected reason
    for ok in ("item.setCheckState(Qt.CheckState.Checked)", "dlg.exec()", "Qgis.QGIS_VERSION_INT >= 33800",
               "QgsVectorFileWriter.SaveVectorOptions()", "from qgis.PyQt.QtCore import Qt",
               "w = self.fontMetrics().horizontalAdvance(text)", "width = f' width={img.width()}'",
               "if e.button() == Qt.MouseButton.MiddleButton:", "steps = event.angleDelta().y() / 120",
               "rx = QRegularExpression('[0-9]+')", "app = QApplication.instance()",
               "from qgis.PyQt.QtGui import QAction", "assert dlg.result() == dlg.DialogCode.Accepted"):
        assert not any(re.search(p, ok) for p in PATTERNS), ok
        assert not [m for m in UNSCOPED.finditer(ok) if m.group(2) not in NOT_ENUMS], ok


def test_the_check_catches_qaction_imported_from_qtwidgets():
    plain = "from qgis.PyQt.QtWidgets import QAction, QFileDialog\n"
    wrapped = "from qgis.PyQt.QtWidgets import (\n    QFileDialog,\n    QShortcut,\n)\n"
    in_try = "try:\n    from qgis.PyQt.QtWidgets import QActionGroup\nexcept ImportError:\n    pass\n"
    assert _widgets_imports_moved_to_qtgui(plain) == [(1, "QAction")]
    assert _widgets_imports_moved_to_qtgui(wrapped) == [(1, "QShortcut")]
    assert _widgets_imports_moved_to_qtgui(in_try) == [(2, "QActionGroup")]  # only the fallback is excused
    fallback = ("try:\n    from qgis.PyQt.QtGui import QAction\n"
                "except ImportError:\n    from qgis.PyQt.QtWidgets import QAction\n")
    assert _widgets_imports_moved_to_qtgui(fallback) == []
    assert _widgets_imports_moved_to_qtgui("from qgis.PyQt.QtWidgets import QFileDialog\n") == []
