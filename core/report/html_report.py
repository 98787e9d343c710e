"""Run reports: JSON, a self-contained HTML page and CSV tables, all written atomically.

The HTML embeds its figures as base64 PNG data URIs (matplotlib's Agg canvas, no pyplot, so no
global backend is touched inside QGIS), so a report is one file that can be mailed or archived.

Report dict schema (every section optional; what is present is rendered):
  title           str
  created         str (ISO time)
  model           dict of settings (flat or nested), e.g. arch, patch_size, time_steps, weight_bits
  split_protocol  dict from `splits.Split.protocol` (description, method, seed, per_class, totals,
                  warnings, notes, ...)
  accuracy        dict from `metrics.Assessment.to_dict(class_names)`: oa, aa, kappa, oa_ci95,
                  kappa_ci95, n_test, class_values, class_names, per_class [{value, name,
                  producers_accuracy, users_accuracy, f1, support, predicted}], confusion, notes,
                  area_adjusted (optional, `area_accuracy.AreaAccuracy.to_dict`, or {error})
  energy          dict from `energy.energy_report` (every ratio labelled with its convention):
                    headline     {convention, view}
                    table        {name, title, citation, full_precision, ..., unit_pj {network: {op: pJ}}}
                    widths       {weight_bits, input_bits, input, cnn_activation_bits, accumulator_bits}
                    conventions  {paper|reuse|complete: {description, per_patch|per_map_pixel:
                                  {totals_pj {snn, cnn_q, cnn_fp}, ratios {fp_cnn_over_snn, q_cnn_over_snn}}}}
                    layers       [{name, kind, spike_rate, leak, leak_kind, snn_ops {op: count},
                                   cnn_q_ops, pj {snn, cnn_q, cnn_fp}, ...counts}]
                    by_kind_pj   {snn|cnn_q|cnn_fp: {op: pJ}}  (complete convention, per patch)
                    scene        {pixels, snn_mj, cnn_q_mj, cnn_fp_mj, basis} (optional)
                    leaks, first_layer_share, time_steps, weight_bits, notes
  comparison      dict from `pipeline.compare_with_baseline`: baselines [{kind, name, params, val_oa, oa,
                  mcnemar_snn_vs_baseline, verdict}], rows [{model, oa, aa, kappa, train_s, test_pixels_per_s}],
                  verdict (all of them), basis
  timing          dict of named durations/values (seconds unless the key says otherwise)
Accuracy values are fractions 0..1; energies are per classified pixel (one inference).
"""
from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as _dt
import html
import io
import json
import math
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import OutputError
from ..io.files import atomic_write
from .palette import CHART_COLORS, class_color



# ---------------------------------------------------------------- public API


