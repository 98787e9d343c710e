"""The report page's sections as HTML fragments: summary, accuracy (with area-adjusted estimates), the SNN
against baselines, split protocol, compute energy, model and timing.

Each takes its part of the report dict (plain JSON types, `to_jsonable` applied) and returns HTML; a missing
value reads "n/a" or is left out, never raises. `html_report.render_html` puts them in order.
"""
from __future__ import annotations

import numpy as np

from ..energy.costs import RATIOS, equivalent_ann_label, where_snn_wins
from .figures import _confusion_png, _energy_layers_png, _energy_total_png, _pa_ua_png, _spike_rate_png
from .formatting import (_ci, _duration, _e, _e_json, _flatten, _flatten_raw, _fmt, _img, _kv_table, _label, _lw,
                         _notes, _num, _pct)


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
            if r.get("equivalent_ann_over_snn") is not None:
                rows.append((f"Energy equivalent {equivalent_ann_label(energy)} ANN / SNN, {label}",
                             _num(r.get("equivalent_ann_over_snn"), 2, "x")))
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


def _area_section(area):
    out = ["<h3>Area-adjusted accuracy and class areas (95 % intervals)</h3>"]
    if area.get("error"):
        return "\n".join(out + [f"<p>Not computed: {_e(area['error'])}</p>"])
    unit = area.get("area_unit", "")
    out.append(f"<p>{_e(area.get('method', ''))}. Overall accuracy {_e(_pct(area.get('oa')))} &plusmn; "
               f"{_e(_pct(area.get('oa_ci95')))}; total mapped area {_e(_num(area.get('total_area'), 2))} "
               f"{_e(unit)}.</p>")
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
        params = ", ".join(f"{k} = {_num(v, 4) if isinstance(v, float) else v}"
                           for k, v in (b.get("params") or {}).items())
        mc = b.get("mcnemar_snn_vs_baseline") or {}
        out.append(f"<p class='meta'>{_e(b.get('name', ''))}: {_e(params)}"
                   + (f"; validation OA {_e(_pct(b.get('val_oa')))}" if b.get("val_oa") is not None else "")
                   + (f". Test pixels only the SNN got right: {_e(mc.get('a_only'))}; only the {_e(b.get('name'))}: "
                      f"{_e(mc.get('b_only'))}" if mc else "") + ".</p>")
    out.append(f"<p class='meta'>{_e(comp.get('basis', ''))}</p>")
    return "\n".join(out)


def _split_section(split):
    out = ["<h2>Split protocol</h2>"]
    if split.get("description"):
        out.append(f"<p>{_e(split['description'])}</p>")
    skip = ("per_class", "description", "warnings", "notes", "classes")
    out.append(_kv_table({_label(k): v for k, v in _flatten(split, skip=skip).items()}))
    per = split.get("per_class")
    if isinstance(per, list) and per and isinstance(per[0], dict):
        cols = list(per[0].keys())
        out.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>")
        for row in per:
            out.append("<tr>" + "".join(
                f"<td>{_e(_num(row.get(c)) if not isinstance(row.get(c), str) else row.get(c))}</td>" for c in cols)
                + "</tr>")
        out.append("</table>")
    out.append(_notes(split.get("warnings"), warn=True))
    out.append(_notes(split.get("notes")))
    return "\n".join(out)


