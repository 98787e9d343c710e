"""Spectral metadata and ENVI headers, independent of the raster library.

The command line (rasterio) and QGIS (osgeo.gdal) read pixels with different libraries but must agree
on what a raster's bands are: both gather the raw header/metadata items and hand them here.
"""
from __future__ import annotations

import math
import os
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

from ..errors import RasterError

# ENVI data type code -> (numpy dtype, bytes per value)
ENVI_DTYPES = {
    1: ("uint8", 1), 2: ("int16", 2), 3: ("int32", 4), 4: ("float32", 4), 5: ("float64", 8),
    6: ("complex64", 8), 9: ("complex128", 16), 12: ("uint16", 2), 13: ("uint32", 4),
    14: ("int64", 8), 15: ("uint64", 8),
}
ENVI_DATA_EXTS = ("", ".img", ".dat", ".bsq", ".bil", ".bip", ".raw", ".bin", ".envi")
NOT_ENVI_EXTS = {".tif", ".tiff", ".vrt", ".jp2", ".nc", ".h5", ".he5"}

_UM = {"um", "µm", "μm", "micron", "microns", "micrometer", "micrometers", "micrometre", "micrometres"}
_NM = {"nm", "nanometer", "nanometers", "nanometre", "nanometres"}
_MM = {"mm", "millimeter", "millimeters", "millimetre", "millimetres"}


# --------------------------------------------------------------------------------------------------
# ENVI headers


