"""The grouped-split screen's table for docs/results.md (bench/report.py) and its decision rule. Apart from
bench/grouped_screen.py, which runs the screen with bench/run.py's training: the report only renders, so it
imports no runner (bench/run.py -> common.py -> report.py would otherwise lead back to run.py)."""
from __future__ import annotations


RULE = ("Regularisers (label smoothing 0.1, mixup 0.4, weight decay 5e-4; patch 11, 1 torch thread) were judged by a "
        "rule written before all their rows were in: a setting becomes a candidate for the default only if its mean "
        "SNN validation OA over seeds 0 and 1 beats the defaults' by more than 1 point; the winner then also runs "
        "seed 2, and the bench's `mixup` section checks it on the headline random split.")
"""The decision rule of the regulariser screen (docs/results.md prints it under the table)."""


def screen_lines(rows: list) -> list:
    """Markdown for docs/results.md: one line per screened setting (patch and --set), mean over its seeds.
    Validation OA decides; rows at different patch sizes have different validation and test pixels."""
    if not rows:
        return []
    import statistics

    def ms(vals):
        vals = [100 * v for v in vals]
        return f"{statistics.mean(vals):.2f}" + (f" +/- {statistics.stdev(vals):.2f}" if len(vals) > 1 else "")

    by = {}
    for r in rows:
        by.setdefault((r["split"], r["patch"], tuple(r.get("set") or ())), []).append(r)
    out = ["## Grouped-split screen (bench/grouped_screen.py; docs/grouped_screen.json)", "",
           "Screens, not results: validation OA (whole held-out training-side regions) decides; test OA and the "
           "RBF SVM on the same test pixels are shown, not used. Rows of one patch size share their validation "
           "and test pixels; rows of different patch sizes do not (the leakage guard grows with the patch).", "",
           "| split | patch | setting | seeds | SNN validation OA % | SNN test OA % | its CNN test OA % | "
           "SVM test OA % | SNN - SVM, points |", "|---|---|---|---|---|---|---|---|---|"]
    for (split, patch, sets), g in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        out.append(f"| {split} | {patch} | {', '.join(sets) or 'defaults'} | "
                   f"{', '.join(str(r['seed']) for r in g)} | {ms([r['val_oa'] for r in g])} | "
                   f"{ms([r['snn_oa'] for r in g])} | {ms([r['cnn_oa'] for r in g])} | {ms([r['svm_oa'] for r in g])} | "
                   f"{ms([r['snn_oa'] - r['svm_oa'] for r in g])} |")
    rule_rows = [r for r in rows if r["patch"] == 11 and r["split"] == "polygons" and r["seed"] in (0, 1)]
    if any(r.get("set") for r in rule_rows):
        means = {}
        for r in rule_rows:
            means.setdefault(", ".join(r.get("set") or ()) or "defaults", []).append(r["val_oa"])
        out += ["", RULE + " Seeds 0-1 mean validation OA: " + "; ".join(
            f"{k} {100 * statistics.mean(v):.2f}" for k, v in means.items() if len(v) == 2) + "."]
    return out + [""]
