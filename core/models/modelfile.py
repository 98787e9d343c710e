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
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ModelFileError, OutputError
from ..io.files import atomic_write
from ..io.jsonable import json_default

FORMAT = "hypersnn-model"
FORMAT_VERSION = 1
META_NAME, TENSORS_NAME = "hypersnn.json", "tensors.npz"
MAX_META_BYTES = 50 * 1024 * 1024
MAX_TENSOR_BYTES = 2 * 1024 ** 3


def save_model(path, meta: dict, tensors: dict) -> None:
    """Write atomically (core/io/files.py): a temporary file in the same folder, renamed over `path` when complete."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"Model output {path} is a folder; give a file name such as model.hsnn")
    if not path.parent.exists():
        raise OutputError(f"Output folder does not exist: {path.parent}")
    if not path.parent.is_dir():
        raise OutputError(f"Output folder {path.parent} is a file, not a folder")
    buf = io.BytesIO()
    np.savez(buf, **{k: np.ascontiguousarray(v) for k, v in tensors.items()})
    blob = buf.getvalue()
    meta = dict(meta, format=FORMAT, format_version=FORMAT_VERSION,
                tensors_sha256=hashlib.sha256(blob).hexdigest())
    text = json.dumps(meta, indent=1, sort_keys=True, default=json_default)
    def write(fh):
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
            # fixed timestamps: the same model gives a byte-identical file
            z.writestr(zipfile.ZipInfo(META_NAME, (1980, 1, 1, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)
            z.writestr(zipfile.ZipInfo(TENSORS_NAME, (1980, 1, 1, 0, 0, 0)), blob, zipfile.ZIP_DEFLATED)

    atomic_write(path, write, what="model file")


def load_model(path) -> tuple:
    """(meta, tensors); every way a file can be wrong ends in ModelFileError naming the file."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(q.name for q in path.glob("*.hsnn"))[:5]
        raise ModelFileError(f"Model file {path} is a folder, not a file: give the model file itself (.hsnn)"
                             + (f", e.g. {path / inside[0]} (the folder holds {', '.join(inside)})" if inside else ""))
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
                if any(n.endswith("data.pkl") for n in names):
                    raise ModelFileError(f"{path} is a PyTorch file (torch.save), not a HyperSNN model; it is not "
                                         f"loaded because PyTorch files can run code")
                raise ModelFileError(f"{path} is a zip but not a HyperSNN model (missing {META_NAME}/{TENSORS_NAME})")
            if z.getinfo(META_NAME).file_size > MAX_META_BYTES or z.getinfo(TENSORS_NAME).file_size > MAX_TENSOR_BYTES:
                raise ModelFileError(f"{path}: model members are implausibly large; refusing to load")
            meta_bytes = z.read(META_NAME)
            blob = z.read(TENSORS_NAME)
    except ModelFileError:
        raise
    except Exception as e:  # noqa: BLE001 - zipfile raises many types on damaged archives
        raise ModelFileError(f"{path} is truncated or corrupt: {e}") from None
    try:
        meta = json.loads(meta_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelFileError(f"{path}: model metadata is corrupt ({type(e).__name__}: {e})") from None
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
        _check_npz(blob)
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            tensors = {k: npz[k] for k in npz.files}
    except ModelFileError as e:
        raise ModelFileError(f"{path}: {e}") from None
    except Exception as e:  # noqa: BLE001 - numpy raises many types on damaged arrays
        raise ModelFileError(f"{path}: tensor data cannot be read safely ({type(e).__name__}: {e})") from None
    for k, v in tensors.items():
        if not isinstance(v, np.ndarray) or v.dtype.kind not in "biuf":
            raise ModelFileError(f"{path}: tensor {k!r} is not a numeric array")
    return meta, tensors


def _check_npz(blob: bytes) -> None:
    """Read each array header without loading it: numeric types only, sizes that fit the member."""
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        for info in z.infolist():
            with z.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version in ((2, 0), (3, 0)):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise ModelFileError(f"tensor {info.filename!r} has an unknown array format {version}")
                if dtype.hasobject or dtype.kind not in "biuf":
                    raise ModelFileError(f"tensor {info.filename!r} has non-numeric type {dtype}; refusing to load")
                n = 1
                for d in shape:
                    n *= int(d)
                if n * dtype.itemsize > info.file_size:
                    raise ModelFileError(f"tensor {info.filename!r} declares {shape} x {dtype}, more than its "
                                         f"{info.file_size} bytes")