def read_envi_header(hdr_path: str) -> Dict[str, object]:
    """The one ENVI header parser of the project: lower-case keys (runs of blanks made one space), `{...}`
    values as lists of stripped strings, `description` as one string, `;` comment lines skipped, also
    inside braces.

    Ours on purpose, not the `spectral` package's: the command line and QGIS (whose Python may lack
    `spectral`) must read a header the same way. On the headers `spectral` parses it gives the same fields;
    it also takes what `spectral` rejects (Latin-1 bytes, a comment after a closing brace) and names the
    field at fault when a brace never closes.
    """
    try:
        with open(hdr_path, "r", encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as e:
        raise RasterError(f"Cannot read ENVI header {hdr_path}: {e.strerror or e}") from None
    if not text.lstrip().startswith("ENVI"):
        raise RasterError(f"{hdr_path} is not an ENVI header (its first line must be 'ENVI')")
    out: Dict[str, object] = {}
    lines = text.splitlines()[1:]
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith(";") or "=" not in line:
            continue
        key, _, val = line.partition("=")
        key = " ".join(key.strip().lower().split())
        val = val.strip()
        if val.startswith("{"):
            buf = val
            while "}" not in buf:
                if i >= len(lines):
                    raise RasterError(f"ENVI header {hdr_path}: field '{key}' opens '{{' but never closes it")
                if not lines[i].lstrip().startswith(";"):
                    buf += "\n" + lines[i].strip()
                i += 1
            inner = buf[1:buf.rindex("}")]
            out[key] = inner.strip() if key == "description" else [v.strip() for v in inner.split(",")]
        else:
            out[key] = val
    return out


def _hdr_int(hdr: dict, key: str, hdr_path: str, default: Optional[int] = None) -> int:
    v = hdr.get(key)
    if v is None or v == "" or isinstance(v, list):
        if default is not None and v is None:
            return default
        raise RasterError(f"ENVI header {hdr_path} is missing the required field '{key}'"
                          if v is None or v == "" else f"ENVI header {hdr_path}: field '{key}' must be one number")
    try:
        return int(str(v).strip())
    except ValueError:
        raise RasterError(f"ENVI header {hdr_path}: field '{key}' = {v!r} is not an integer") from None


def validate_envi(hdr: dict, hdr_path: str, data_path: str) -> None:
    """Check the header describes a readable file and that the data file is complete."""
    samples = _hdr_int(hdr, "samples", hdr_path)
    lines = _hdr_int(hdr, "lines", hdr_path)
    bands = _hdr_int(hdr, "bands", hdr_path)
    dtype_code = _hdr_int(hdr, "data type", hdr_path)
    offset = _hdr_int(hdr, "header offset", hdr_path, default=0)
    for k, v in (("samples", samples), ("lines", lines), ("bands", bands)):
        if v < 1:
            raise RasterError(f"ENVI header {hdr_path}: field '{k}' = {v} must be at least 1")
    if dtype_code not in ENVI_DTYPES:
        raise RasterError(f"ENVI header {hdr_path}: 'data type' = {dtype_code} is not a supported ENVI type "
                          f"(supported: {sorted(ENVI_DTYPES)})")
    if hdr.get("byte order") not in (None, ""):
        bo = hdr.get("byte order")
        if isinstance(bo, list) or str(bo).strip() not in ("0", "1"):
            raise RasterError(f"ENVI header {hdr_path}: 'byte order' = {bo!r} must be 0 (little-endian, Intel) or "
                              f"1 (big-endian, IEEE)")
    interleave = str(hdr.get("interleave", "bsq")).strip().lower()
    if interleave not in ("bsq", "bil", "bip"):
        raise RasterError(f"ENVI header {hdr_path}: 'interleave' = {interleave!r} must be bsq, bil or bip")
    nbytes = ENVI_DTYPES[dtype_code][1]
    expected = offset + samples * lines * bands * nbytes
    actual = os.path.getsize(data_path)
    if actual < expected:
        raise RasterError(
            f"ENVI data file {data_path} is truncated: its header {hdr_path} describes {samples} samples x "
            f"{lines} lines x {bands} bands of {ENVI_DTYPES[dtype_code][0]} ({nbytes} bytes) + {offset} header "
            f"bytes = {expected} bytes, but the file has {actual} bytes"
        )


def envi_pair(path: str) -> Optional[Tuple[str, str]]:
    """(data file, header) when `path` is an ENVI dataset given by either file, else None."""
    low = path.lower()
    if low.endswith(".hdr"):
        hdr = path
        base = path[:-4]
        for ext in ENVI_DATA_EXTS:
            cand = base + ext
            if os.path.isfile(cand) and not cand.lower().endswith(".hdr"):
                return cand, hdr
        raise RasterError(f"ENVI header {hdr} has no data file next to it (looked for "
                          f"{', '.join(os.path.basename(base + e) for e in ENVI_DATA_EXTS)})")
    if os.path.splitext(low)[1] in NOT_ENVI_EXTS:
        return None
    for hdr in (path + ".hdr", os.path.splitext(path)[0] + ".hdr"):
        if os.path.isfile(hdr):
            try:
                with open(hdr, "rb") as fh:
                    if fh.read(64).lstrip().startswith(b"ENVI"):
                        return path, hdr
            except OSError:
                pass
    return None


# --------------------------------------------------------------------------------------------------
# spectral metadata


def _as_list(v) -> Optional[list]:
    """A header/GDAL value as a list of strings: lists pass, '{a, b}' strings are split."""
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v]
    s = str(v).strip()
    if s.startswith("{") and s.endswith("}"):
        return [x.strip() for x in s[1:-1].split(",")]
    return [s]


def _floats(vals: Optional[list], n: int, what: str, where: str) -> Optional[List[float]]:
    if vals is None:
        return None
    vals = [v for v in vals if v != ""]
    if len(vals) != n:
        warnings.warn(f"{where}: {what} lists {len(vals)} values for {n} bands; ignoring it")
        return None
    try:
        return [float(v) for v in vals]
    except ValueError:
        warnings.warn(f"{where}: {what} holds non-numeric values; ignoring it")
        return None


def _nm_factor(units: Optional[str], values: Sequence[float], where: str) -> Optional[float]:
    """Multiplier to nanometres; None when the units say these are not wavelengths (e.g. 'Index')."""
    u = (units or "").strip().lower().replace("\u00b5", "µ")
    if u in _UM or u.replace("μ", "µ") in _UM:
        return 1000.0
    if u in _NM:
        return 1.0
    if u in _MM:
        return 1e6
    if u == "index":
        return None
    finite = [v for v in values if not math.isnan(v)]
    guess = 1000.0 if finite and max(finite) < 30 else 1.0
    if u not in ("", "unknown", "none"):
        warnings.warn(f"{where}: wavelength units {units!r} not recognised; assuming "
                      f"{'micrometres' if guess == 1000 else 'nanometres'} from the values")
    return guess



