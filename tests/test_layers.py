"""The layers import only downwards: core <- workflows <- cli / plugin <- ui.

Every import of every module is read from its source (absolute and relative imports, at any depth in the
file), and so is every module a file starts in another process (`python -m hypersnn....`): such a process
boundary must be declared below, with its reason. Qt widgets live only in ui/; rasterio never reaches the
QGIS process (plugin/, ui/), since its own GDAL would crash QGIS.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"core": 0, "workflows": 1, "cli": 2, "plugin": 2, "ui": 3}
ALLOWED = {  # layer -> layers it may import
    "core": {"core"},
    "workflows": {"core", "workflows"},
    "cli": {"core", "workflows", "cli"},
    "plugin": {"core", "workflows", "plugin"},
    "ui": {"core", "workflows", "plugin", "ui"},
}
PROCESS_BOUNDARIES = {
    ("workflows/demo.py", "plugin"): "the demo's QGIS project is written by QGIS in its own process, because the "
                                     "demo's process has rasterio (and its GDAL) loaded",
}
RASTERIO_MODULES = {"workflows.rasterio_backend", "workflows.rasterio_reader", "workflows.rasterio_writer",
                    "workflows.rasterio_vectors"}
QT_WIDGETS = ("qgis.PyQt.QtWidgets", "PyQt5.QtWidgets", "qgis.gui")


def layer_of(rel: str) -> str:
    """The layer is the top folder: 'cli/commands.py' -> 'cli'."""
    return rel.split("/")[0]


def sources():
    files = [p for d in ("core", "workflows", "cli", "plugin", "ui") for p in (ROOT / d).rglob("*.py")]
    return [(p.relative_to(ROOT).as_posix(), p.read_text()) for p in files]


def imports(rel: str, text: str):
    """(module inside hypersnn, e.g. 'core.config.schema', or a third-party name) for every import in the file."""
    pkg = rel[:-3].split("/")[:-1] if not rel.endswith("__init__.py") else rel.split("/")[:-1]
    out = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append(a.name[len("hypersnn."):] if a.name.startswith("hypersnn.") else ("ext:" + a.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1] if node.level > 1 else pkg
                mod = ".".join(base + ([node.module] if node.module else []))
                names = [mod] if node.module else [".".join(base + [a.name]) for a in node.names]
                out += names
            elif node.module and node.module.startswith("hypersnn"):
                mod = node.module[len("hypersnn."):] if node.module != "hypersnn" else ""
                out.append(mod)  # and each name, which may be a module: `from hypersnn.core import config`
                out += [f"{mod}.{a.name}" if mod else a.name for a in node.names if a.name != "*"]
            elif node.module:
                out.append("ext:" + node.module)
                out += [f"ext:{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return out


def boundaries(text: str):
    """Modules of this package a file starts as `python -m hypersnn....` (process boundaries)."""
    return re.findall(r"[\"']hypersnn\.([a-z_]+(?:\.[a-z_]+)*)[\"']", text)


@pytest.mark.parametrize("rel,text", sources(), ids=lambda v: v if isinstance(v, str) and v.endswith(".py") else "")
def test_each_module_imports_only_its_own_layer_and_those_below(rel, text):
    layer = layer_of(rel)
    for mod in imports(rel, text):
        if mod.startswith("ext:"):
            name = mod[4:]
            if layer in ("core", "workflows", "cli"):
                assert not name.split(".")[0] in ("qgis", "PyQt5", "PyQt6", "osgeo"), f"{rel} imports {name}"
            if layer in ("plugin", "ui"):
                assert name.split(".")[0] not in ("rasterio", "fiona"), f"{rel} imports {name} into the QGIS process"
            if layer != "ui":
                assert not name.startswith(QT_WIDGETS), f"{rel} imports Qt widgets ({name}): they belong in ui/"
            continue
        target = mod.split(".")[0] if mod else ""
        target = "cli" if target == "cli" else target
        if target not in LAYERS:
            continue
        assert target in ALLOWED[layer], f"{rel} ({layer}) imports {mod} ({target})"
        if layer in ("plugin", "ui"):
            assert mod not in RASTERIO_MODULES, f"{rel} imports {mod}, which loads rasterio into the QGIS process"
    for mod in boundaries(text):
        target = mod.split(".")[0]
        if target in LAYERS and target not in ALLOWED[layer]:
            assert (rel, target) in PROCESS_BOUNDARIES, f"{rel} starts hypersnn.{mod} in another process: declare it"


def test_the_checker_sees_relative_imports_and_process_boundaries():
    """The rules above must bite: a relative import upwards and an undeclared `python -m` are caught."""
    assert "ui.train_dialog" in imports("plugin/x.py", "from ..ui.train_dialog import TrainDialog\n")
    assert "plugin" in imports("ui/x.py", "from ..plugin import jobs\n")
    assert "core.config.schema" in imports("workflows/x.py", "def f():\n    from ..core.config.schema import RunConfig\n")
    assert boundaries('cmd = [sys.executable, "-m", "hypersnn.plugin.project"]') == ["plugin.project"]
    assert ("workflows/demo.py", "plugin") in PROCESS_BOUNDARIES
    assert layer_of("cli/commands.py") == "cli" and "plugin" not in ALLOWED["cli"]
    assert any(rel.startswith("cli/") for rel, _ in sources())
    assert "PROJECT_WRITER" in (ROOT / "workflows" / "demo.py").read_text()


def test_resources_have_one_home():
    """Icon paths come from core/assets.py only (the provider no longer defines them for its algorithms)."""
    for rel, text in sources():
        if rel != "core/assets.py":
            assert "resources\", \"icon" not in text and "ICON_PATH = " not in text, rel
