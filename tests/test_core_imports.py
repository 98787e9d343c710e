"""The engine must stay free of QGIS, Qt and GDAL so the CLI (rasterio) and QGIS (GDAL) share it."""
import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"
FORBIDDEN = ("qgis", "PyQt5", "PyQt6", "osgeo", "sip")


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_core_modules_import_no_qgis_qt_or_gdal():
    bad = [f"{p.relative_to(CORE.parent)}:{line}: {mod}"
           for p in sorted(CORE.rglob("*.py")) for line, mod in _imports(p)
           if mod.split(".")[0] in FORBIDDEN]
    assert not bad, "core/ must not import QGIS/Qt/GDAL:\n" + "\n".join(bad)


def test_checker_catches_a_forbidden_import(tmp_path):
    p = tmp_path / "bad.py"
    p.write_text("import os\nfrom osgeo import gdal\n")
    assert [m for _, m in _imports(p) if m.split(".")[0] in FORBIDDEN] == ["osgeo"]


def test_importing_the_engine_loads_no_qgis_in_a_fresh_interpreter():
    code = ("import sys, hypersnn.core.training.pipeline, hypersnn.cli, hypersnn.core.models.torch_model; "
            "bad=[m for m in sys.modules if m.split('.')[0] in ('qgis','PyQt5','osgeo')]; print(bad); "
            "sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
