"""Markdown tables from the bench's results JSON (every number comes from the results file).

usage: python bench/report.py docs/results.json docs/results.md
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script (`python bench/report.py`): bench.front must import
    sys.path.insert(0, str(ROOT))

TARGETS = {"oa": 98.68, "aa": 98.34, "kappa": 98.20, "fp_ratio": 560.6, "q_ratio": 44.8}
CONVS = ("paper", "reuse", "complete")

from bench.equivalent_ann_table import equivalent_ann_lines, verdict  # noqa: E402
from bench.rows import json_lines  # noqa: E402
from bench.stats import mean_std as _ms  # noqa: E402
from bench.equivalent_ann_table import summary as ann_summary  # noqa: E402


def _p(v):
    return "-" if v is None else f"{100 * v:.2f}"


def _x(v):
    return "-" if v is None else f"{v:.1f}x"


def _ratio(r, conv="complete", which="q_cnn_over_snn", view="per_patch", table="horowitz45"):
    """One ratio of a row; None where the row predates it (rows before the equivalent ANN lack its ratio)."""
    return r["energy"][table][conv][view].get(which)


def _table(title: str, header: list, rows: list) -> list:
    """A markdown section: its title, the header row and its rule, the rows (already formatted), a blank line."""
    return [f"## {title}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"] + rows + [""]


def groups(data: dict) -> dict:
    """Named groups of rows over seeds: default hybrid, 3d, efficient preset, paper-style 3x3."""
    s = data["sections"]
    front = s.get("front", [])
    out = {}
    by_cand = {}
    for r in front:
        by_cand.setdefault(r["candidate"], []).append(r)
    if "default" in by_cand:
        out["HyperSNN hybrid, demo settings (the paper's recipe)"] = by_cand["default"]
    if len(s.get("headline_3d") or []) >= 3:  # a headline is a mean over at least 3 seeds
        out["HyperSNN 3-D, demo settings"] = s["headline_3d"]
    chosen = (s.get("selection") or {}).get("chosen")
    if chosen and chosen != "default" and chosen in by_cand:
        out[f"HyperSNN hybrid, `efficient` preset ({chosen})"] = by_cand[chosen]
    paper_style = [k for k in by_cand if k.startswith("first layer 3x3")]
    if paper_style:
        out["HyperSNN hybrid, paper-style 3x3 first layer"] = by_cand[paper_style[0]]
    return out


def headline_tables(data: dict) -> list:
    g = groups(data)
    out = ["| Indian Pines, 30 % split, T=5 unless stated, 6-bit | seeds | OA % | AA % | kappa x100 | "
           "OA % of its 6-bit CNN |", "|---|---|---|---|---|---|",
           f"| Hyper-SNN paper (reported) | - | {TARGETS['oa']} | {TARGETS['aa']} | {TARGETS['kappa']:.2f} | - |"]
    stale = [name for name, rows in g.items() if _earlier_defaults(rows)]
    for name, rows in g.items():
        out.append(f"| {name}{' (earlier defaults)' if name in stale else ''} | {len(rows)} | "
                   f"{_ms([r['snn']['oa'] for r in rows], 100)} | "
                   f"{_ms([r['snn']['aa'] for r in rows], 100)} | {_ms([r['snn']['kappa'] for r in rows], 100)} | "
                   f"{_ms([r['cnn']['oa'] for r in rows], 100)} |")
    out += ["", "| Energy ratio, per patch (mean +/- std over the seeds) | FP32 CNN / SNN | 6-bit CNN / SNN | "
            "equivalent low-bit ANN / SNN |", "|---|---|---|---|",
            f"| Hyper-SNN paper (reported; average of three scenes, its own operation costs) | "
            f"{TARGETS['fp_ratio']}x | {TARGETS['q_ratio']}x | - |"]
    for name, rows in g.items():
        for conv in CONVS:
            label = {"paper": "paper convention (MACs + accumulates, first layer x T)",
                     "reuse": "reuse convention (MACs + accumulates, first layer once)",
                     "complete": "**complete convention (headline)**"}[conv]
            out.append(f"| {name}: {label} | {_ms([_ratio(r, conv, 'fp_cnn_over_snn') for r in rows], 1, 1, 'x')} | "
                       f"{_ms([_ratio(r, conv) for r in rows], 1, 1, 'x')} | "
                       f"{_ms([_ratio(r, conv, 'equivalent_ann_over_snn') for r in rows], 1, 2, 'x')} |")
    if stale:
        out += ["", STALE_NOTE]
    return out


def _earlier_defaults(rows) -> bool:
    """Whether any of these rows was measured before the current training defaults (it lacks `defaults_note`)."""
    return not all(r.get("defaults_note") for r in rows)


STALE_NOTE = ("Rows marked \"earlier defaults\" were measured before the training defaults of commits 90f399f and "
              "76770b8 (context dropout 0.5, weight averaging, early stopping only on a validation set of at least 50 "
              "pixels per class, else fixed epochs); `make bench` (or `make bench-front`) re-measures them.")
"""Rows written since carry `defaults_note` (bench/common.DEFAULTS_NOTE); a table mixing both says which is which."""


def first_layer_share(row: dict) -> float:
    """The first layer's share of the SNN's energy (complete convention, per patch): the one layer that still
    multiplies, since its input is analog."""
    layers = row["energy_layers"]
    total = sum(l["pj"]["snn"] for l in layers)
    return layers[0]["pj"]["snn"] / max(total, 1e-30)


def first_layer_facts(data: dict) -> list:
    return [f"- First layer's share of the SNN's energy (complete, per patch), {name}: "
            f"{_ms([first_layer_share(r) for r in rows], 100, 1, ' %')}."
            for name, rows in groups(data).items() if rows and "energy_layers" in rows[0]]


SECTIONS = ("front", "equivalent_ann", "headline_3d", "baselines", "spatial", "grouped", "ten_percent", "sweeps",
            "reduction", "mixup", "speed", "memory", "onnx", "dask")
"""The sections a full `make bench` writes, in its order."""


def missing_sections(data: dict) -> list:
    have = data["sections"]
    return [k for k in SECTIONS if not have.get(k) and not (k == "ten_percent" and data.get("quick"))]


def commits(data: dict) -> str:
    """The commit(s) the rows came from: a resumed run may add rows from a later commit."""
    runs = [data["machine"]] + [r["machine"] for r in data.get("resumed", [])]
    seen = []
    for m in runs:
        c = f"{m.get('commit')}{' + uncommitted changes' if m.get('dirty') else ''}"
        if c not in seen:
            seen.append(c)
    return seen[0] if len(seen) == 1 else "resumed across " + ", ".join(seen)


def write_markdown(data: dict, path: Path) -> None:
    s = data["sections"]
    m = data["machine"]
    out = ["# HyperSNN benchmark results", "",
           f"Generated by `make bench`{' --quick' if data['quick'] else ''} on {data['created']} "
           f"(commit {commits(data)}). Machine: {m.get('cpu')}, "
           f"{m.get('cores')} cores, torch {m.get('torch')} with {m.get('torch_threads')} threads.", ""]
    if not data.get("complete"):
        out += ["**Partial results: the run had not finished when this file was written** (sections below are "
                "those completed; not yet run: " + (", ".join(missing_sections(data)) or "none") +
                "; `make bench-resume` runs them).", ""]
    proto = s.get("protocol", {})
    if proto:
        out += [f"- Scene: {proto['scene']}", f"- Splits: {proto['splits']}",
                f"- Epochs: headline and front {proto['headline_epochs']}; sweeps {proto['sweep_epochs']}",
                f"- Seeds: {proto['seeds']}; {proto.get('statistics', '')}",
                f"- Energy: {proto.get('energy', '')}",
                "- Energy tables (pJ): " + "; ".join(
                    f"{k}: full precision {v['full_precision']} mult {v['full_mult_pj']} add {v['full_add_pj']}, "
                    f"INT32 mult {v['int32_mult_pj']} add {v['int32_add_pj']}" for k, v in proto["energy_tables"].items()),
                f"- How the `efficient` preset was chosen: {proto.get('selection_rule', '')}", ""]
    if groups(data):
        out += ["## Headline (mean +/- sample std over the seeds)", ""] + headline_tables(data) + [""]
        out += _cost_note(data) + [""]
    part = s.get("headline_3d") or []
    if 0 < len(part) < 3:
        out += [f"## 3-D network: partial ({len(part)} of 3 seeds; `make bench-3d` completes it; not a headline)", "",
                "| row | OA % | AA % | kappa x100 | OA % of its 6-bit CNN |", "|---|---|---|---|---|"]
        out += [f"| {r['label'].replace('|', ',')} | {_p(r['snn']['oa'])} | {_p(r['snn']['aa'])} | {_p(r['snn']['kappa'])} | "
                f"{_p(r['cnn']['oa'])} |" for r in part] + [""]
    out += _by_kind(data)
    out += equivalent_ann_lines(data)
    out += _front(data)
    out += _sensitivity(data)
    ten = s.get("ten_percent", [])
    if ten:
        out += _table("10 % training split (seed 0)", ["model", "OA %", "AA %", "kappa x100", "6-bit CNN / SNN (complete)"],
                      [f"| {r['label']} | {_p(r['snn']['oa'])} | {_p(r['snn']['aa'])} | {_p(r['snn']['kappa'])} | "
                       f"{_x(_ratio(r))} |" for r in ten])
    sw = s.get("sweeps", [])
    if sw:
        rates = [list(r["spike_rates"].values()) for r in sw]
        out += _table("Sweeps (hybrid, seed 0, reduced epochs)",
                      ["T", "bits", "OA %", "AA %", "mean spike rate", "k-bit CNN / SNN, paper",
                       "k-bit CNN / SNN, complete"],
                      [f"| {r['time_steps']} | {r['weight_bits'] or 'FP'} | {_p(r['snn']['oa'])} | {_p(r['snn']['aa'])} | "
                       f"{sum(rr) / max(len(rr), 1):.3f} | {_x(_ratio(r, 'paper'))} | {_x(_ratio(r))} |"
                       for r, rr in zip(sw, rates)])
    for sec, title in (("baselines", "Baselines on the same random split (seed 0)"),
                       ("spatial", "Spatially disjoint split (blocks, seed 0)")):
        rs = s.get(sec, [])
        if not rs:
            continue
        out += [f"## {title}", "", "| model | OA % | AA % | kappa x100 | scene pixels/s |", "|---|---|---|---|---|"]
        for r in rs:
            if "model" in r:
                out.append(f"| {r['model']} | {_p(r['oa'])} | {_p(r['aa'])} | {_p(r['kappa'])} | "
                           f"{r['scene_pixels_per_s']:.0f} |")
            else:
                out.append(f"| {r['label']} | {_p(r['snn']['oa'])} | {_p(r['snn']['aa'])} | {_p(r['snn']['kappa'])} | - |")
        out += ["", f"Split: {rs[0].get('split') or rs[0].get('split_protocol')}", ""]
    out += _grouped(data)
    screen = path.parent / "grouped_screen.json"
    if screen.is_file():
        from bench.grouped_screen_table import screen_lines
        out += screen_lines(json.loads(screen.read_text()))
    general = path.parent / "generalise_screen.json"
    if general.is_file():
        from bench.generalise_screen import table
        out += table(json_lines(general))
    chooser = path.parent / "front_validation.json"
    if chooser.is_file():
        from bench.front_choice import table as chooser_table
        out += chooser_table(json_lines(chooser)) + [""]
    out += reduction_lines(data)
    out += mixup_lines(data)
    sp = s.get("speed")
    if sp:
        out += ["## Inference speed (same model, same run)", "",
                f"- fully convolutional windows: {sp['fc_pixels_per_s']:.0f} pixels/s ({sp['scene_pixels']} pixels "
                f"in {sp['fc_seconds']:.1f} s)",
                f"- patch by patch: {sp['patchwise_pixels_per_s']:.0f} pixels/s ({sp['patchwise_pixels_timed']} "
                f"pixels in {sp['patchwise_seconds']:.1f} s)",
                f"- speed-up: {sp['speedup']:.1f}x; class agreement between the two: {100 * sp['class_agreement']:.2f} %",
                ""]
    d0 = next(iter(groups(data).values()), None)
    if d0:
        st = d0[0]["stage_seconds"]
        out += [f"Training time per stage ({d0[0]['label']}): " + ", ".join(f"{k} {v:.1f} s" for k, v in st.items()), ""]
    mem = s.get("memory", [])
    if mem:
        out += _table("Memory (classification of a generated int16 GeoTIFF)",
                      ["size", "bands", "input GB", "peak RSS MB", "target < 2048 MB", "pixels/s", "classify s"],
                      [f"| {r['size']} x {r['size']} | {r['bands']} | {r['input_gb']:.2f} | {r['peak_rss_mb']:.0f} | "
                       f"{'met' if r['peak_rss_mb'] < 2048 else 'MISSED'} | {r['pixels_per_s']:.0f} | "
                       f"{r['seconds']:.0f} |" for r in mem])
    out += onnx_lines(s.get("onnx"))
    out += dask_lines(s.get("dask"))
    out += bench_cost(data)
    oth = s.get("other_scenes", [])
    if oth:
        out += ["## Other scenes", ""]
        for r in oth:
            out.append(f"- {r['scene']}: " + (f"skipped ({r['skipped']})" if "skipped" in r else
                                              f"SNN OA {_p(r['snn']['oa'])} %, AA {_p(r['snn']['aa'])} %"))
        out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")


def _cost_note(data) -> list:
    tables = data["sections"].get("protocol", {}).get("energy_tables", {})
    t = tables.get("horowitz45")
    if not t:
        return []
    fp = t["full_mult_pj"] + t["full_add_pj"]
    q = t["int32_mult_pj"] * 6 * 16 / 1024 + t["int32_add_pj"] * 16 / 32
    return [f"Where the comparison with the paper differs: the paper's two ratios imply that its FP32 CNN costs "
            f"{TARGETS['fp_ratio'] / TARGETS['q_ratio']:.1f}x its 6-bit CNN; under our table an FP32 MAC "
            f"({fp:.2f} pJ) costs {fp / q:.1f}x a 6-bit-weight x 16-bit-activation MAC with a 16-bit accumulate "
            f"({q:.3f} pJ). The paper's text available here does not state its operation costs or whether its "
            f"first layer is counted at every step, so only the `paper` convention is shaped like its "
            f"likely convention, and no row claims to beat its figures under the same costs. The paper "
            f"averages three scenes; these rows are Indian Pines only."]


def _by_kind(data) -> list:
    from hypersnn.core.energy.costs import leak_text

    out = first_layer_facts(data) + [""]
    for name, rows in groups(data).items():
        r = rows[0]
        bk = r["energy"]["horowitz45"]["by_kind_pj"]
        kinds = list(bk.get("snn", {}))
        tot = sum(bk["snn"].values())
        out += [f"### Where the energy goes: {name}, seed {r['seed']} (complete convention, per patch)", "",
                "| | " + " | ".join(kinds) + " | total |", "|---" * (len(kinds) + 2) + "|",
                "| SNN pJ | " + " | ".join(f"{bk['snn'][k]:.0f}" for k in kinds) + f" | {tot:.0f} |",
                "| share | " + " | ".join(f"{100 * bk['snn'][k] / max(tot, 1e-30):.1f} %" for k in kinds) + " | |"]
        q = bk.get("cnn_q", {})
        out += ["", "6-bit CNN pJ: " + ", ".join(f"{k} {v:.0f}" for k, v in q.items()),
                "", "Trained leaks: " + "; ".join(
                    f"seed {x['seed']}: " + ", ".join(f"{l['layer']} {leak_text(l['leak'], l['kind'])}" for l in x["leaks"])
                    for x in rows),
                "", "Spike rate per layer and step (seed 0): " + ", ".join(
                    f"{k} {v:.3f}" for k, v in r["spike_rates"].items()), ""]
    return out


def _front(data) -> list:
    s = data["sections"]
    summ, sel = s.get("front_summary"), s.get("selection")
    if not summ:
        return []
    out = ["## Accuracy-energy front (hybrid, 30 % split, full epochs, mean +/- std over the seeds)", "",
           "Chosen on validation pixels only (rule above). Test columns are reported, never used to choose.", "",
           "| candidate | n | val OA % | val 6-bit ratio (complete) | test OA % | test AA % | 6-bit CNN / SNN, "
           "complete | paper | FP32 CNN / SNN, complete | mean spike rate | |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    stale = False
    for name, v in summ.items():
        mark = []
        if sel and name == sel["chosen"]:
            mark.append("**chosen: `efficient`**")
        elif sel and name in sel["eligible"]:
            mark.append("eligible")
        if name == "default":
            mark.append("default")
        if _earlier_defaults([r for r in data["sections"]["front"] if r["candidate"] == name]):
            mark.append("earlier defaults")
            stale = True
        out.append(f"| {name} | {v['n']} | {_mv(v['val_oa'], 100)} | {_mv(v['val_q_ratio'], 1, 1, 'x')} | "
                   f"{_mv(v['oa'], 100)} | {_mv(v['aa'], 100)} | {_mv(v['complete_q_cnn_over_snn'], 1, 1, 'x')} | "
                   f"{_mv(v['paper_q_cnn_over_snn'], 1, 1, 'x')} | {_mv(v['complete_fp_cnn_over_snn'], 1, 1, 'x')} | "
                   f"{_mv(v['mean_rate'], 1, 3)} | {', '.join(mark)} |")
    if stale:
        out += ["", STALE_NOTE]
    if sel and sel["chosen"] is None:
        out += ["", f"Selection not applied: {sel['note']}."]
    elif sel:
        out += ["", f"Validation OA floor: {100 * sel['val_oa_floor']:.2f} %; chosen: **{sel['chosen']}** "
                    f"(settings {json.dumps(sel['settings'])})." + (f" Note: {sel['note']}." if sel.get("note") else "")]
    out.append("")
    return out


def _sensitivity(data) -> list:
    rows = next(iter(groups(data).values()), None)
    if not rows:
        return []
    names = [k for k in rows[0]["energy"] if k not in ("horowitz45",)]
    out = ["## Sensitivity of the headline ratios to the cost table and widths (default hybrid, mean over seeds)", "",
           "| costing | FP CNN / SNN, complete | 6-bit CNN / SNN, complete | 6-bit CNN / SNN, paper |",
           "|---|---|---|---|",
           f"| horowitz45 (default: FP32, CNN activations 16-bit, accumulators 16-bit) | "
           f"{_ms([_ratio(r, 'complete', 'fp_cnn_over_snn') for r in rows], 1, 1, 'x')} | "
           f"{_ms([_ratio(r) for r in rows], 1, 1, 'x')} | {_ms([_ratio(r, 'paper') for r in rows], 1, 1, 'x')} |"]
    for n in names:
        out.append(f"| {n} | {_ms([_ratio(r, 'complete', 'fp_cnn_over_snn', table=n) for r in rows], 1, 1, 'x')} | "
                   f"{_ms([_ratio(r, table=n) for r in rows], 1, 1, 'x')} | "
                   f"{_ms([_ratio(r, 'paper', table=n) for r in rows], 1, 1, 'x')} |")
    out.append("")
    return out


def _grouped(data) -> list:
    """SNN vs SVM vs RF on the region-grouped and block splits, mean +/- std over seeds, with the targets' verdict."""
    rows = data["sections"].get("grouped", [])
    if not rows:
        return []
    out = ["## Spatially grouped splits: SNN vs baselines (mean +/- std over the seeds)", "",
           "| split | seeds | SNN OA % | its CNN OA % | RBF SVM OA % | random forest OA % | SNN - SVM, points | "
           "SNN validation OA % |", "|---|---|---|---|---|---|---|---|"]
    for method in dict.fromkeys(r["split"] for r in rows):
        g = [r for r in rows if r["split"] == method]
        base = {b["model"]: [] for b in g[0]["baselines"]}
        for r in g:
            for b in r["baselines"]:
                base[b["model"]].append(b["oa"])
        svm = base.get("RBF SVM", [])
        diff = [100 * (r["snn"]["oa"] - o) for r, o in zip(g, svm)]
        out.append(f"| {method} | {len(g)} | {_ms([r['snn']['oa'] for r in g], 100)} | "
                   f"{_ms([r['cnn']['oa'] for r in g], 100)} | {_ms(svm, 100)} | "
                   f"{_ms(base.get('Random forest', []), 100)} | {_ms(diff)} | {_ms([r['val_oa'] for r in g], 100)} |")
    note = next((r["regions"] for r in rows if r.get("regions")), None)
    protocols = [next(r["split_protocol"] for r in rows if r["split"] == m) for m in dict.fromkeys(r["split"] for r in rows)]
    out += ["", f"Regions: {note}." if note else "", "Splits (the seed varies by row): " + " ".join(protocols), ""]
    return out


