"""Qt6 readiness (QGIS 4): plugin/, ui/ and the QGIS tests use only spellings that PyQt5 and PyQt6 both accept.

PyQt6 drops unscoped enum members (`Qt.Checked` -> `Qt.CheckState.Checked`), `exec_()` and QVariant.Type, and
QGIS's Qt6 builds import Qt only through `qgis.PyQt`. The scoped forms all work on QGIS 3.22 (PyQt5 5.15).
"""
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
}


def _code_lines(path: Path):
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.strip() and not code.lstrip().startswith(('"', "'")):
            yield no, code


def test_no_qt5_only_spelling_in_the_plugin():
    bad = []
    for f in FILES:
        if f.name == "test_qt6_ready.py" or f == ROOT / "plugin" / "qgis_compat.py":
            continue  # qgis_compat holds the Qt5 spellings, used only on QGIS < 3.38
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
               "level = Qgis.Critical": "unscoped"}
    for code, _ in samples.items():
        hit = any(re.search(p, code) for p in PATTERNS) or any(
            m.group(2) not in NOT_ENUMS for m in UNSCOPED.finditer(code))
        assert hit, code
    for ok in ("item.setCheckState(Qt.CheckState.Checked)", "dlg.exec()", "Qgis.QGIS_VERSION_INT >= 33800",
               "QgsVectorFileWriter.SaveVectorOptions()", "from qgis.PyQt.QtCore import Qt"):
        assert not any(re.search(p, ok) for p in PATTERNS), ok
        assert not [m for m in UNSCOPED.finditer(ok) if m.group(2) not in NOT_ENUMS], ok