def to_jsonable(obj):
    """Plain JSON types from numpy scalars/arrays, dataclasses, tuples, paths; NaN/inf -> None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


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


FALLBACK_FONTS = ("Droid Sans Fallback", "Noto Sans CJK JP", "Noto Sans CJK SC", "WenQuanYi Micro Hei")
"""Fonts tried, after the default, for glyphs it lacks (class names in CJK scripts; bootstrap installs Droid)."""


def _font_context():
    """Matplotlib settings for the report's figures only (rc_context: nothing global is left changed, e.g. in
    QGIS): the default sans-serif, then a CJK-capable fallback font where one is installed."""
    import matplotlib
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    if not have & set(FALLBACK_FONTS):  # installed after matplotlib cached its font list: add them now
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name for k in ("DroidSansFallback", "NotoSansCJK", "wqy-microhei")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass
        have = {f.name for f in font_manager.fontManager.ttflist}
    family = ["DejaVu Sans"] + [f for f in FALLBACK_FONTS if f in have]
    return matplotlib.rc_context({"font.family": family})


def render_html(report: dict, class_map=None, classes=None, map_nodata: int = 0,
                max_map_side: int = 1200) -> str:
    """The self-contained HTML page for a report dict (see the module docstring for the schema)."""
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


# ---------------------------------------------------------------- sections


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


def _summary(acc, split, model, energy):
    rows = []
    if acc:
        rows.append(("Overall accuracy (OA)", _pct(acc.get("oa")) + _ci(acc.get("oa_ci95"), pct=True)))
        rows.append(("Average accuracy (AA)", _pct(acc.get("aa"))))
        rows.append(("Cohen's kappa", _num(acc.get("kappa"), 4) + _ci(acc.get("kappa_ci95"))))
        cv = isinstance(split, dict) and split.get("method") == "cv"
        rows.append(("Pixels assessed (each by a fold model that did not train on it)" if cv else "Test pixels",
                     _num(acc.get("n_test"))))
    if split:
        rows.append(("Split protocol", split.get("description") or _e_json(_flatten(split, skip=("per_class",)))))
    if model:
        keys = ("arch", "patch_size", "time_steps", "weight_bits", "n_bands", "n_classes", "pca_components")
        flat = _flatten(model)
        brief = ", ".join(f"{k} {flat[k]}" for k in flat if k.split(".")[-1] in keys)
        if brief:
            rows.append(("Model", brief))
    conv = (energy or {}).get("conventions")
    if isinstance(conv, dict):
        head = (energy.get("headline") or {}).get("convention", "complete")
        full = str((energy.get("table") or {}).get("full_precision") or "FP32")
        bits = energy.get("weight_bits")
        q = f"{bits}-bit" if bits else full
        for c in [head] + [k for k in ("paper",) if k != head and k in conv]:
            r = (conv.get(c) or {}).get("per_patch", {}).get("ratios", {})
            label = f"{c} convention, per patch" + (" (headline)" if c == head else "")
            rows.append((f"Energy {full} CNN / SNN, {label}", _num(r.get("fp_cnn_over_snn"), 1, "x")))
            rows.append((f"Energy {q} CNN / SNN, {label}", _num(r.get("q_cnn_over_snn"), 1, "x")))
        sc = energy.get("scene")
        if isinstance(sc, dict):
            rows.append(("Energy of the classified scene (SNN, complete convention)",
                         f"{_num(sc.get('snn_mj'), 4)} mJ over {_num(sc.get('pixels'))} pixels"))
    if not rows:
        return ""
    return "<h2>Summary</h2><table>" + "".join(
        f"<tr><th class='{_lw(k)}'>{_e(k)}</th><td class='{_lw(v)}'>{_e(v)}</td></tr>" for k, v in rows) + "</table>"


def _accuracy_section(acc):
    out = ["<h2>Accuracy</h2>"]
    per = acc.get("per_class") or []
    names = [str(p.get("name", p.get("value"))) for p in per]
    cm = acc.get("confusion")
    if cm:
        out.append(_img(_confusion_png(np.asarray(cm, float), names), "Confusion matrix"))
    if per:
        out.append(_img(_pa_ua_png(per), "Producer's and user's accuracy per class"))
        out.append("<table><tr><th>Value</th><th class='l'>Class</th><th>Producer's acc.</th>"
                   "<th>User's acc.</th><th>F1</th><th>Support</th><th>Predicted</th></tr>")
        for p in per:
            out.append(f"<tr><td>{_e(p.get('value'))}</td><td class='l'>{_e(p.get('name'))}</td>"
                       f"<td>{_e(_pct(p.get('producers_accuracy')))}</td><td>{_e(_pct(p.get('users_accuracy')))}</td>"
                       f"<td>{_e(_num(p.get('f1'), 4))}</td><td>{_e(_num(p.get('support')))}</td>"
                       f"<td>{_e(_num(p.get('predicted')))}</td></tr>")
        out.append("</table>")
    if cm:
        values = [str(p.get("value", i + 1)) for i, p in enumerate(per)] or [str(i + 1) for i in range(len(cm))]
        out.append("<h3>Confusion matrix (rows: reference, columns: prediction, headed by class value)</h3>"
                   "<table><tr><th></th>"
                   + "".join(f"<th title='{_e(n)}'>{_e(v)}</th>" for v, n in zip(values, names or values)) + "</tr>")
        for i, row in enumerate(cm):
            label = f"{values[i]} {names[i]}" if i < len(names) else str(i)
            out.append(f"<tr><th class='l'>{_e(label)}</th>" + "".join(f"<td>{_e(_num(v))}</td>" for v in row)
                       + "</tr>")
        out.append("</table>")
    out.append(_notes(acc.get("notes")))
    if isinstance(acc.get("area_adjusted"), dict):
        out.append(_area_section(acc["area_adjusted"]))
    return "\n".join(out)


def _comparison_section(comp):
    out = ["<h2>SNN against baselines</h2>"]
    for b in comp.get("baselines") or []:
        out.append(f"<p><b>{_e(b.get('verdict'))}</b></p>")
    out.append("<table><tr><th class='l'>Model</th><th>OA</th><th>AA</th><th>Kappa</th><th>Training (s)</th>"
               "<th>Test pixels / s</th></tr>")
    for r in comp.get("rows") or []:
        out.append(f"<tr><td class='l'>{_e(r.get('model'))}</td><td>{_e(_pct(r.get('oa')))}</td>"
                   f"<td>{_e(_pct(r.get('aa')))}</td><td>{_e(_num(r.get('kappa'), 4))}</td>"
                   f"<td>{_e(_num(r.get('train_s'), 1))}</td><td>{_e(_num(r.get('test_pixels_per_s'), 0))}</td></tr>")
    out.append("</table>")
    for b in comp.get("baselines") or []:
        params = ", ".join(f"{k} = {_num(v, 4) if isinstance(v, float) else v}" for k, v in (b.get("params") or {}).items())
        mc = b.get("mcnemar_snn_vs_baseline") or {}
        out.append(f"<p class='meta'>{_e(b.get('name', ''))}: {_e(params)}"
                   + (f"; validation OA {_e(_pct(b.get('val_oa')))}" if b.get("val_oa") is not None else "")
                   + (f". Test pixels only the SNN got right: {_e(mc.get('a_only'))}; only the {_e(b.get('name'))}: "
                      f"{_e(mc.get('b_only'))}" if mc else "") + ".</p>")
    out.append(f"<p class='meta'>{_e(comp.get('basis', ''))}</p>")
    return "\n".join(out)


AREA_COLUMNS = ("value", "name", "mapped_area", "area", "area_ci95", "users_accuracy", "users_ci95",
                "producers_accuracy", "producers_ci95", "sample", "mapped_pixels")


def _area_section(area):
    out = ["<h3>Area-adjusted accuracy and class areas (95 % intervals)</h3>"]
    if area.get("error"):
        return "\n".join(out + [f"<p>Not computed: {_e(area['error'])}</p>"])
    unit = area.get("area_unit", "")
    out.append(f"<p>{_e(area.get('method', ''))}. Overall accuracy {_e(_pct(area.get('oa')))} &plusmn; "
               f"{_e(_pct(area.get('oa_ci95')))}; total mapped area {_e(_num(area.get('total_area'), 2))} {_e(unit)}.</p>")
    out.append(f"<table><tr><th>Value</th><th class='l'>Class</th><th>Mapped ({_e(unit)})</th>"
               f"<th>Estimated ({_e(unit)})</th><th>User's acc.</th><th>Producer's acc.</th><th>Sample</th></tr>")
    for p in area.get("per_class") or []:
        out.append(f"<tr><td>{_e(p.get('value'))}</td><td class='l'>{_e(p.get('name'))}</td>"
                   f"<td>{_e(_num(p.get('mapped_area'), 2))}</td>"
                   f"<td>{_e(_num(p.get('area'), 2))} &plusmn; {_e(_num(p.get('area_ci95'), 2))}</td>"
                   f"<td>{_e(_pct(p.get('users_accuracy')))} &plusmn; {_e(_pct(p.get('users_ci95')))}</td>"
                   f"<td>{_e(_pct(p.get('producers_accuracy')))} &plusmn; {_e(_pct(p.get('producers_ci95')))}</td>"
                   f"<td>{_e(_num(p.get('sample')))}</td></tr>")
    out.append("</table>")
    out.append(_notes(area.get("notes")))
    return "\n".join(out)


def _split_section(split):
    out = ["<h2>Split protocol</h2>"]
    if split.get("description"):
        out.append(f"<p>{_e(split['description'])}</p>")
    out.append(_kv_table({_label(k): v for k, v in _flatten(split, skip=("per_class", "description", "warnings", "notes",
                                                                      "classes")).items()}))
    per = split.get("per_class")
    if isinstance(per, list) and per and isinstance(per[0], dict):
        cols = list(per[0].keys())
        out.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>")
        for row in per:
            out.append("<tr>" + "".join(f"<td>{_e(_num(row.get(c)) if not isinstance(row.get(c), str) else row.get(c))}</td>"
                                        for c in cols) + "</tr>")
        out.append("</table>")
    out.append(_notes(split.get("warnings"), warn=True))
    out.append(_notes(split.get("notes")))
    return "\n".join(out)


def _energy_section(energy, model):
    """Energy per classified pixel under each convention and view, by layer and by kind of operation."""
    out = ["<h2>Compute energy</h2>"]
    table = energy.get("table") if isinstance(energy.get("table"), dict) else {}
    full = str(table.get("full_precision") or "FP32")
    bits = energy.get("weight_bits")
    q_label = f"{bits}-bit CNN" if bits else f"{full} CNN"
    labels = (f"{full} CNN", q_label, "SNN")
    head = (energy.get("headline") or {}).get("convention", "complete")
    conv = energy.get("conventions") if isinstance(energy.get("conventions"), dict) else {}
    widths = energy.get("widths") if isinstance(energy.get("widths"), dict) else {}
    if widths:
        out.append(f"<p>Weights {_e(bits or full)}{'-bit' if bits else ''}; input {_e(widths.get('input'))}; CNN "
                   f"activations {_e(widths.get('cnn_activation_bits'))}-bit fixed point; accumulators and membranes "
                   f"{_e(widths.get('accumulator_bits'))} bits; T = {_e(energy.get('time_steps'))}. Headline: the "
                   f"<b>{_e(head)}</b> convention, per patch. Memory access is not counted.</p>")
    if conv:
        out.append("<table><tr><th class='l'>Convention</th><th class='l'>View</th>"
                   + "".join(f"<th>{_e(l)} pJ</th>" for l in labels)
                   + f"<th>{_e(full)} CNN / SNN</th><th>{_e(q_label)} / SNN</th><th class='l'>What is counted</th></tr>")
        for c, d in conv.items():
            for view in ("per_patch", "per_map_pixel"):
                v = (d or {}).get(view) or {}
                t, r = v.get("totals_pj") or {}, v.get("ratios") or {}
                name = c + (" (headline)" if c == head and view == "per_patch" else "")
                out.append(f"<tr><td class='l'>{_e(name)}</td><td class='l'>{_e(view.replace('_', ' '))}</td>"
                           + "".join(f"<td>{_e(_num(t.get(k), 1))}</td>" for k in ("cnn_fp", "cnn_q", "snn"))
                           + f"<td>{_e(_num(r.get('fp_cnn_over_snn'), 1, 'x'))}</td>"
                           f"<td>{_e(_num(r.get('q_cnn_over_snn'), 1, 'x'))}</td>"
                           f"<td class='l w'>{_e(d.get('description', '') if view == 'per_patch' else '')}</td></tr>")
        out.append("</table>")
        tvals = [(conv.get(head) or {}).get("per_patch", {}).get("totals_pj", {}).get(k)
                 for k in ("cnn_fp", "cnn_q", "snn")]
        if any(isinstance(v, (int, float)) and v > 0 for v in tvals):
            out.append(_img(_energy_total_png(labels, tvals), "Energy per model"))
    sc = energy.get("scene")
    if isinstance(sc, dict):
        out.append(f"<p>The classified scene: {_e(_num(sc.get('pixels')))} pixels; SNN {_e(_num(sc.get('snn_mj'), 4))} "
                   f"mJ, {_e(q_label)} {_e(_num(sc.get('cnn_q_mj'), 4))} mJ, {_e(full)} CNN "
                   f"{_e(_num(sc.get('cnn_fp_mj'), 3))} mJ ({_e(sc.get('convention'))} convention; "
                   f"{_e(sc.get('basis'))}).</p>")
    layers = [x for x in (energy.get("layers") or []) if isinstance(x, dict)]
    if layers:
        if any(x.get("spike_rate") is not None for x in layers):
            out.append(_img(_spike_rate_png(layers), "Spike rate per layer"))
        out.append(_img(_energy_layers_png(labels, layers), "Energy by layer"))
        kinds = []
        for x in layers:
            for k in (x.get("snn_ops") or {}):
                if k not in kinds:
                    kinds.append(k)
        out.append(f"<h3>By layer ({_e(head)} convention, per patch)</h3><table><tr><th class='l'>Layer</th>"
                   "<th>Spike rate</th><th class='l'>Leak</th>" + "".join(f"<th>SNN {_e(k)}</th>" for k in kinds)
                   + "".join(f"<th>{_e(l)} pJ</th>" for l in labels) + "</tr>")
        for x in layers:
            ops, pj = x.get("snn_ops") or {}, x.get("pj") or {}
            leak = "" if x.get("leak") is None else f"{_num(x['leak'], 4)} ({x.get('leak_kind')})"
            out.append(f"<tr><td class='l'>{_e(x.get('name'))}</td><td>{_e(_num(x.get('spike_rate'), 4))}</td>"
                       f"<td class='l'>{_e(leak)}</td>" + "".join(f"<td>{_e(_num(ops.get(k), 0))}</td>" for k in kinds)
                       + "".join(f"<td>{_e(_num(pj.get(k), 1))}</td>" for k in ("cnn_fp", "cnn_q", "snn")) + "</tr>")
        out.append("</table>")
    by_kind = energy.get("by_kind_pj") if isinstance(energy.get("by_kind_pj"), dict) else {}
    if by_kind:
        out.append(f"<h3>By kind of operation ({_e(head)} convention, per patch, pJ)</h3>")
        for net, lab in zip(("cnn_fp", "cnn_q", "snn"), labels):
            d = by_kind.get(net) or {}
            if d:
                out.append(f"<p><b>{_e(lab)}</b>: " + ", ".join(f"{_e(k)} {_e(_num(v, 1))}" for k, v in d.items())
                           + "</p>")
    ops_map = energy.get("ops_per_map_pixel") if isinstance(energy.get("ops_per_map_pixel"), dict) else {}
    if ops_map:
        out.append(f"<h3>Operations per map pixel (fully convolutional classification, {_e(head)} convention)</h3>")
        for net, lab in (("cnn", "CNN"), ("snn", "SNN")):
            d = ops_map.get(net) or {}
            if d:
                out.append(f"<p><b>{_e(lab)}</b>: " + ", ".join(f"{_e(k)} {_e(_num(v, 0))}" for k, v in d.items())
                           + "</p>")
    if table:
        out.append("<h3>Per-operation energy</h3>" + _kv_table(_flatten(table)))
    out.append(_notes(energy.get("notes")))
    return "\n".join(out)


# ---------------------------------------------------------------- figures


def _figure(w=6.4, h=3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _class_map_png(cmap, classes, nodata, max_side):
    if cmap.ndim != 2:
        raise OutputError(f"The class map for the report must be 2-D (rows, cols), got shape {cmap.shape}")
    step = max(1, math.ceil(max(cmap.shape) / max(int(max_side), 1)))
    sub = cmap[::step, ::step]
    rgb = np.full(sub.shape + (3,), 255, np.uint8)
    known = {c["value"]: c for c in classes}
    handles = []
    from matplotlib.patches import Patch

    present = [int(v) for v in np.unique(sub) if v != nodata]
    other = False
    for i, v in enumerate(present):
        c = known.get(v)
        if c is None:
            rgb[sub == v] = (128, 128, 128)
            other = True
            continue
        color = c["color"] or class_color(v)
        rgb[sub == v] = color
        handles.append(Patch(facecolor=np.asarray(color) / 255, edgecolor="k", label=f"{v}: {c['name']}"))
    if other:
        handles.append(Patch(facecolor=(0.5, 0.5, 0.5), edgecolor="k", label="other values"))
    h, w = sub.shape
    fw = 8.0
    fh = max(2.5, min(10.0, fw * 0.75 * h / max(w, 1)))
    fig = _figure(fw, fh)
    ax = fig.add_subplot(111)
    ax.imshow(rgb, interpolation="nearest")
    ax.set_axis_off()
    if step > 1:
        ax.set_title(f"(every {step}th pixel shown)", fontsize=8)
    if handles:
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    return _png(fig)


def _confusion_png(cm, names):
    k = cm.shape[0]
    side = min(12.0, 2.5 + 0.45 * k)
    fig = _figure(side + 1, side)
    ax = fig.add_subplot(111)
    rows = cm.sum(1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of reference row")
    if k <= 30:
        fs = 8 if k <= 12 else 6
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=fs,
                            color="white" if frac[i, j] > 0.5 else "black")
    labels = [n if len(n) <= 18 else n[:17] + "…" for n in names[:k]] + [str(i) for i in range(len(names), k)]
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("Reference")
    return _png(fig)


def _pa_ua_png(per):
    k = len(per)
    x = np.arange(k)
    pa = [np.nan if p.get("producers_accuracy") is None else 100 * p["producers_accuracy"] for p in per]
    ua = [np.nan if p.get("users_accuracy") is None else 100 * p["users_accuracy"] for p in per]
    fig = _figure(max(6.4, 0.5 * k + 2), 3.6)
    ax = fig.add_subplot(111)
    ax.bar(x - 0.2, pa, 0.4, label="Producer's accuracy", color=CHART_COLORS[0])
    ax.bar(x + 0.2, ua, 0.4, label="User's accuracy", color=CHART_COLORS[1])
    ax.set_xticks(x)
    ax.set_xticklabels([str(p.get("name", p.get("value")))[:18] for p in per], rotation=60, ha="right", fontsize=7)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def _spike_rate_png(layers):
    names = [str(x.get("name", i)) for i, x in enumerate(layers)]
    rates = [np.nan if x.get("spike_rate") is None else float(x["spike_rate"]) for x in layers]
    fig = _figure(max(6.4, 0.5 * len(layers) + 2), 3.2)
    ax = fig.add_subplot(111)
    ax.bar(range(len(layers)), rates, color=CHART_COLORS[2])
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("Spikes per neuron per time step")
    ax.set_title("Spike rate per layer", fontsize=9)
    return _png(fig)


def _energy_total_png(labels, vals):
    v = [float(x) if isinstance(x, (int, float)) and x > 0 else np.nan for x in vals]
    fig = _figure(5.0, 3.2)
    ax = fig.add_subplot(111)
    bars = ax.bar(range(3), v, color=[CHART_COLORS[0], CHART_COLORS[1], CHART_COLORS[2]])
    ax.set_yscale("log")
    pos = [x for x in v if not math.isnan(x)]
    ax.set_ylim(min(pos) / 10, max(pos) * 3)
    ax.set_xticks(range(3))
    ax.set_xticklabels(labels)
    ax.set_ylabel("Energy per pixel (pJ, log scale)")
    for b, val in zip(bars, v):
        if not math.isnan(val):
            ax.annotate(_si(val * 1e-12, "J"), (b.get_x() + b.get_width() / 2, val), ha="center",
                        va="bottom", fontsize=8)
    return _png(fig)


def _energy_layers_png(labels, layers):
    keys = ("cnn_fp", "cnn_q", "snn")
    fig = _figure(6.4, 3.8)
    ax = fig.add_subplot(111)
    bottom = np.zeros(3)
    for i, x in enumerate(layers):
        vals = np.array([float((x.get("pj") or {}).get(k) or 0.0) for k in keys])
        ax.bar(range(3), vals, 0.6, bottom=bottom, label=str(x.get("name", i)),
               color=CHART_COLORS[i % len(CHART_COLORS)], edgecolor="white", linewidth=0.5)
        bottom += vals
    ax.set_xticks(range(3))
    ax.set_xticklabels(labels)
    ax.set_ylabel("Energy per pixel (pJ)")
    ax.set_title("Energy by layer", fontsize=9)
    if len(layers) <= 20:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _png(fig)


# ---------------------------------------------------------------- helpers


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
    return atomic_write(path, data, what="report file")


def _csv_bytes(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _per_class_csv(acc) -> bytes:
    cols = ["value", "name", "producers_accuracy", "users_accuracy", "f1", "support", "predicted"]
    rows = [cols] + [["" if p.get(c) is None else p.get(c) for c in cols] for p in acc["per_class"]]
    return _csv_bytes(rows)


def _area_csv(area) -> bytes:
    rows = [list(AREA_COLUMNS) + ["area_unit"]]
    rows += [["" if p.get(c) is None else p.get(c) for c in AREA_COLUMNS] + [area.get("area_unit", "")]
             for p in area["per_class"]]
    return _csv_bytes(rows)


def _confusion_csv(acc) -> bytes:
    per = acc.get("per_class") or []
    names = [str(p.get("name", p.get("value"))) for p in per]
    cm = acc["confusion"]
    names += [str(i) for i in range(len(names), len(cm))]
    rows = [["reference \\ predicted"] + names[:len(cm)]]
    rows += [[names[i]] + list(r) for i, r in enumerate(cm)]
    return _csv_bytes(rows)


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{_e(alt)}' src=\"data:image/png;base64,{base64.b64encode(png).decode('ascii')}\">"


def _e(s) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _e_json(d) -> str:
    return json.dumps(d, allow_nan=False)


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


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _kv_table(d: dict) -> str:
    if not d:
        return ""
    return "<table>" + "".join(f"<tr><th class='{_lw(k)}'>{_e(k)}</th><td class='{_lw(v)}'>{_e(v)}</td></tr>"
                               for k, v in d.items()) + "</table>"


def _lw(text) -> str:
    """The class of a left-aligned cell: 'l w' (wraps between words) for running text, 'l' for a short value."""
    return "l w" if len(str(text)) > 30 and " " in str(text) else "l"


def _label(key: str) -> str:
    """A setting's key as words: 'patch_size' -> 'Patch size', 'wavelength_range_nm' -> 'Wavelength range (nm)'."""
    words = str(key).replace(".", " ").split("_")
    unit = words.pop() if len(words) > 1 and words[-1] in ("nm", "s", "mb", "pj") else ""
    text = " ".join(_ACRONYMS.get(w, w) for w in words)
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