def variant_lines(data, section: str, title: str, without: str, with_: str) -> list:
    """A one-setting variant of the headline settings against the front's default rows (the same seeds):
    validation OA decides, test OA is shown beside it."""
    rows = data["sections"].get(section, [])
    if not rows:
        return []
    seeds = {r["seed"] for r in rows}
    base = [r for r in data["sections"].get("front", []) if r.get("candidate") == "default" and r["seed"] in seeds]
    out = [f"## {title}", "", "| setting | seeds | validation OA % | test OA % | AA % |", "|---|---|---|---|---|"]
    means = {}
    for name, g in ((without, base), (with_, rows)):
        if not g:
            continue
        if all(r["val_oa"] is not None for r in g):
            means[name] = sum(r["val_oa"] for r in g) / len(g)
        out.append(f"| {name} | {len(g)} | {_ms([r['val_oa'] for r in g], 100)} | "
                   f"{_ms([r['snn']['oa'] for r in g], 100)} | {_ms([r['snn']['aa'] for r in g], 100)} |")
    if len(means) == 2:
        best = max(means, key=means.get)
        out += ["", f"Higher mean validation OA: {best.split(' (')[0]}. The test column is shown, not used."]
    else:
        out += ["", "Not decided: without validation pixels (the fixed-epoch fallback) there is no validation OA to "
                    "compare; the test column is shown, not used."]
    return out + [""]


