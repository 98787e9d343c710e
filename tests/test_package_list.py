"""pyproject.toml lists every package of the plugin folder: a subpackage missing there is left out of a
non-editable install (`pip install .`), which the tests, run on the editable install, would not notice."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    block = re.search(r"^packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.S | re.M).group(1)
    listed = set(re.findall(r'"([\w.]+)"', block))
    found = {"hypersnn"} | {"hypersnn." + ".".join(p.parent.relative_to(ROOT).parts)
                            for top in ("core", "workflows", "plugin", "ui", "cli")
                            for p in (ROOT / top).rglob("__init__.py") if "__pycache__" not in p.parts}
    assert found - listed == set(), f"add to pyproject.toml packages: {sorted(found - listed)}"
    assert listed - found == set(), f"listed but not packages: {sorted(listed - found)}"
