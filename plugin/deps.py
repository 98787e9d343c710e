"""Python packages the engine needs inside QGIS, and how to install the missing ones.

Nothing here imports the engine or any optional package: the plugin must load, show its menu and
explain what is missing even when QGIS's Python has no torch.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from typing import List, Optional

# module name -> (pip requirement, why)
REQUIRED = {
    "numpy": ("numpy", "arrays (the major version QGIS's GDAL was built against)"),
    "torch": ("torch", "the neural network engine"),
    "scipy": ("scipy", "spatial split guard bands"),
    "matplotlib": ("matplotlib", "figures in the HTML reports"),
}
OPTIONAL = {
    "tqdm": ("tqdm", "progress bars of the command-line tool"),
}
CLASSIFY_WITHOUT_TORCH = {
    "numpy": REQUIRED["numpy"],
    "onnx": ("onnx", "the SNN as an ONNX graph (classification without torch)"),
    "onnxruntime": ("onnxruntime", "runs the ONNX graph (classification without torch)"),
}
"""Classification alone runs without torch (core/models/engines.py): numpy, onnx and onnxruntime suffice."""


@dataclass
class Missing:
    module: str
    requirement: str
    why: str
    error: str = ""


def _find(module: str) -> Optional[str]:
    """None when `module` imports, else the reason."""
    try:
        if module in sys.modules and sys.modules[module] is not None:
            return None
        if module in sys.modules and sys.modules[module] is None:
            return "cannot be imported"
        if importlib.util.find_spec(module) is None:
            return "not installed"
    except (ImportError, ValueError) as e:
        return str(e) or "not installed"
    return None


def gdal_wants_numpy_below_2(gdal_version: Optional[str] = None) -> bool:
    """True where QGIS's GDAL Python bindings were built against numpy 1.x and break under numpy 2.

    GDAL before 3.9 (QGIS 3.22 on Debian 12: GDAL 3.6) predates numpy 2; Debian 13's GDAL 3.10 is built
    against numpy 2, which also runs on numpy >= 1.25. Outside QGIS (no osgeo) there is nothing to match.
    """
    if gdal_version is None:
        try:
            from osgeo import gdal

            gdal_version = gdal.__version__
        except Exception:  # noqa: BLE001 - no GDAL bindings: no constraint
            return False
    try:
        major, minor = (int(x) for x in gdal_version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) < (3, 9)


def numpy_requirement() -> str:
    """The pip requirement for numpy that fits this QGIS's GDAL."""
    return "numpy<2" if gdal_wants_numpy_below_2() else "numpy"


def missing_packages(include_optional: bool = False, modules: Optional[dict] = None,
                     purpose: str = "all") -> List[Missing]:
    """Packages QGIS's Python lacks. A numpy whose major version GDAL cannot use counts as missing.

    `purpose` "classify": nothing is missing when either the full engine (torch ...) or the torch-free
    classification packages (CLASSIFY_WITHOUT_TORCH) are there; otherwise the full engine's list is reported."""
    if purpose == "classify" and modules is None:
        full = missing_packages(include_optional)
        if not full or not missing_packages(include_optional, CLASSIFY_WITHOUT_TORCH):
            return []
        return full
    want = dict(modules or REQUIRED)
    if include_optional:
        want.update(OPTIONAL)
    out = []
    for mod, (req, why) in want.items():
        if mod == "numpy":
            req = numpy_requirement()
        err = _find(mod)
        if err is None and mod == "numpy":
            try:
                import numpy

                if int(numpy.__version__.split(".")[0]) >= 2 and req == "numpy<2":
                    err = f"numpy {numpy.__version__} is installed; QGIS's GDAL (before 3.9) needs numpy 1.x"
            except Exception as e:  # noqa: BLE001
                err = f"numpy does not import: {e}"
        if err is not None:
            out.append(Missing(mod, req, why, err))
    return out


def engine_importable(purpose: str = "all") -> Optional[str]:
    """None when the engine imports, else the error text (a package may exist but fail to import).
    `purpose` "classify" without torch checks the torch-free classification path instead."""
    if missing_packages(purpose=purpose):
        return ", ".join(m.module for m in missing_packages(purpose=purpose)) + " missing"
    module = "core.training.pipeline"
    if purpose == "classify" and missing_packages():
        module = "core.models.engines"
    try:
        importlib.import_module(__package__.rsplit(".", 1)[0] + "." + module)
    except Exception as e:  # noqa: BLE001 - report any failure (DLL errors, ABI mismatch)
        return f"{type(e).__name__}: {e}"
    return None


TORCH_CPU_INDEX = ["--index-url", "https://download.pytorch.org/whl/cpu", "--extra-index-url", "https://pypi.org/simple"]
"""Where pip finds the CPU-only torch wheels (about 200 MB instead of several GB of CUDA libraries); other packages
still come from PyPI."""