def reduction_lines(data) -> list:
    return variant_lines(data, "reduction", "Spectral reduction: PCA vs band bins (30 features, hybrid, 30 % random "
                         "split, full epochs)", "PCA (front's default rows)", "bins of contiguous bands")


def mixup_lines(data) -> list:
    return variant_lines(data, "mixup", "Mixup (alpha 0.4) on the 30 % random split (hybrid, full epochs)",
                         "without mixup (front's default rows)", "mixup, alpha 0.4")


def _mv(stat, scale=1.0, digits=2, unit=""):
    return "-" if stat is None else _ms(stat["values"], scale, digits, unit)


def readme_summary(data: dict) -> str:
    """The README's benchmark block: the headline tables, then the facts that bound them."""
    s = data["sections"]
    out = headline_tables(data) if groups(data) else ["(no headline rows yet)"]
    facts = [""]
    sel = s.get("selection")
    if sel:
        facts.append(f"- `efficient` preset: **{sel['chosen']}**, chosen on validation pixels by the rule in "
                     f"docs/results.md.")
    sp = s.get("speed")
    if sp:
        facts.append(f"- Full-scene classification: fully convolutional {sp['fc_pixels_per_s']:.0f} pixels/s vs "
                     f"patch by patch {sp['patchwise_pixels_per_s']:.0f} pixels/s on the same model: "
                     f"**{sp['speedup']:.1f}x**, {100 * sp['class_agreement']:.2f} % identical classes.")
    facts += first_layer_facts(data)
    sentence = verdict(ann_summary(s.get("equivalent_ann") or []))
    if sentence:
        facts.append(f"- {sentence} (docs/results.md, 'The equivalent low-bit ANN').")
    grouped = _grouped(data)
    if grouped:
        table = [line for line in grouped[2:] if line.startswith("|")]
        facts += ["- Spatially grouped splits, SNN vs baselines (target: SNN >= SVM + 5 points on the region-grouped "
                  "'polygons' split):", ""]
        facts += ["  " + line for line in table] + [""]
    d0 = next(iter(groups(data).values()), None)
    if d0:
        st = d0[0]["stage_seconds"]
        facts.append(f"- Training time, {d0[0]['label']}: " + ", ".join(f"{k} {v:.0f} s" for k, v in st.items())
                     + f"; {sum(st.values()) / 60:.1f} min in all.")
    for m in s.get("memory", []):
        facts.append(f"- Classifying a {m['size']} x {m['size']} x {m['bands']} int16 GeoTIFF ({m['input_gb']:.1f} GB): "
                     f"peak RSS **{m['peak_rss_mb']:.0f} MB** (target < 2048 MB), {m['pixels_per_s']:.0f} pixels/s.")
    ox = s.get("onnx")
    if ox:
        t, o = ox["rows"]
        facts.append(f"- Without torch (ONNX Runtime): {'the same class map' if ox['class_map_identical'] else 'class maps differ at ' + str(ox['pixels_differing']) + ' pixels'} "
                     f"over {ox['scene_pixels']} pixels, confidence within {ox['max_confidence_diff']:.1g}; "
                     f"{o['pixels_per_s']:.0f} vs {t['pixels_per_s']:.0f} pixels/s "
                     f"({ox['onnx_over_torch_speed']:.2f}x), peak RSS {o['peak_rss_mb']:.0f} vs {t['peak_rss_mb']:.0f} MB.")
    for r in s.get("baselines", []):
        if "model" in r:
            facts.append(f"- {r['model']}, same random split (seed 0): OA {_p(r['oa'])} %, AA {_p(r['aa'])} %.")
    for r in s.get("spatial", []):
        a = r.get("snn") or r
        facts.append(f"- Spatially disjoint blocks, {r.get('model') or r.get('label')}: OA {_p(a['oa'])} %.")
    m = data["machine"]
    missing = missing_sections(data)  # a run of some sections (--only) over a file that has every section is whole
    facts.append(f"- Machine: {m.get('cpu')}, {m.get('cores')} cores, torch {m.get('torch')}; "
                 f"bench commit {commits(data)}"
                 f"{'' if data.get('complete') or not missing else '; **partial run**, not yet run: ' + ', '.join(missing)}"
                 f". Full tables: docs/results.md.")
    return "\n".join(out + facts)


