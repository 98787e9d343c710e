"""scripts/make_plugin_zip.py builds dist/hypersnn-<version>.zip with the top folder hypersnn/ and
without tests, benchmarks, caches, virtual environments, git data or demo outputs."""
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_plugin_zip(tmp_path):
    p = subprocess.run([sys.executable, str(REPO / "scripts" / "make_plugin_zip.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    z = tmp_path / "hypersnn-0.1.0.zip"
    names = zipfile.ZipFile(z).namelist()
    assert all(n.startswith("hypersnn/") for n in names)
    for must in ("hypersnn/__init__.py", "hypersnn/metadata.txt", "hypersnn/resources/icon.svg",
                 "hypersnn/ui/plugin.py", "hypersnn/workflows/train.py", "hypersnn/plugin/provider.py", "hypersnn/ui/train_dialog.py",
                 "hypersnn/core/training/pipeline.py", "hypersnn/resources/indian_pines/indian_pines.tif"):
        assert must in names, must
    # every engine module is in it (core/data/ was once left out with the top-level data/ folder)
    modules = [p.relative_to(REPO).as_posix() for d in ("core", "workflows", "plugin", "ui", "cli")
               for p in (REPO / d).rglob("*.py") if "__pycache__" not in p.parts]
    missing = [f for f in modules if f"hypersnn/{f}" not in names]
    assert len(modules) > 100 and not missing, missing
    for n in names:
        parts = n.split("/")
        assert not {"tests", "bench", ".venv", ".git", "demo_out", "__pycache__", ".pytest_cache",
                    ".hypothesis", ".qgis-settings", "dist"} & set(parts), n
        assert not n.endswith((".pyc", ".aux.xml"))