def python_executable() -> str:
    """The Python interpreter behind this QGIS, checked by running it (core/interpreter.py, the helper the Dask
    workers use): sys.executable may be the qgis binary itself, or a guess from PATH such as a pyenv shim of
    another Python, into which pip would install in vain."""
    from ..core.interpreter import matching_python

    exe = matching_python()
    if exe:
        return exe
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    names = ["python.exe", "python3.exe"] if os.name == "nt" else [f"python{ver}", "python3", "python"]
    prefixes = [sys.prefix, sys.exec_prefix, getattr(sys, "base_prefix", sys.prefix)]
    for prefix in prefixes:
        for sub in ("bin", "", "Scripts"):
            for name in names:
                cand = os.path.join(prefix, sub, name) if sub else os.path.join(prefix, name)
                if os.path.isfile(cand) and os.access(cand, os.X_OK):
                    return cand
    import shutil

    return shutil.which(f"python{ver}") or shutil.which("python3") or shutil.which("python") or "python3"


def externally_managed() -> bool:
    """PEP 668: Debian/Ubuntu system Pythons refuse pip installs without an explicit override."""
    try:
        return os.path.isfile(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
    except Exception:  # noqa: BLE001
        return False


def in_virtualenv() -> bool:
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


def pip_args(missing: List[Missing]) -> List[str]:
    """argv of the pip command that installs `missing` into QGIS's Python (torch from the CPU-only index)."""
    args = [python_executable(), "-m", "pip", "install"]
    if not in_virtualenv():
        args.append("--user")
        if externally_managed():
            args.append("--break-system-packages")
    if any(m.module == "torch" for m in missing):
        args += TORCH_CPU_INDEX
    args += [m.requirement for m in missing]
    return args


def onnx_route_missing() -> List[Missing]:
    """What QGIS's Python lacks for classification without torch (numpy, onnx, onnxruntime)."""
    return missing_packages(modules=CLASSIFY_WITHOUT_TORCH)


def pip_command(missing: List[Missing]) -> str:
    args = pip_args(missing)
    if os.name == "nt":
        return subprocess.list2cmdline(args)
    return " ".join(shlex.quote(a) for a in args)


def explain(missing: List[Missing], purpose: str = "all") -> str:
    """Plain-text message: what is missing, why, and the exact command. `purpose` "classify": the ONNX route
    (onnx and onnxruntime, no torch) comes first, since it is all that classification needs."""
    lines = [f"HyperSNN needs Python packages that QGIS's Python ({python_executable()}) does not have:"]
    for m in missing:
        lines.append(f"  - {m.module} ({m.why}): {m.error}")
    lines.append("")
    onnx = onnx_route_missing() if purpose == "classify" and any(m.module == "torch" for m in missing) else []
    if onnx:
        lines.append("To classify with existing model files, onnx and onnxruntime suffice (no torch; the ONNX "
                     "route). Install them into QGIS's Python with:")
        lines.append(f"  {pip_command(onnx)}")
        lines.append("")
        lines.append("For training as well (the full engine, with torch):")
    else:
        lines.append("Install them into QGIS's Python with:")
    lines.append(f"  {pip_command(missing)}")
    if externally_managed() and not in_virtualenv():
        lines.append("(--break-system-packages is needed because this system Python is marked "
                     "externally managed; --user keeps the packages in your home folder.)")
    if any(m.module == "torch" for m in missing):
        lines.append("torch comes from PyTorch's CPU-only index (" + TORCH_CPU_INDEX[1] + "), a far smaller "
                     "download than the default build with GPU libraries.")
        if not onnx:
            lines.append("To classify with existing model files only (no training), torch is not needed: install "
                         "onnx and onnxruntime instead (the same command with: onnx onnxruntime).")
    lines.append("Then restart QGIS. (The raster, vector and ENVI libraries of the command-line tool are not "
                 "needed inside QGIS.)")
    return "\n".join(lines)


def install(missing: List[Missing], timeout: Optional[float] = None) -> subprocess.CompletedProcess:
    """Run pip for `missing` (blocking; call from a background task)."""
    return subprocess.run(pip_args(missing), capture_output=True, text=True, timeout=timeout, check=False)


def all_requirements() -> List[Missing]:
    return [Missing(m, numpy_requirement() if m == "numpy" else r, w) for m, (r, w) in REQUIRED.items()]


def log_warning(text: str):
    try:
        from qgis.core import Qgis, QgsMessageLog

        QgsMessageLog.logMessage(text, "HyperSNN", Qgis.MessageLevel.Warning)
    except Exception:  # noqa: BLE001
        print(text, file=sys.stderr)
