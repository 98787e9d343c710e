"""Band selection: parse the user's band expressions and pick bands from a RasterInfo.

Pure functions (no I/O) so the CLI, the QGIS dialogs and model files all select bands the same way.
Band indices are 0-based internally and 1-based in everything a user types or reads.
"""
from __future__ import annotations

import math
import re
from typing import List, Optional, Sequence, Tuple

from ..config.schema import BandSelection
from ..errors import InputError
from ..io.raster import RasterInfo

_DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash: people paste ranges from documents
_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_UNIT = r"[A-Za-z\u00b5\u03bc]+"
_WINDOW_RE = re.compile(
    rf"^\s*({_NUM})\s*({_UNIT})?\s*[{_DASHES}]\s*({_NUM})\s*({_UNIT})?\s*$"
)

_UNIT_TO_NM = {
    "nm": 1.0, "nanometer": 1.0, "nanometers": 1.0, "nanometre": 1.0, "nanometres": 1.0,
    "um": 1000.0, "\u00b5m": 1000.0, "\u03bcm": 1000.0, "micron": 1000.0, "microns": 1000.0,
    "micrometer": 1000.0, "micrometers": 1000.0, "micrometre": 1000.0, "micrometres": 1000.0,
}


def _tokens(expr: str) -> List[str]:
    return [t.strip() for t in re.split(r"[,;]", expr or "") if t.strip()]


def parse_index_ranges(expr: str, count: int) -> List[int]:
    """1-based ranges such as "1-100, 120-150,160" -> sorted unique 0-based indices.

    An empty expression means every band (the BandSelection convention).
    """
    if not (expr or "").strip():
        return list(range(count))
    out = set()
    for tok in _tokens(expr):
        m = re.fullmatch(rf"(\d+)\s*(?:[{_DASHES}]\s*(\d+))?", tok)
        if not m:
            raise InputError(
                f"Band range {tok!r} is not understood: use 1-based numbers and ranges like "
                f"'1-100, 120-150, 160' (valid bands: 1..{count})"
            )
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if lo > hi:
            raise InputError(f"Band range {tok!r} is reversed: write it as {hi}-{lo} (valid bands: 1..{count})")
        if lo < 1 or hi > count:
            raise InputError(f"Band range {tok!r} is outside the raster's bands: valid bands are 1..{count}")
        out.update(range(lo - 1, hi))
    return sorted(out)


def _to_nm(value: float, unit: Optional[str], tok: str) -> float:
    if unit is None:
        return value
    factor = _UNIT_TO_NM.get(unit.lower()) or _UNIT_TO_NM.get(unit)
    if factor is None:
        raise InputError(f"Wavelength window {tok!r}: unknown unit {unit!r} (use nm or um)")
    return value * factor


def parse_wavelength_windows(expr: str) -> List[Tuple[float, float]]:
    """Windows such as "400-1340nm, 1.45-1.8um" -> [(lo_nm, hi_nm)]; numbers without a unit are nm."""
    windows = []
    for tok in _tokens(expr):
        m = _WINDOW_RE.match(tok)
        if not m:
            raise InputError(
                f"Wavelength window {tok!r} is not understood: use ranges like '400-1340nm' or '1.45-1.8um'"
            )
        lo_s, lo_u, hi_s, hi_u = m.groups()
        unit = hi_u or lo_u  # "1.45-1.8um": the trailing unit applies to both ends
        lo = _to_nm(float(lo_s), lo_u or unit, tok)
        hi = _to_nm(float(hi_s), unit, tok)
        if lo < 0 or hi < 0:
            raise InputError(f"Wavelength window {tok!r} has a negative wavelength")
        if lo > hi:
            raise InputError(f"Wavelength window {tok!r} is reversed ({lo:g} nm > {hi:g} nm): put the shorter one first")
        windows.append((lo, hi))
    return windows


# Strong water-vapour absorption around 1400 and 1900 nm (and beyond 2450 nm, where sensors are noisy): bands
# there carry little surface signal. One rule for the CLI (--drop-water-bands) and the band selector's button.
WATER_ABSORPTION_NM = [(1340.0, 1450.0), (1790.0, 1960.0), (2450.0, 2600.0)]