def onnx_lines(ox) -> list:
    """The ONNX Runtime vs torch table (bench/onnx_engine.py)."""
    if not ox:
        return []
    out = ["## Classification without torch: ONNX Runtime vs torch (same model, each in a fresh process)", "",
           f"- class map over the scene's {ox['scene_pixels']} pixels: "
           + ("identical" if ox["class_map_identical"] else f"{ox['pixels_differing']} pixels differ")
           + f"; largest confidence difference {ox['max_confidence_diff']:.2g}", "",
           "| engine | pixels | seconds | pixels/s | peak RSS MB | torch imported |", "|---|---|---|---|---|---|"]
    for r in ox["rows"]:
        out.append(f"| {r['engine']} | {r['pixels']} | {r['seconds']:.1f} | {r['pixels_per_s']:.0f} | "
                   f"{r['peak_rss_mb']:.0f} | {'yes' if r['torch_loaded'] else 'no'} |")
    out += ["", f"ONNX Runtime / torch: speed {ox['onnx_over_torch_speed']:.2f}x, peak memory "
                f"{ox['onnx_over_torch_peak_memory']:.2f}x. {ox['note']}.", ""]
    return out


def row_seconds(section: str, value) -> float:
    """Measured seconds a section took, from what its rows record (training rows: wall_s; baselines: fit and
    scene time; speed, memory and onnx: their timings). Set-up between rows (data loading, a few seconds) is
    not counted."""
    rows = value if isinstance(value, list) else [value]
    total = 0.0
    for r in rows:
        if not isinstance(r, dict):
            continue
        if "wall_s" in r:
            total += float(r["wall_s"])
            total += sum(float(b.get("train_s", 0.0)) for b in r.get("baselines") or [])
        elif section in ("baselines", "spatial"):
            total += float(r.get("fit_s", 0.0)) + float(r.get("scene_s", 0.0))
        elif section == "speed":
            total += float(r.get("fc_seconds", 0.0)) + float(r.get("patchwise_seconds", 0.0))
        elif section == "memory":
            total += float(r.get("seconds", 0.0)) + float(r.get("generate_s", 0.0))
        elif section == "dask":
            total += sum(float(x.get("wall_s", x["seconds"])) * 2 for x in r.get("rows", []))  # 2 repeats
        elif section == "onnx":
            total += sum(float(x["seconds"]) * 3 for x in r.get("rows", []))  # agreement run + 2 timed runs
    return total