def memory_paragraphs(energy: dict, names: dict) -> list:
    """The memory-traffic estimate as its own table, apart from the compute table (core/energy/memory.py)."""
    m = energy.get("memory")
    flows = m.get("dataflows") if isinstance(m, dict) else None
    if not isinstance(flows, dict):
        return []
    size = m.get("headline_sram", "")
    keys = [(r, names[n]) for n, r in RATIOS.items() if n in names]
    out = [f"<h3>Memory traffic per patch (a separate estimate, not part of any convention above)</h3>"
           f"<p>Every weight, input, membrane and spike access of one patch inference to one {_e(size)} SRAM, priced "
           f"per bit ({_e(m.get('citation', ''))}), at the two ends of the range of dataflows. Ratios: the other "
           "network's energy over the SNN's.</p>",
           "<table><tr><th class='l'>Dataflow</th><th>SNN memory pJ</th>"
           + "".join(f"<th>{_e(l)} / SNN, memory</th>" for _, l in keys)
           + "".join(f"<th>{_e(l)} / SNN, compute + memory</th>" for _, l in keys) + "</tr>"]
    for flow, d in flows.items():
        r, b = d.get("ratios") or {}, d.get("compute_plus_memory_ratios") or {}
        out.append(f"<tr><td class='l w'>{_e(d.get('description', flow))}</td>"
                   f"<td>{_e(_num(((d.get('pj') or {}).get(size) or {}).get('snn'), 1))}</td>"
                   + "".join(f"<td>{_e(_num(r.get(k), 2, 'x'))}</td>" for k, _ in keys)
                   + "".join(f"<td>{_e(_num(b.get(k), 2, 'x'))}</td>" for k, _ in keys) + "</tr>")
    out.append("</table>")
    return out


def _networks(head_conv: dict) -> tuple:
    """The networks an energy report costs, in table order (reports written before the equivalent ANN lack it)."""
    totals = (head_conv.get("per_patch") or {}).get("totals_pj") or {}
    return ("cnn_fp", "cnn_q") + (("equivalent_ann",) if "equivalent_ann" in totals else ()) + ("snn",)


def _energy_section(energy, model):
    """Energy per classified pixel under each convention and view, by layer and by kind of operation."""
    out = ["<h2>Compute energy</h2>"]
    table = energy.get("table") if isinstance(energy.get("table"), dict) else {}
    full = str(table.get("full_precision") or "FP32")
    bits = energy.get("weight_bits")
    q_label = f"{bits}-bit CNN" if bits else f"{full} CNN"
    head = (energy.get("headline") or {}).get("convention", "complete")
    conv = energy.get("conventions") if isinstance(energy.get("conventions"), dict) else {}
    nets = _networks(conv.get(head) or {})
    names = {"cnn_fp": f"{full} CNN", "cnn_q": q_label,
             "equivalent_ann": "equivalent ANN", "snn": "SNN"}
    labels = tuple(names[k] for k in nets)
    ratio_keys = [(RATIOS[k], names[k]) for k in nets if k in RATIOS]
    widths = energy.get("widths") if isinstance(energy.get("widths"), dict) else {}
    if widths:
        out.append(f"<p>Weights {_e(bits or full)}{'-bit' if bits else ''}; input {_e(widths.get('input'))}; CNN "
                   f"activations {_e(widths.get('cnn_activation_bits'))}-bit fixed point; accumulators and membranes "
                   f"{_e(widths.get('accumulator_bits'))} bits; T = {_e(energy.get('time_steps'))}; the equivalent ANN "
                   f"(the same CNN with {_e(equivalent_ann_label(energy).split('-')[0])}-bit activations: "
                   "ceil(log2(T + 1)) bits, as much per neuron as T spikes) costed with the CNN's operations. "
                   "Headline: the "
                   f"<b>{_e(head)}</b> convention, per patch. Memory access is not part of it (its own estimate "
                   "follows the table).</p>")
    if conv:
        out.append("<table><tr><th class='l'>Convention</th><th class='l'>View</th>"
                   + "".join(f"<th>{_e(l)} pJ</th>" for l in labels)
                   + "".join(f"<th>{_e(l)} / SNN</th>" for _, l in ratio_keys)
                   + "<th class='l'>What is counted</th></tr>")
        for c, d in conv.items():
            for view in ("per_patch", "per_map_pixel"):
                v = (d or {}).get(view) or {}
                t, r = v.get("totals_pj") or {}, v.get("ratios") or {}
                name = c + (" (headline)" if c == head and view == "per_patch" else "")
                out.append(f"<tr><td class='l'>{_e(name)}</td><td class='l'>{_e(view.replace('_', ' '))}</td>"
                           + "".join(f"<td>{_e(_num(t.get(k), 1))}</td>" for k in nets)
                           + "".join(f"<td>{_e(_num(r.get(k), 1, 'x'))}</td>" for k, _ in ratio_keys)
                           + f"<td class='l w'>{_e(d.get('description', '') if view == 'per_patch' else '')}</td></tr>")
        out.append("</table>")
        tvals = [(conv.get(head) or {}).get("per_patch", {}).get("totals_pj", {}).get(k) for k in nets]
        if any(isinstance(v, (int, float)) and v > 0 for v in tvals):
            out.append(_img(_energy_total_png(labels, tvals), "Energy per model"))
    ann = energy.get("equivalent_ann_accuracy")
    if isinstance(ann, dict):
        out.append(f"<p>The equivalent {_e(equivalent_ann_label(energy))} ANN, trained with QAT on the same pixels: "
                   f"test OA {_e(_pct(ann.get('oa')))}, AA {_e(_pct(ann.get('aa')))}, kappa "
                   f"{_e(_num(ann.get('kappa'), 4))} ({_e(_num(ann.get('n_test')))} test pixels).</p>")
    out += memory_paragraphs(energy, names)
    wins = where_snn_wins(energy) if conv else ""
    if wins:
        out.append(f"<p><b>{_e(wins)}</b></p>")
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
        out.append(_img(_energy_layers_png(labels, layers, nets), "Energy by layer"))
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
                       + "".join(f"<td>{_e(_num(pj.get(k), 1))}</td>" for k in nets) + "</tr>")
        out.append("</table>")
    by_kind = energy.get("by_kind_pj") if isinstance(energy.get("by_kind_pj"), dict) else {}
    if by_kind:
        out.append(f"<h3>By kind of operation ({_e(head)} convention, per patch, pJ)</h3>")
        for net, lab in zip(nets, labels):
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


