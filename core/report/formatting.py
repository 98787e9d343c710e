"""How the report writes values and small HTML pieces: escaping, numbers, percentages, intervals, SI units,
durations, setting keys as words, key/value tables, note lists and embedded images.

One place for these so that every section formats a value the same way. Names with a leading underscore are
private to core/report (the section, figure and page modules share them); nothing outside the package uses them.
"""
from __future__ import annotations

import base64
import html
import json
from typing import Optional


def _e(s) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _e_json(d) -> str:
    return json.dumps(d, allow_nan=False)


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _pct(v) -> str:
    return "n/a" if not isinstance(v, (int, float)) or isinstance(v, bool) else f"{100 * v:.2f}%"


def _num(v, digits: Optional[int] = None, unit: str = "") -> str:
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return "n/a" if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}{unit}"
    if digits is None:
        return f"{v:,.6g}{unit}"
    return f"{v:,.{digits}f}{unit}" if abs(v) < 1e12 else f"{v:.{digits}e}{unit}"


def _ci(ci, pct=False) -> str:
    if not isinstance(ci, (list, tuple)) or len(ci) != 2 or any(x is None for x in ci):
        return ""
    f = _pct if pct else (lambda x: f"{x:.4f}")
    return f" (95% CI {f(ci[0])} to {f(ci[1])})"


def _si(v: float, unit: str) -> str:
    for f, p in ((1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(v) >= f:
            return f"{v / f:.3g} {p}{unit}"
    return f"{v:.3g} {unit}"


def _duration(seconds) -> str:
    """Seconds as a reader wants them: '6.2 s', '3.4 min', '1 h 05 min'."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return _fmt(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds:.2f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{int(seconds // 3600)} h {int(round(seconds % 3600 / 60)):02d} min"


def _label(key: str) -> str:
    """A setting's key as words: 'patch_size' -> 'Patch size', 'wavelength_range_nm' -> 'Wavelength range (nm)'."""
    words = str(key).replace(".", " ").split("_")
    unit = words.pop() if len(words) > 1 and words[-1] in ("nm", "s", "mb", "pj") else ""
    text = " ".join(_ACRONYMS.get(w, w) for w in words)
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


_ACRONYMS = {"cnn": "CNN", "snn": "SNN", "pca": "PCA", "oa": "OA", "onnx": "ONNX", "qat": "QAT", "lr": "learning rate"}


def _flatten(d, prefix="", skip=()):
    """Nested dicts -> {'a.b': value}; lists of scalars joined; other lists as JSON."""
    out = {}
    for k, v in (d or {}).items():
        if k in skip:
            continue
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = ", ".join(_fmt(x) for x in v) if all(not isinstance(x, (dict, list)) for x in v) \
                else json.dumps(v)
        else:
            out[key] = _fmt(v)
    return out


def _flatten_raw(d, prefix=""):
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flatten_raw(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _lw(text) -> str:
    """The class of a left-aligned cell: 'l w' (wraps between words) for running text, 'l' for a short value."""
    return "l w" if len(str(text)) > 30 and " " in str(text) else "l"


def _kv_table(d: dict) -> str:
    if not d:
        return ""
    return "<table>" + "".join(f"<tr><th class='{_lw(k)}'>{_e(k)}</th><td class='{_lw(v)}'>{_e(v)}</td></tr>"
                               for k, v in d.items()) + "</table>"


def _notes(notes, warn=False) -> str:
    if not notes:
        return ""
    if isinstance(notes, str):
        notes = [notes]
    cls = " class='warn'" if warn else ""
    return f"<ul{cls}>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{_e(alt)}' src=\"data:image/png;base64,{base64.b64encode(png).decode('ascii')}\">"
