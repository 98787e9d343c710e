"""The equivalent low-bit ANN's table and the one sentence on where the SNN wins (docs/results.md, README).

Why a module of its own: bench/report.py renders every other section; this one also writes a verdict, and the
verdict must follow the numbers (it is computed from them, never written by hand).
"""
from __future__ import annotations

import statistics

from bench.stats import mean, mean_std


def _ratio(r, conv="complete", which="equivalent_ann_over_snn"):
    return r["energy"]["horowitz45"][conv]["per_patch"].get(which)


def summary(rows: list) -> dict:
    """Per candidate: the accuracies and ratios of its seeds (lists, one value per seed)."""
    out = {}
    for name in dict.fromkeys(r["candidate"] for r in rows):
        g = [r for r in rows if r["candidate"] == name]
        out[name] = {
            "bits": g[0].get("equivalent_ann_bits"), "time_steps": g[0]["time_steps"], "seeds": [r["seed"] for r in g],
            "snn_oa": [r["snn"]["oa"] for r in g],
            "ann_oa": [(r.get("equivalent_ann") or {}).get("oa") for r in g],
            "q_ratio": [_ratio(r, which="q_cnn_over_snn") for r in g],
            "ann_ratio": [_ratio(r) for r in g],
            "ann_ratio_paper": [_ratio(r, "paper") for r in g],
            **{f"{key}_{flow}": [r["memory"][flow][field]["equivalent_ann_over_snn"] for r in g if r.get("memory")]
               for flow in ("no_reuse", "reuse")
               for key, field in (("memory_ratio", "ratios"), ("both_ratio", "compute_plus_memory_ratios"))},
            "rate": [statistics.mean(r["spike_rates"].values()) for r in g if r.get("spike_rates")],
        }
    return out


def _word(ratio: float, more: str = "less", fewer: str = "more") -> str:
    return more if ratio > 1 else fewer


def verdict(summ: dict) -> str:
    """One sentence: where the SNN wins against the equivalent ANN and where it does not, from the means."""
    parts = []
    for name, v in summ.items():
        c, snn, ann = mean(v["ann_ratio"]), mean(v["snn_oa"]), mean(v["ann_oa"])
        if c is None or snn is None or ann is None:
            continue
        acc = snn - ann
        at_t = "" if f"T={v['time_steps']}" in name else f"T={v['time_steps']}, "
        text = (f"{name} ({at_t}{abs(100 * acc):.2f} points {'above' if acc >= 0 else 'below'} the "
                f"ANN's test OA): {_word(c)} compute energy than the equivalent {v['bits']}-bit-activation ANN "
                f"({c:.2f}x)")
        mem = [(flow, mean(v[f"memory_ratio_{flow}"]), mean(v[f"both_ratio_{flow}"])) for flow in ("no_reuse", "reuse")]
        for flow, m, b in [x for x in mem if x[1] is not None]:
            text += (f"; {_word(m)} memory traffic {'without' if flow == 'no_reuse' else 'with'} operand reuse "
                     f"({m:.2f}x; {_word(b)} of compute and memory together, {b:.2f}x)")
        parts.append(text)
    if not parts:
        return ""
    return ("Against the equivalent low-bit ANN (Indian Pines, 30 % random split, per patch, 32 KB SRAM; ratios are "
            "the ANN's over the SNN's), the SNN spends: " + " | ".join(parts) + ".")


def equivalent_ann_lines(data: dict) -> list:
    rows = data["sections"].get("equivalent_ann") or []
    if not rows:
        return []
    summ = summary(rows)
    out = ["## The equivalent low-bit ANN beside the SNN (hybrid, 30 % random split, full epochs)", "",
           "The same network as a CNN with ceil(log2(T + 1))-bit activations and the SNN's 6-bit weights (Yan et al., "
           "arXiv 2409.08290: as much information per neuron as T binary spikes), trained with QAT from the same CNN "
           "for the SNN stage's epochs (bench/equivalent_ann.py). Ratios are the ANN's energy over the SNN's, per "
           "patch. Memory traffic is its own estimate, never part of a compute convention (core/energy/memory.py: "
           "every weight, input, membrane and spike access to a 32 KB SRAM), at the two ends of the range: no operand "
           "reuse, and each weight read once and each activation written and read once. Mean +/- sample std over the "
           "seeds.", "",
           "| model | seeds | SNN OA % | equivalent ANN OA % | ANN bits | mean spike rate | 6-bit CNN / SNN | "
           "equivalent ANN / SNN: compute, complete | compute, paper | memory, no reuse | memory, reuse | "
           "compute + memory, no reuse | compute + memory, reuse |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, v in summ.items():
        out.append(f"| {name} | {', '.join(map(str, v['seeds']))} | {mean_std(v['snn_oa'], 100)} | "
                   f"{mean_std(v['ann_oa'], 100)} | {v['bits']} | {mean_std(v['rate'], 1, 3)} | "
                   f"{mean_std(v['q_ratio'], 1, 1, 'x')} | {mean_std(v['ann_ratio'], 1, 2, 'x')} | "
                   f"{mean_std(v['ann_ratio_paper'], 1, 2, 'x')} | {mean_std(v['memory_ratio_no_reuse'], 1, 2, 'x')} | "
                   f"{mean_std(v['memory_ratio_reuse'], 1, 2, 'x')} | {mean_std(v['both_ratio_no_reuse'], 1, 2, 'x')} | "
                   f"{mean_std(v['both_ratio_reuse'], 1, 2, 'x')} |")
    sentence = verdict(summ)
    return out + ([""] + [sentence] if sentence else []) + [""]
