"""The plugin loads in QGIS (classFactory, initGui, unload), and without torch it still loads and says
exactly what is missing and how to install it."""
import subprocess
import sys

import pytest
from qgis.core import Qgis, QgsApplication


def test_plugin_loads_and_unloads(qgis_iface, qgis_processing):
    import hypersnn

    p = hypersnn.classFactory(qgis_iface)
    p.initGui()
    try:
        names = [a.text() for a in p.actions]
        assert names == ["Train SNN classifier…", "Classify raster…", "Create training layer…", "Open report…",
                         "Assess a class map…", "Sample validation points…", "Energy report…"]  # issue 20
        assert all(not a.icon().isNull() for a in p.actions)
        assert p.toolbar is not None and len(p.toolbar.actions()) == 4  # the Processing ones: menu only
        reg = QgsApplication.processingRegistry()
        prov = reg.providerById("hypersnn")
        assert prov is not None and prov.name() == "HyperSNN"
        algs = sorted(a.name() for a in prov.algorithms())
        assert algs == ["assess", "batch", "classify", "energy", "sample", "train", "workflow"]
        for a in prov.algorithms():
            assert len(a.shortHelpString()) > 200, a.name()
            assert a.flags() & a.FlagSupportsBatch
            assert a.flags() & a.FlagCanCancel
    finally:
        p.unload()
    assert QgsApplication.processingRegistry().providerById("hypersnn") is None
    assert p.actions == [] and p.toolbar is None


def test_init_processing_alone_registers_the_provider(qgis_iface, qgis_processing):
    """qgis_process calls only initProcessing() on plugins with hasProcessingProvider=yes."""
    import hypersnn

    p = hypersnn.classFactory(qgis_iface)
    p.initProcessing()
    p.initProcessing()  # idempotent
    try:
        assert QgsApplication.processingRegistry().algorithmById("hypersnn:workflow") is not None
    finally:
        p.unload()
    assert QgsApplication.processingRegistry().algorithmById("hypersnn:workflow") is None


def test_metadata_is_complete():
    import configparser
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cp = configparser.ConfigParser()
    cp.read(root / "metadata.txt", encoding="utf-8")
    g = cp["general"]
    for key in ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email", "tracker",
                "repository", "homepage", "changelog", "tags", "category", "icon", "hasProcessingProvider"):
        assert g.get(key, "").strip(), key
    assert g["name"] == "HyperSNN" and g["version"] == "0.1.0" and g["qgisMinimumVersion"] == "3.22"
    assert g["hasProcessingProvider"] == "yes" and g["category"] == "Raster"
    assert (root / g["icon"]).is_file()
    for dep in ("torch", "numpy<2", "scipy", "matplotlib", "tqdm", "rasterio", "fiona"):
        assert dep in g["about"], dep
    assert g["tracker"] == "https://github.com/hypersnn/hypersnn/issues"


def test_nothing_in_the_plugin_imports_rasterio():
    """Two GDALs in one process crash QGIS: plugin/ and ui/ never import rasterio, fiona or the CLI."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    banned = ("rasterio", "fiona", "affine", "spectral", "io_rasterio", "cli")
    for folder in ("plugin", "ui"):
        for f in (root / folder).rglob("*.py"):
            assert "rasterio" not in f.read_text(), f
            for node in ast.walk(ast.parse(f.read_text())):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    mods = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                for m in mods:
                    assert not any(part in banned for part in m.split(".")), f"{f}: imports {m}"


@pytest.fixture
def no_torch(monkeypatch):
    """Pretend QGIS's Python has no torch (an import of it fails)."""
    monkeypatch.setitem(sys.modules, "torch", None)


def test_plugin_loads_without_torch_and_explains(trained_model, scene_dir, no_torch, qgis_iface, qgis_processing,
                                                  monkeypatch, tmp_path):
    import hypersnn
    from hypersnn.plugin import deps
    from qgis.PyQt.QtWidgets import QMessageBox

    missing = deps.missing_packages()
    assert [m.module for m in missing] == ["torch"]
    text = deps.explain(missing)
    assert "torch" in text and "-m pip install" in text and deps.python_executable() in text

    shown = {}

    def fake_exec(box):
        shown["text"] = box.text()
        shown["detail"] = box.detailedText()
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    p = hypersnn.classFactory(qgis_iface)
    p.initGui()  # must not raise
    try:
        p.actions[0].trigger()  # Train: the dependency check answers instead of the dialog
        assert "torch" in shown["text"]
        assert "pip install" in shown["detail"] and "torch" in shown["detail"]
        import processing
        from qgis.core import QgsProcessingException

        # classification needs no torch where onnx and onnxruntime are installed (core/models/engines.py) ...
        res = processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                                   "OUTPUT": str(tmp_path / "onnx.tif")})
        assert res["ENGINE"] == "onnx" and (tmp_path / "onnx.tif").exists()
        # ... and without those either, it says what to install: torch, or onnx and onnxruntime
        monkeypatch.setitem(sys.modules, "onnxruntime", None)
        with pytest.raises(QgsProcessingException, match="torch") as e:
            processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                                 "OUTPUT": str(tmp_path / "c.tif")})
        assert "pip install" in str(e.value) and "onnxruntime" in str(e.value)
        assert not (tmp_path / "c.tif").exists()
    finally:
        p.unload()