_ACRONYMS = {"cnn": "CNN", "snn": "SNN", "pca": "PCA", "oa": "OA", "onnx": "ONNX", "qat": "QAT", "lr": "learning rate"}
_TIMING_LABELS = {"prepare": "Reading and preparing the data", "cnn": "CNN training", "convert": "CNN to SNN conversion",
                  "snn": "SNN training", "assess": "Assessment", "classify": "Classifying the raster",
                  "classify_pixels_per_s": "Classification speed", "total": "Total"}


def _duration(seconds) -> str:
    """Seconds as a reader wants them: '6.2 s', '3.4 min', '1 h 05 min'."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return _fmt(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds:.2f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{int(seconds // 3600)} h {int(round(seconds % 3600 / 60)):02d} min"


_LAYER_COLUMNS = ("name", "kind", "role", "in", "out", "kernel")


def _model_section(model: dict) -> str:
    """The model as tables a reader can scan: settings (one row each), then one row per layer with its shape
    and, for spiking layers, the firing threshold and leak (never raw JSON)."""
    scalars = {}
    for k, v in model.items():
        if k in ("layers", "neurons"):
            continue
        if isinstance(v, dict):
            scalars.update({_label(kk): vv for kk, vv in _flatten(v, k + ".").items()})
        elif isinstance(v, list):
            scalars[_label(k)] = ", ".join(_fmt(x) for x in v) if all(not isinstance(x, (dict, list)) for x in v) \
                else "; ".join(", ".join(f"{a} {_fmt(b)}" for a, b in x.items()) if isinstance(x, dict) else _fmt(x)
                               for x in v)
        else:
            scalars[_label(k)] = _fmt(v)
    out = ["<h2>Model</h2>", _kv_table(scalars)]
    layers = [x for x in (model.get("layers") or []) if isinstance(x, dict)]
    neurons = [x for x in (model.get("neurons") or []) if isinstance(x, dict)]
    if layers:
        extra = [k for k in layers[0] if k not in _LAYER_COLUMNS]
        cols = [c for c in _LAYER_COLUMNS if any(c in x for x in layers)] + extra
        head = "".join(f"<th class='l'>{_e(_label(c))}</th>" for c in cols)
        if neurons:
            head += "<th>Threshold</th><th>Leak</th>"
        out.append("<h3>Layers</h3><table><tr>" + head + "</tr>")
        for i, x in enumerate(layers):
            cells = "".join(f"<td class='l'>{_e(' x '.join(_fmt(k) for k in x.get(c)) if isinstance(x.get(c), list) else _fmt(x.get(c)) if c in x else '')}</td>"
                            for c in cols)
            if neurons:
                n = neurons[i] if i < len(neurons) else {}
                leak = "" if n.get("leak") is None else _num(n.get("leak"), 4) + (
                    f" ({n['leak_mode']})" if n.get("leak_mode") else "")
                cells += f"<td>{_e(_num(n.get('threshold'), 3) if n else '')}</td><td>{_e(leak)}</td>"
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
    elif neurons:
        out.append("<h3>Spiking neurons</h3>" + _kv_table({f"Layer {i + 1}": ", ".join(f"{k} {_fmt(v)}" for k, v in n.items())
                                                            for i, n in enumerate(neurons)}))
    return "\n".join(out)


def _timing_section(timing: dict) -> str:
    """Durations with their unit (s, min, h); rates keep theirs (a '_per_s' key is per second)."""
    rows = {}
    for k, v in _flatten_raw(timing).items():
        if k.endswith("_per_s"):
            rows[_TIMING_LABELS.get(k) or _label(k[:-len("_per_s")]) + " speed"] = (
                _num(v, 0, " pixels / s") if isinstance(v, (int, float)) else _fmt(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            bare = k[:-2] if k.endswith("_s") else k
            rows[_TIMING_LABELS.get(bare) or _label(bare)] = _duration(v)
        else:
            rows[_label(k)] = _fmt(v)
    return "<h2>Timing</h2>" + _kv_table(rows)


def _flatten_raw(d, prefix=""):
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flatten_raw(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _notes(notes, warn=False) -> str:
    if not notes:
        return ""
    if isinstance(notes, str):
        notes = [notes]
    cls = " class='warn'" if warn else ""
    return f"<ul{cls}>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"


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


def build_report(model, test_snn, test_cnn,
                 energy: Optional[dict], timing: Optional[dict] = None, title: str = "HyperSNN report") -> dict:
    names = [c["name"] for c in model.classes]
    m = model.meta
    rep = {
        "title": title,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model.summary(),
        "split_protocol": m.get("split_protocol", {}),
    }
    if test_snn is not None:
        rep["accuracy"] = test_snn.to_dict(names)
    if test_cnn is not None:
        rep["accuracy_cnn"] = test_cnn.to_dict(names)
    if energy is not None:
        rep["energy"] = energy
    if timing:
        rep["timing"] = timing
    return rep
