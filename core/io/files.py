"""Writing files all at once, and checking output paths before any work starts.

Every output (maps, model files, checkpoints, reports, sidecars) is written to a hidden temporary file beside
its target and renamed over it when complete, so a failed, canceled or killed run never leaves a half-written
file and never loses the old one. The finished file gets the permissions the user's umask allows (mkstemp's
0600 is only for the temporary name), or keeps those of the file it replaces.

`check_outputs` refuses, before anything is computed, an output that cannot be written or that would replace
an input or another output of the same run.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Tuple, Union

from ..errors import OutputError
from .spectral_meta import ENVI_DATA_EXTS

GEOTIFF_EXTS = (".tif", ".tiff")
"""The endings a map output may have: every map writer writes GeoTIFF, so a .png or .img name would lie."""


def umask_mode(base: int = 0o666) -> int:
    """`base` as the process umask lets a new file be created."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


@contextlib.contextmanager
def atomic_path(path, suffix: str = ".tmp", what: str = "file"):
    """Yield a fresh temporary path beside `path`; on a normal exit it replaces `path` (permissions from the
    umask, or the replaced file's), on an exception it is removed and `path` is untouched."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=str(path.parent))
    except OSError as e:
        raise OutputError(f"Cannot write into the folder {path.parent} (for {what} {path}): {e.strerror or e}") from None
    os.close(fd)
    try:
        yield tmp
        mode = (path.stat().st_mode & 0o777) if path.exists() else umask_mode()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):  # disk full, folder removed, read-only file system, ...
            raise OutputError(f"Cannot write {what} {path}: {e.strerror or e}; nothing was changed") from None
        raise


def atomic_write(path, data: Union[bytes, str, Callable], what: str = "file") -> str:
    """Write bytes, text (UTF-8) or `data(binary_file)` to `path` at once; returns the path as a string."""
    with atomic_path(path, what=what) as tmp:
        with open(tmp, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


# ------------------------------------------------------------------------------------------------ checks


def check_output_folder(folder: str, for_what: str) -> None:
    """OutputError unless `folder` exists and is a folder; `for_what` ends the message, e.g. 'for model file x'."""
    if not os.path.exists(folder):
        raise OutputError(f"Output folder does not exist: {folder} ({for_what})")
    if not os.path.isdir(folder):
        raise OutputError(f"Output folder {folder} is a file, not a folder ({for_what})")


def check_output_file(path, what: str, ext: Optional[Sequence[str]] = None, fmt: str = "") -> Optional[str]:
    """The absolute path of an output file that can be written, or OutputError naming `what` and why not.
    The folder must exist and be writable (a real probe: permissions, read-only file systems and quotas all
    show); the path must not be a folder; `ext` lists accepted endings (`fmt` names the format they stand for)."""
    if not path:
        return None
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    if not os.path.exists(folder):
        raise OutputError(f"The folder for the {what} does not exist: {folder}")
    if not os.path.isdir(folder):
        raise OutputError(f"The folder for the {what} is a file, not a folder: {folder}")
    if os.path.isdir(path):
        raise OutputError(f"The {what} {path} is a folder; give a file name")
    check_ending(path, what, ext, fmt)
    _probe(folder, f"the {what} {path}")
    return path


def check_ending(path, what: str, ext: Optional[Sequence[str]], fmt: str = "") -> None:
    """OutputError unless `path` ends in one of `ext` (any case): a file named .png that holds a GeoTIFF misleads
    every program that opens it. `fmt` names the format written."""
    if path and ext and not os.fspath(path).lower().endswith(tuple(e.lower() for e in ext)):
        written = f"it is written as {fmt}" if fmt else "that is the format written"
        raise OutputError(f"The {what} must end in {' or '.join(ext)}: {path} ({written}; give the file one of "
                          f"these endings)")


def check_output_dir(path, what: str = "report folder") -> Optional[str]:
    """The absolute path of a folder outputs can be written into (it may not exist yet, but its parent must),
    or OutputError naming it and why not."""
    if not path:
        return None
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise OutputError(f"The {what} {path} is a file, not a folder")
        _probe(path, f"the {what} {path}")
        return path
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise OutputError(f"The {what} {path} cannot be created: its parent folder {parent} does not exist")
    _probe(parent, f"the {what} {path}")
    return path


def _probe(folder: str, for_what: str) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".hypersnn-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"Output folder is not writable: {folder} ({e.strerror or e}; for {for_what})") from None


def same_file(a: str, b: str) -> bool:
    """True when two paths name one file (symlinks, relative paths and case-folding file systems)."""
    if not a or not b:
        return False
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def input_files(path: Optional[str]) -> list:
    """The files an input path stands for: itself, and for an ENVI raster both the header and the data file."""
    if not path:
        return []
    out = [str(path)]
    base, ext = os.path.splitext(str(path))
    if ext.lower() == ".hdr":
        out += [base + e for e in ENVI_DATA_EXTS]
    else:
        out += [str(path) + ".hdr", base + ".hdr"]
    return out



def file_key(path: str):
    """What identifies a file for `check_outputs`: device and inode when it exists (hard and symbolic links,
    case-folding file systems), else its resolved, case-normalised path. One key per path, so that a batch of
    thousands of scenes is checked in one pass, not by comparing every pair."""
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.normcase(os.path.realpath(path)))


def check_outputs(outputs: Iterable[Tuple[Optional[str], str]], inputs: Iterable[Tuple[Optional[str], str]] = ()):
    """Refuse, before any work, an output that is an input of the run (any of its files) or another output.
    `outputs` and `inputs` are (path or None, what) pairs; missing paths are skipped."""
    ins = {}
    for p, w in inputs:
        for f in (input_files(p) if p else []):
            ins.setdefault(file_key(f), (f, w))
    seen = {}
    for p, what in outputs:
        if not p:
            continue
        key = file_key(p)
        if key in ins:
            src, src_what = ins[key]
            raise OutputError(f"The {what} {p} is the {src_what} of this run ({src}); choose another file")
        if key in seen:
            raise OutputError(f"The {what} and the {seen[key]} are the same file ({p}); give each its own")
        seen[key] = what
