#!/usr/bin/env python3
"""Build the QGIS plugin package: dist/hypersnn-<version>.zip with everything under `hypersnn/`.

    python3 scripts/make_plugin_zip.py [--out dist] [--check]

The repository root is the plugin folder. Left out: tests, benchmarks, docs, scripts, CI files, build
and packaging files, caches, virtual environments, git metadata, demo outputs and anything
.gitignore'd by name. The version comes from metadata.txt and must match core/__init__.py.
`--check` also byte-compiles every Python file of the package and lists problems the official
plugin repository would report.
"""
from __future__ import annotations

import argparse
import configparser
import fnmatch
import os
import py_compile
import re
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOP = "hypersnn"

EXCLUDE_DIRS = {
    ".git", ".github", ".ci", ".venv", ".venv-pyqt6", "venv", "env", "__pycache__", ".pytest_cache", ".hypothesis",
    ".qgis-settings", ".mypy_cache", ".ruff_cache", ".tox", ".idea", ".vscode", "tests", "bench", "docs",
    "scripts", "dist", "build", "demo_out",
}
TOP_ONLY_DIRS = {"data"}
"""Left out only at the plugin folder's top (benchmark downloads): core/data/ is the engine's own package."""
EXCLUDE_FILES = {
    ".gitignore", ".gitattributes", "Makefile", "pyproject.toml", "setup.cfg", "setup.py", "tox.ini",
    ".pre-commit-config.yaml", "qgis_settings.ini",
}
EXCLUDE_GLOBS = ("*.pyc", "*.pyo", "*.egg-info", "*.tmp", ".*.tmp-*", "*.aux.xml", "*~", ".DS_Store", "*.orig",
                 "*.rej", "*.swp")
# the command line's rasterio backend: the only modules allowed to import rasterio/fiona (never loaded in QGIS)
CLI_ONLY = ("workflows/rasterio_backend.py", "workflows/rasterio_reader.py", "workflows/rasterio_writer.py",
            "workflows/rasterio_vectors.py")
REQUIRED = ("metadata.txt", "__init__.py", "resources/icon.svg", "ui/plugin.py", "workflows/train.py")


def read_metadata(root: Path = REPO) -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    if not cp.read(root / "metadata.txt", encoding="utf-8"):
        raise SystemExit(f"metadata.txt not found in {root}")
    return cp["general"]


def engine_version(root: Path = REPO) -> str:
    text = (root / "core" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", text)
    return m.group(1) if m else ""


def excluded(rel: Path, is_dir: bool) -> bool:
    parts = rel.parts
    if any(p in EXCLUDE_DIRS for p in parts[:-1] if p) or (is_dir and parts[-1] in EXCLUDE_DIRS):
        return True
    if parts[0] in TOP_ONLY_DIRS and (len(parts) > 1 or is_dir):
        return True
    name = parts[-1]
    if not is_dir and len(parts) == 1 and name in EXCLUDE_FILES:
        return True
    return any(fnmatch.fnmatch(name, g) for g in EXCLUDE_GLOBS)


def plugin_files(root: Path = REPO):
    """Sorted relative paths of the files that go into the zip."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(n for n in dirnames
                             if not excluded(d / n, True) and not os.path.islink(os.path.join(dirpath, n)))
        for n in sorted(filenames):
            rel = d / n
            full = root / rel
            if excluded(rel, False) or full.is_symlink() or not full.is_file():
                continue
            out.append(rel)
    return sorted(out, key=lambda p: p.as_posix())


def check(root: Path, files) -> list:
    """Problems the plugin repository (or QGIS) would report; empty when the package looks sound."""
    problems = []
    meta = read_metadata(root)
    for key in ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email", "repository",
                "tracker", "homepage"):
        if not meta.get(key, "").strip():
            problems.append(f"metadata.txt: '{key}' is missing or empty")
    names = {f.as_posix() for f in files}
    for req in REQUIRED:
        if req not in names:
            problems.append(f"{req} is missing")
    if meta.get("icon") and meta["icon"] not in names:
        problems.append(f"metadata.txt icon {meta['icon']} is not in the package")
    if not any(n.split("/")[0].upper().startswith(("LICENSE", "LICENCE", "COPYING")) for n in names):
        problems.append("no LICENSE file at the top level: plugins.qgis.org rejects packages without one")
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            if f.suffix == ".py":
                try:
                    py_compile.compile(str(root / f), cfile=os.path.join(tmp, "x.pyc"), doraise=True)
                except py_compile.PyCompileError as e:
                    problems.append(f"{f}: does not compile: {e.msg}")
    for f in files:
        if f.suffix == ".py" and re.search(r"^\s*(import|from)\s+(rasterio|fiona)\b",
                                           (root / f).read_text(encoding="utf-8"), re.M) \
                and f.as_posix() not in CLI_ONLY:
            problems.append(f"{f}: imports rasterio/fiona outside the command-line modules (crashes QGIS)")
    return problems


def build(out_dir: Path, root: Path = REPO) -> Path:
    meta = read_metadata(root)
    version = meta.get("version", "").strip()
    if not version:
        raise SystemExit("metadata.txt has no version")
    ev = engine_version(root)
    if ev and ev != version:
        raise SystemExit(f"version mismatch: metadata.txt says {version}, core/__init__.py says {ev}")
    files = plugin_files(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{TOP}-{version}.zip"
    from hypersnn.core.io.files import atomic_path

    with atomic_path(target, suffix=".zip", what="plugin zip") as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for rel in files:
                info = zipfile.ZipInfo(f"{TOP}/{rel.as_posix()}", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, (root / rel).read_bytes())
    return target


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Build dist/hypersnn-<version>.zip for the QGIS plugin repository")
    ap.add_argument("--out", default=str(REPO / "dist"), help="output folder (default: dist/)")
    ap.add_argument("--check", action="store_true", help="also check the package and fail on problems")
    args = ap.parse_args(argv)
    target = build(Path(args.out))
    with zipfile.ZipFile(target) as z:
        names = z.namelist()
    size = target.stat().st_size
    print(f"{target}: {len(names)} files, {size / 1e6:.1f} MB")
    problems = check(REPO, plugin_files(REPO))
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    return 1 if (args.check and problems) else 0


if __name__ == "__main__":
    sys.exit(main())