def target_of(section: str, row: dict) -> str:
    """The `make` target that runs a row (bench/run.py DEFAULT_SECTIONS and the Makefile's bench targets)."""
    from bench.front import HEADLINE, LEVERS
    if section == "front":
        if row.get("candidate") in HEADLINE:  # the `efficient` preset is also one of the levers
            return "make bench"
        return "make bench-levers" if row.get("candidate") in dict(LEVERS) else "make bench-front"
    if section == "grouped":
        return "make bench-grouped"
    if section == "headline_3d" or row.get("arch") == "3d":
        return "make bench-3d"
    return "make bench"


def bench_cost(data: dict) -> list:
    """What each section cost on the bench machine, and which `make` target runs it."""
    s = data["sections"]
    lines = ["## What the bench costs (measured wall time of the rows, this machine)", "",
             "| section | make target | rows | hours |", "|---|---|---|---|"]
    total = {}
    for name in SECTIONS:
        if name not in s:
            continue
        rows = s[name] if isinstance(s[name], list) else [s[name]]
        by_target = {}
        for r in rows:
            by_target.setdefault(target_of(name, r), []).append(r)
        for target, group in by_target.items():
            h = row_seconds(name, group) / 3600
            total[target] = total.get(target, 0.0) + h
            lines.append(f"| {name} | {target} | {len(group)} | {h:.2f} |")
    lines += ["", "Totals: " + "; ".join(f"`{t}` {h:.2f} h" for t, h in total.items())
              + ". Rows measured while the machine was busy with other work count as they ran; set-up between rows "
                "(loading the scene, a few seconds) is not counted.", ""]
    return lines


