"""The run report as files: JSON, a self-contained HTML page and CSV tables, all written atomically.

The HTML embeds its figures as base64 PNG data URIs, so a report is one file that can be mailed or archived.
The report dict's schema is in `schema.py`; the page's sections are `sections.py`, its figures `figures.py`,
the CSV tables `csv_tables.py`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import OutputError
from ..io.files import atomic_write
from ..io.jsonable import to_jsonable
from .csv_tables import _area_csv, _confusion_csv, _per_class_csv
from .figures import _class_map_png
from .fonts import _font_context
from .formatting import _e, _img
from .sections import (_accuracy_section, _comparison_section, _energy_section, _model_section, _split_section,
                       _summary, _timing_section)


def write_report(out_dir, stem: str, report: dict, class_map=None, classes=None, map_nodata: int = 0,
                 max_map_side: int = 1200) -> dict:
    """Write `<stem>.json`, `<stem>.html` and, with an accuracy section, `<stem>_per_class.csv` and
    `<stem>_confusion.csv` into `out_dir`. Returns {kind: path}.

    `classes`: [{value, name, color (r, g, b) 0..255}] (or objects with those attributes) colour the
    class map; `map_nodata` pixels are drawn white. Large maps are subsampled to `max_map_side`.
    """
    if not isinstance(report, dict):
        raise OutputError(f"write_report expects the report as a dict, got {type(report).__name__}")
    stem = str(stem)
    if not stem or stem in (".", "..") or any(s in stem for s in ("/", "\\", "\0")):
        raise OutputError(f"Report name {stem!r} must be a plain file name without folders")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"Cannot create the report folder {out}: {e.strerror or e}") from None
    rep = to_jsonable(report)
    cls = _classes(classes)
    paths = {}
    acc = rep.get("accuracy")
    if isinstance(acc, dict) and acc.get("per_class"):
        paths["per_class_csv"] = _atomic_write(out / f"{stem}_per_class.csv", _per_class_csv(acc))
        if acc.get("confusion"):
            paths["confusion_csv"] = _atomic_write(out / f"{stem}_confusion.csv", _confusion_csv(acc))
        if isinstance(acc.get("area_adjusted"), dict) and acc["area_adjusted"].get("per_class"):
            paths["area_csv"] = _atomic_write(out / f"{stem}_area.csv", _area_csv(acc["area_adjusted"]))
    paths["json"] = _atomic_write(out / f"{stem}.json",
                                  json.dumps(rep, indent=2, allow_nan=False).encode("utf-8"))
    page = render_html(rep, class_map=class_map, classes=cls, map_nodata=map_nodata,
                       max_map_side=max_map_side)
    paths["html"] = _atomic_write(out / f"{stem}.html", page.encode("utf-8"))
    return paths


def render_html(report: dict, class_map=None, classes=None, map_nodata: int = 0,
                max_map_side: int = 1200) -> str:
    """The self-contained HTML page for a report dict (its schema: `schema.py`)."""
    with _font_context():
        return _render_html(report, class_map, classes, map_nodata, max_map_side)


def _render_html(report: dict, class_map, classes, map_nodata: int, max_map_side: int) -> str:
    rep = to_jsonable(report)
    cls = _classes(classes)
    title = str(rep.get("title") or "HyperSNN report")
    body = [f"<h1>{_e(title)}</h1>"]
    if rep.get("created"):
        body.append(f"<p class='meta'>Created {_e(rep['created'])}</p>")
    acc = rep.get("accuracy") if isinstance(rep.get("accuracy"), dict) else None
    split = rep.get("split_protocol") if isinstance(rep.get("split_protocol"), dict) else None
    model = rep.get("model") if isinstance(rep.get("model"), dict) else None
    energy = rep.get("energy") if isinstance(rep.get("energy"), dict) else None
    timing = rep.get("timing") if isinstance(rep.get("timing"), dict) else None
    comparison = rep.get("comparison") if isinstance(rep.get("comparison"), dict) else None

    trust = rep.get("trust_warnings")
    if trust:
        body.append("<div class='trust'><h2>This result cannot be trusted as it stands</h2><ul>"
                    + "".join(f"<li>{_e(w)}</li>" for w in trust) + "</ul></div>")
    body.append(_summary(acc, split, model, energy))
    if class_map is not None:
        body.append("<h2>Class map</h2>")
        body.append(_img(_class_map_png(np.asarray(class_map), cls, map_nodata, max_map_side), "Class map"))
    if comparison:
        body.append(_comparison_section(comparison))
    if acc:
        body.append(_accuracy_section(acc))
    if split:
        body.append(_split_section(split))
    if energy:
        body.append(_energy_section(energy, model))
    if model:
        body.append(_model_section(model))
    if timing:
        body.append(_timing_section(timing))
    body = [_scrolling(b) for b in body]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body) + "\n</body></html>\n"
    )


_CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #bbb;padding:3px 8px;"
    "text-align:right}th{background:#eee}td.l,th.l{text-align:left}.meta{color:#666}"
    "img{max-width:100%;display:block;margin:.5em 0}.warn{color:#a40}"
    ".trust{border:2px solid #c60;background:#fff4e5;padding:0 1em;margin:1em 0}.trust h2{color:#a40}"
    ".scroll{overflow-x:auto;max-width:100%}td,th{white-space:nowrap}td.w,th.w{white-space:normal;min-width:12em}"
)


def _scrolling(section: str) -> str:
    """Each table in a box that scrolls sideways in a narrow window (a QGIS dock, a phone): numbers and names
    never break inside a word; long text cells (class 'w') wrap between words."""
    return section.replace("<table>", "<div class='scroll'><table>").replace("</table>", "</table></div>")


def _classes(classes):
    """Normalise [{value, name, color}] or objects with those attributes to dicts."""
    out = []
    for c in classes or []:
        get = c.get if isinstance(c, dict) else lambda k, d=None, c=c: getattr(c, k, d)
        try:
            value = int(get("value"))
        except (TypeError, ValueError):
            raise OutputError(f"Report class entry {c!r} needs an integer 'value'") from None
        color = get("color")
        if color is not None:
            try:
                color = tuple(int(max(0, min(255, round(float(x))))) for x in list(color)[:3])
                if len(color) != 3:
                    raise ValueError
            except (TypeError, ValueError):
                raise OutputError(f"Report class {value}: colour {get('color')!r} is not (r, g, b)") from None
        out.append({"value": value, "name": str(get("name") or f"Class {value}"), "color": color})
    return out


def _atomic_write(path: Path, data: bytes) -> str:
    """One report file, written atomically (core/io/files.py); tests replace it to interrupt a rewrite."""
    return atomic_write(path, data, what="report file")
