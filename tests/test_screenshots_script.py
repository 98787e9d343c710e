"""`make screenshots` drives the real QGIS desktop (minutes, needs Xvfb), so CI runs only what is cheap: the
script's command line, the README it writes, and that its in-QGIS driver compiles."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "screenshots.py"


def _module():
    spec = importlib.util.spec_from_file_location("screenshots_script", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_help_names_both_screen_sizes():
    res = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "1366x768 1920x1080" in res.stdout


def test_size_argument_is_checked():
    mod = _module()
    assert mod.parse_size("1920x1080") == (1920, 1080)
    with pytest.raises(Exception, match="WIDTHxHEIGHT"):
        mod.parse_size("1920-1080")


def test_readme_has_one_line_per_screenshot_with_each_size(tmp_path):
    mod = _module()
    shots = [{"name": "train_dialog.png", "caption": "The Train dialog"},
             {"name": "results.png", "caption": "After training"}]
    results = {"1366x768": {"qgis": "3.22", "shots": shots, "missed": []},
               "1920x1080": {"shots": shots[:1], "missed": [{"name": "results", "why": "trace\nno task ran"}]}}
    mod.write_readme(tmp_path, results)
    lines = (tmp_path / "README.md").read_text().splitlines()
    train = [ln for ln in lines if ln.startswith("- `train_dialog.png`")]
    assert train == ["- `train_dialog.png`: The Train dialog ([1366x768](1366x768/train_dialog.png), "
                     "[1920x1080](1920x1080/train_dialog.png))"]
    assert "- `results.png`: After training ([1366x768](1366x768/results.png))" in lines
    assert "- 1920x1080 `results`: no task ran" in lines


def test_driver_compiles():
    compile((ROOT / "scripts" / "screenshots_driver.py").read_text(encoding="utf-8"), "screenshots_driver.py", "exec")