_LAYER_COLUMNS = ("name", "kind", "role", "in", "out", "kernel")


def _model_section(model: dict) -> str:
    """The model as tables a reader can scan: the summary's rows (core/models/summary.summary_rows), then one row
    per layer with its shape and, for spiking layers, the firing threshold and leak (never raw JSON)."""
    from ..models.summary import summary_rows

    scalars = dict(summary_rows(model))  # the rows `hypersnn info` and the Classify dialog show
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
            cells = "".join(f"<td class='l'>{_e(_layer_cell(x, c))}</td>" for c in cols)
            if neurons:
                n = neurons[i] if i < len(neurons) else {}
                leak = "" if n.get("leak") is None else _num(n.get("leak"), 4) + (
                    f" ({n['leak_mode']})" if n.get("leak_mode") else "")
                cells += f"<td>{_e(_num(n.get('threshold'), 3) if n else '')}</td><td>{_e(leak)}</td>"
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
    elif neurons:
        out.append("<h3>Spiking neurons</h3>" + _kv_table(
            {f"Layer {i + 1}": ", ".join(f"{k} {_fmt(v)}" for k, v in n.items()) for i, n in enumerate(neurons)}))
    return "\n".join(out)


def _layer_cell(layer: dict, col: str) -> str:
    """One cell of the layer table: a list (a kernel) as '7 x 1 x 1', a missing column empty."""
    v = layer.get(col)
    return " x ".join(_fmt(k) for k in v) if isinstance(v, list) else _fmt(v) if col in layer else ""


_TIMING_LABELS = {"prepare": "Reading and preparing the data", "cnn": "CNN training",
                  "convert": "CNN to SNN conversion", "snn": "SNN training", "assess": "Assessment",
                  "classify": "Classifying the raster", "classify_pixels_per_s": "Classification speed",
                  "total": "Total"}


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
