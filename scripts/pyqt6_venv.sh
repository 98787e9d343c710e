#!/usr/bin/env bash
# A separate Python with PyQt6 from PyPI, for tests/test_qt6_widgets.py (the Qt-only widgets of ui/ built under
# Qt6, as in QGIS 4). Idempotent: does nothing when .venv-pyqt6 already imports the pinned PyQt6.
#
#   scripts/pyqt6_venv.sh
#
# No --system-site-packages: QGIS and PyQt5 must not be importable there. numpy (core/raster.py needs it)
# follows the host: numpy<2 on Python 3.11 (Debian 12, beside QGIS 3.22's GDAL), the current numpy later.
# .venv-pyqt6 is git-ignored and left out of the plugin zip (scripts/make_plugin_zip.py).
set -euo pipefail
cd "$(dirname "$0")/.."

PYQT6_VERSION=6.11.0
PY="${PYTHON:-/usr/bin/python3}"
target=.venv-pyqt6

works() {  # true when $target has the pinned PyQt6 (widgets start headless) and numpy
  QT_QPA_PLATFORM=offscreen "$target/bin/python" -c "
import numpy
from PyQt6.QtCore import PYQT_VERSION_STR
from PyQt6.QtWidgets import QApplication, QWidget
assert PYQT_VERSION_STR == '$PYQT6_VERSION', PYQT_VERSION_STR
app = QApplication([]); QWidget()" >/dev/null 2>&1
}

works && exit 0
numpy_req="$("$PY" -c 'import sys; print("numpy<2" if sys.version_info < (3, 12) else "numpy")')"
[ -x "$target/bin/python" ] || { echo "[pyqt6-venv] creating $target with $("$PY" --version 2>&1)"; "$PY" -m venv "$target"; }
echo "[pyqt6-venv] installing PyQt6==$PYQT6_VERSION and $numpy_req"
"$target/bin/python" -m pip install -q --disable-pip-version-check "PyQt6==$PYQT6_VERSION" "$numpy_req"
works || { echo "[pyqt6-venv] PyQt6 does not start in $target" >&2; exit 1; }
echo "[pyqt6-venv] ready: $target ($("$target/bin/python" -c 'import PyQt6.QtCore as q; print("PyQt6", q.PYQT_VERSION_STR, "Qt", q.QT_VERSION_STR)'))"
