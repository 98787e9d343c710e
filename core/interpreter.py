"""Which Python program is this Python: needed to start worker processes (Dask's local workers) and to tell QGIS
users the interpreter that pip must install into.

Inside QGIS (desktop or qgis_process) the running program is QGIS, and sys.executable is only a guess from PATH:
measured on Debian 12 it named a pyenv shim of another Python (whose workers failed to import _csv, and whose pip
would install into the wrong Python). So each candidate is run and asked for its version and base prefix, and
only one that is this Python's own is accepted. No numpy, no Qt: the plugin uses this before the engine loads.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from typing import Optional, Tuple


def python_identity(exe: Optional[str] = None) -> Tuple[str, str]:
    """(version "3.11", real base prefix) of the Python `exe` (None: this one); ("", "") when it cannot be run."""
    if exe is None:
        return "%d.%d" % sys.version_info[:2], os.path.realpath(sys.base_prefix)
    code = "import os, sys; print('%d.%d' % sys.version_info[:2]); print(os.path.realpath(sys.base_prefix))"
    try:
        out = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=30,
                             env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
    except (OSError, subprocess.SubprocessError):
        return "", ""
    lines = out.stdout.split("\n")
    return (lines[0].strip(), lines[1].strip()) if out.returncode == 0 and len(lines) > 1 else ("", "")


def candidates() -> list:
    """Programs that may be this Python, most likely first: sys.executable when it is a python, then the python
    binaries under this Python's prefixes, then those on PATH. Never the QGIS program itself (running it would
    start QGIS)."""
    v = "%d.%d" % sys.version_info[:2]
    names = [f"python{v}", f"python{v.split('.')[0]}", "python", "python.exe", "python3.exe"]
    out = []
    if sys.executable and os.path.basename(sys.executable).lower().startswith("python"):
        out.append(sys.executable)
    for prefix in dict.fromkeys((sys.base_exec_prefix, sys.exec_prefix, sys.prefix, sys.base_prefix)):
        for where in (os.path.join(prefix, "bin"), prefix, os.path.join(prefix, "Scripts")):
            out += [os.path.join(where, n) for n in names]
    out += [shutil.which(n) or "" for n in names[:3]]
    return [c for c in dict.fromkeys(out) if c and os.path.isfile(c) and os.access(c, os.X_OK)]


def matching_python() -> Optional[str]:
    """The first candidate that runs as this very Python (same version and base prefix), else None."""
    return _matching(sys.executable)


@functools.lru_cache(maxsize=4)
def _matching(_executable) -> Optional[str]:  # cached per sys.executable: each check starts a process
    want = python_identity(None)
    for cand in candidates():
        if python_identity(cand) == want:
            return cand
    return None