def dask_lines(dk) -> list:
    """One process against Dask local workers (bench/dask_bench.py)."""
    if not dk:
        return []
    out = [f"## Classification on Dask ({dk['pixels']} pixels x {dk['bands']} bands; same model)", "",
           "| path | window | tasks | seconds | pixels/s | same bytes as one process |", "|---|---|---|---|---|---|"]
    for r in dk["rows"]:
        same = "-" if r["workers"] == 0 else ("yes" if r["identical_to_single"] else "NO")
        out.append(f"| {r['path']} | {r['window']} | {r.get('tasks', '-')} | {r['seconds']:.1f} | "
                   f"{r['pixels_per_s']:.0f} | {same} |")
    out += ["", "| window | tasks | Dask cost per task, ms | round trip of a trivial task, ms |",
            "|---|---|---|---|"]
    for o in dk["overhead"]:
        out.append(f"| {o['window']} | {o['tasks']} | {o['overhead_ms_per_task']:.1f} | {o['noop_task_ms']:.1f} |")
    rss = dk.get("worker_peak_rss_mb")
    if rss:
        out += ["", "Peak resident memory of a worker (imports and model included) after its windows up to a size "
                    "(sizes run smallest first): " + "; ".join(
                        f"{k}: " + ", ".join(f"{w} px {v:.0f} MB" for w, v in by.items()) for k, by in rss.items())
                    + "."]
    return out + ["", dk["note"] + ".", ""]


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/results.json")
    dst = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/results.md")
    write_markdown(json.loads(src.read_text()), dst)
    print(f"wrote {dst}")