def water_absorption_bands(info: RasterInfo) -> List[int]:
    """0-based bands whose centre lies in a water-vapour absorption window (none without wavelengths)."""
    if not _has_wavelengths(info):
        return []
    return [i for i, w in enumerate(info.wavelengths) if w is not None and not math.isnan(float(w))
            and any(lo <= float(w) <= hi for lo, hi in WATER_ABSORPTION_NM)]


def _has_wavelengths(info: RasterInfo) -> bool:
    wl = info.wavelengths
    return bool(wl) and any(w is not None and not math.isnan(float(w)) for w in wl)


def select_bands(info: RasterInfo, sel: BandSelection) -> List[int]:
    """0-based bands meeting every criterion of `sel` (intersection); raises when none remain."""
    count = info.count
    keep = set(range(count))
    reasons = []
    if (sel.indices or "").strip():
        picked = parse_index_ranges(sel.indices, count)
        keep &= set(picked)
        reasons.append(f"band indices {sel.indices!r} select {len(picked)} band(s)")
    windows = parse_wavelength_windows(sel.wavelength_windows)
    if windows:
        if not _has_wavelengths(info):
            raise InputError(
                f"Raster {info.path or '(in memory)'} has no wavelength metadata, so the wavelength windows "
                f"{sel.wavelength_windows!r} cannot be applied: select bands by index instead"
            )
        in_win = {
            i for i, w in enumerate(info.wavelengths)
            if w is not None and not math.isnan(float(w)) and any(lo <= float(w) <= hi for lo, hi in windows)
        }
        keep &= in_win
        valid = [float(w) for w in info.wavelengths if w is not None and not math.isnan(float(w))]
        reasons.append(
            f"wavelength windows {sel.wavelength_windows!r} select {len(in_win)} band(s) "
            f"(the raster covers {min(valid):.1f}-{max(valid):.1f} nm)"
        )
    if sel.drop_bad_bands and info.bad_bands:
        bad = {i for i, b in enumerate(info.bad_bands) if b}
        if bad:
            keep -= bad
            reasons.append(f"{len(bad)} band(s) are flagged bad (bbl = 0) and dropped")
    if getattr(sel, "drop_water_bands", False):
        if not _has_wavelengths(info):
            raise InputError(f"Raster {info.path or '(in memory)'} has no wavelength metadata, so the water-absorption "
                             f"bands cannot be found: select bands by index instead")
        water = set(water_absorption_bands(info))
        keep -= water
        reasons.append(f"{len(water)} band(s) lie in water-vapour absorption windows and are dropped")
    if not keep:
        why = "; ".join(reasons) if reasons else "the raster has no bands"
        raise InputError(
            f"No bands left to use from {info.path or 'the raster'} ({count} bands): {why}; "
            f"together these leave nothing. Widen the selection or turn off dropping bad bands."
        )
    return sorted(keep)


def index_ranges(idx: Sequence[int]) -> List[str]:
    """0-based indices -> ["1-103", "109-149"]: 1-based runs, as analysts count bands."""
    out = []
    s = sorted(idx)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[j] + 1:
            j += 1
        out.append(f"{s[i] + 1}" if i == j else f"{s[i] + 1}-{s[j] + 1}")
        i = j + 1
    return out


def describe_selection(info: RasterInfo, idx: Sequence[int]) -> str:
    """Human summary, e.g. "185 of 200 bands: 1-103, 109-149, 164-200 (400.0-2499.0 nm)"."""
    parts = index_ranges(idx)
    if len(parts) > 12:
        parts = parts[:11] + ["...", parts[-1]]
    text = f"{len(idx)} of {info.count} bands: {', '.join(parts)}"
    if _has_wavelengths(info) and idx:
        wl = [float(info.wavelengths[i]) for i in idx
              if info.wavelengths[i] is not None and not math.isnan(float(info.wavelengths[i]))]
        if wl:
            text += f" ({min(wl):.1f}-{max(wl):.1f} nm)"
    return text