def test_python_executable_and_pip_command():
    from hypersnn.plugin import deps

    exe = deps.python_executable()
    out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == str(tuple(sys.version_info[:2]))
    cmd = deps.pip_command([deps.Missing("torch", "torch", "engine"), deps.Missing("scipy", "scipy", "splits")])
    assert cmd.startswith(exe.replace(" ", "\\ ") if " " in exe else exe)
    assert " -m pip install " in cmd and cmd.endswith("torch scipy")


def test_numpy_requirement_follows_the_gdal_qgis_was_built_with():
    """QGIS 3.22's GDAL 3.6 breaks under numpy 2; Debian 13's GDAL 3.10 is built against numpy 2."""
    from osgeo import gdal

    from hypersnn.plugin import deps

    assert deps.gdal_wants_numpy_below_2("3.6.2") and deps.gdal_wants_numpy_below_2("3.8.5")
    assert not deps.gdal_wants_numpy_below_2("3.9.0") and not deps.gdal_wants_numpy_below_2("3.10.3")
    import numpy

    # Whatever this QGIS has, the numpy it runs with is one its GDAL accepts, and deps agrees.
    assert not [m for m in deps.missing_packages() if m.module == "numpy"]
    if int(numpy.__version__.split(".")[0]) >= 2:
        assert not deps.gdal_wants_numpy_below_2(gdal.__version__)


def test_python_executable_when_sys_executable_is_qgis(monkeypatch):
    from hypersnn.plugin import deps

    monkeypatch.setattr(sys, "executable", "/usr/bin/qgis")
    exe = deps.python_executable()
    assert "python" in exe.rsplit("/", 1)[-1]
    subprocess.run([exe, "-c", "pass"], check=True)


def test_install_offer_runs_pip_in_a_task(no_torch, qgis_iface, monkeypatch, wait):
    from hypersnn.plugin import deps
    from qgis.PyQt.QtWidgets import QMessageBox

    calls = []

    def fake_install(missing, timeout=None):
        calls.append(deps.pip_args(missing))
        return subprocess.CompletedProcess(calls[-1], 0, "Successfully installed torch", "")

    monkeypatch.setattr(deps, "install", fake_install)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: QMessageBox.StandardButton.Yes)
    qgis_iface.messageBar().clear_messages()
    from hypersnn.ui import deps_dialog
    assert deps_dialog.ensure_dependencies(None, qgis_iface) is False
    wait(lambda: not deps_dialog._TASKS, 30, "the pip task")
    assert calls and calls[0][1:4] == ["-m", "pip", "install"] and "torch" in calls[0]
    assert any("Restart QGIS" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Success))


def test_plugin_loads_without_numpy_torch_scipy_matplotlib(tmp_path):
    """A fresh QGIS process whose Python lacks every engine dependency still loads the plugin, its menu
    and its Processing provider (the engine is imported lazily)."""
    import os
    from pathlib import Path

    code = (
        "import sys\n"
        "for m in ('numpy', 'torch', 'scipy', 'matplotlib'):\n"
        "    sys.modules[m] = None\n"
        "from qgis.core import QgsApplication\n"
        "app = QgsApplication([], True)\n"
        "app.initQgis()\n"
        "from unittest import mock\n"
        "from qgis.PyQt.QtWidgets import QMainWindow, QToolBar\n"
        "win = QMainWindow()\n"
        "iface = mock.MagicMock()\n"
        "iface.mainWindow.return_value = win\n"
        "iface.addToolBar.side_effect = lambda name: QToolBar(name, win)\n"
        "import hypersnn\n"
        "p = hypersnn.classFactory(iface)\n"
        "p.initGui()\n"
        "from hypersnn.plugin import deps\n"
        "print(sorted(m.module for m in deps.missing_packages()))\n"
        "print(QgsApplication.processingRegistry().algorithmById('hypersnn:train') is not None)\n"
        "print(deps.explain(deps.missing_packages()))\n"
        "p.unload()\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path),
               HOME=str(tmp_path))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                       cwd=str(Path(__file__).parent))
    assert p.returncode == 0, p.stderr[-3000:]
    lines = p.stdout.splitlines()
    assert lines[0] == "['matplotlib', 'numpy', 'scipy', 'torch']" and lines[1] == "True"
    assert "-m pip install" in p.stdout
    from hypersnn.plugin import deps

    # QGIS 3.22's GDAL 3.6 needs numpy 1.x; QGIS 3.40 on Debian 13 (GDAL 3.10) takes numpy 2.
    assert ("numpy<2" in p.stdout) == deps.gdal_wants_numpy_below_2()
