"""One self-describing, safe model file.

Format: a zip holding `hypersnn.json` (everything but tensors: architecture, quantization, time steps,
band selection with wavelengths, preprocessing, classes, provenance, metrics, and the sha256 of the
tensor archive) and `tensors.npz` (plain numeric arrays, loaded with allow_pickle=False). Nothing in
the file is ever executed. Quantized weights are stored as their integer codes plus one scale per
tensor, so the file holds the k-bit network itself.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError, OutputError

FORMAT = "hypersnn-model"
FORMAT_VERSION = 1
META_NAME, TENSORS_NAME = "hypersnn.json", "tensors.npz"
MAX_META_BYTES = 50 * 1024 * 1024
MAX_TENSOR_BYTES = 2 * 1024 ** 3


def save_model(path, meta: dict, tensors: dict) -> None:
    """Write atomically: a temporary file in the same folder, renamed over `path` when complete."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"Output folder does not exist: {path.parent}")
    buf = io.BytesIO()
    np.savez(buf, **{k: np.ascontiguousarray(v) for k, v in tensors.items()})
    blob = buf.getvalue()
    meta = dict(meta, format=FORMAT, format_version=FORMAT_VERSION,
                tensors_sha256=hashlib.sha256(blob).hexdigest())
    text = json.dumps(meta, indent=1, sort_keys=True, default=_jsonable)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise OutputError(f"Cannot write to {path.parent}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
            # fixed timestamps: the same model gives a byte-identical file
            z.writestr(zipfile.ZipInfo(META_NAME, (1980, 1, 1, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)
            z.writestr(zipfile.ZipInfo(TENSORS_NAME, (1980, 1, 1, 0, 0, 0)), blob, zipfile.ZIP_DEFLATED)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_model(path) -> tuple:
    """(meta, tensors); every way a file can be wrong ends in ModelFileError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"Model file not found: {path}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as e:
        raise ModelFileError(f"Cannot read model file {path}: {e.strerror}") from None
    if head[:2] != b"PK":
        kind = "a pickle/PyTorch file" if head[:1] == b"\x80" else "not a HyperSNN model"
        raise ModelFileError(f"{path} is {kind}: HyperSNN model files are zip archives (.hsnn)")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if META_NAME not in names or TENSORS_NAME not in names:
                raise ModelFileError(f"{path} is a zip but not a HyperSNN model (missing {META_NAME}/{TENSORS_NAME})")
            if z.getinfo(META_NAME).file_size > MAX_META_BYTES or z.getinfo(TENSORS_NAME).file_size > MAX_TENSOR_BYTES:
                raise ModelFileError(f"{path}: model members are implausibly large; refusing to load")
            meta_bytes = z.read(META_NAME)
            blob = z.read(TENSORS_NAME)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise ModelFileError(f"{path} is truncated or corrupt: {e}") from None
    try:
        meta = json.loads(meta_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path}: model metadata is corrupt ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a HyperSNN model file")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{path}: missing format version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer HyperSNN (model format {version}; this version reads up to "
            f"{FORMAT_VERSION}). Update the HyperSNN plugin/package to load it.")
    if hashlib.sha256(blob).hexdigest() != meta.get("tensors_sha256"):
        raise ModelFileError(f"{path}: tensor data does not match its checksum (corrupt file)")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            tensors = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFileError(f"{path}: tensor data cannot be read safely ({e})") from None
    for k, v in tensors.items():
        if v.dtype.kind not in "biuf":
            raise ModelFileError(f"{path}: tensor {k!r} has non-numeric type {v.dtype}")
    return meta, tensors


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