def resolve_spectral_metadata(n: int, hdr: Optional[dict], per_band: List[dict], ds_tags: dict, where: str):
    """(wavelengths_nm, fwhm_nm, bad_bands, band_names) from an ENVI header, else GDAL metadata.

    `per_band` holds each band's metadata (keys lower-cased; default, ENVI and IMAGERY domains merged),
    `ds_tags` the dataset's (default and ENVI domains). Sources, in order: the ENVI header's
    `wavelength`/`fwhm`/`bbl`/`band names`; GDAL band items `wavelength`, `wavelength_units`, `fwhm`,
    `bbl` (as EnMAP-Box writes them); dataset-level ENVI lists; the IMAGERY domain's
    CENTRAL_WAVELENGTH_UM / FWHM_UM. Wavelengths and FWHM are converted to nanometres.
    """
    wl = fw = bbl = names = None
    units = None
    if hdr is not None:
        wl = _floats(_as_list(hdr.get("wavelength")), n, "'wavelength'", where)
        fw = _floats(_as_list(hdr.get("fwhm")), n, "'fwhm'", where)
        bbl = _floats(_as_list(hdr.get("bbl")), n, "'bbl'", where)
        bn = _as_list(hdr.get("band names"))
        if bn is not None and len(bn) == n:
            names = bn
        units = hdr.get("wavelength units")
        units = units[0] if isinstance(units, list) else units

    def band_values(key):
        vals = [t.get(key) for t in per_band]
        return vals if vals and all(v not in (None, "") for v in vals) else None

    if wl is None:
        if band_values("central_wavelength_um") is not None:
            wl = _floats(band_values("central_wavelength_um"), n, "CENTRAL_WAVELENGTH_UM", where)
            fw = _floats(band_values("fwhm_um"), n, "FWHM_UM", where) if band_values("fwhm_um") else None
            units = "um"
        else:
            wl = _floats(band_values("wavelength") or _as_list(ds_tags.get("wavelength")), n, "wavelength", where)
            fw = _floats(band_values("fwhm") or _as_list(ds_tags.get("fwhm")), n, "fwhm", where)
            bu = [t.get("wavelength_units") for t in per_band if t.get("wavelength_units")]
            units = bu[0] if bu else ds_tags.get("wavelength_units") or ds_tags.get("wavelength units")
    if bbl is None:
        bbl = _floats(band_values("bbl") or _as_list(ds_tags.get("bbl")), n, "bbl", where)
    if wl is not None:
        f = _nm_factor(units, wl, where)
        if f is None:
            wl = fw = None
        else:
            wl = [round(v * f, 6) for v in wl]  # round: 0.4 um -> 400.0 nm, not 400.00000000000006
            fw = [round(v * f, 6) for v in fw] if fw is not None else None
    bad = [v == 0 for v in bbl] if bbl is not None else None
    return wl, fw, bad, names


def resolve_scaling(scales: List[float], offsets: List[float], nodata, hdr: Optional[dict], where: str):
    """(scales or None, offsets or None, nodata) of a raster: its own per-band scale/offset, else the ENVI header's
    `reflectance scale factor` (values are reflectance x factor, so they are divided by it on read), and its
    nodata, else the header's `data ignore value`. One rule for the rasterio and GDAL readers."""
    scaled = any(s != 1.0 for s in scales) or any(o != 0.0 for o in offsets)
    if not scaled and hdr is not None and hdr.get("reflectance scale factor") not in (None, ""):
        raw = hdr["reflectance scale factor"]
        try:
            f = float(str(raw[0] if isinstance(raw, list) else raw).strip())
            if not (f > 0 and math.isfinite(f)):
                raise ValueError
        except ValueError:
            warnings.warn(f"ENVI header {where}: 'reflectance scale factor' {raw!r} is not a positive number; ignored")
        else:
            if f != 1.0:
                scales, offsets, scaled = [1.0 / f] * len(scales), [0.0] * len(offsets), True
    if nodata is None and hdr is not None and hdr.get("data ignore value") not in (None, ""):
        try:
            nodata = float(str(hdr["data ignore value"]).strip())
        except ValueError:
            warnings.warn(f"ENVI header {where}: 'data ignore value' is not a number; ignored")
    return (scales if scaled else None), (offsets if scaled else None), nodata
