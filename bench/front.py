"""The accuracy-energy front at full epochs, and the rule that picks the `efficient` preset from it.

Every candidate is trained with the demo's epochs on the same three seeds. The preset is chosen on
validation pixels only: validation OA (the early-stopping set) and the energy counted on validation
pixels. Test results are reported, never used to choose. The rule was fixed before the front ran.
The last two candidates re-check two earlier defaults on validation data (the 1x1 first layer and class
weighting were first chosen while looking at test results).
"""
from __future__ import annotations

import statistics

# (name, settings "section.field": value); the first is the default configuration. Candidates sharing the
# CNN-stage settings (core/training/checkpoints.CNN_FIELDS and the model) reuse one CNN per seed.
CANDIDATES = [
    ("default", {}),
    ("pow2 leak", {"train.leak_mode": "pow2"}),
    ("T=3", {"train.time_steps": 3}),
    ("T=2", {"train.time_steps": 2}),
    ("T=2, pow2 leak", {"train.time_steps": 2, "train.leak_mode": "pow2"}),
    ("8-bit input", {"model.input_bits": 8}),
    ("8-bit input, T=2, pow2 leak", {"model.input_bits": 8, "train.time_steps": 2, "train.leak_mode": "pow2"}),
    ("8-bit input, T=2, pow2 leak, penalty 0.5", {"model.input_bits": 8, "train.time_steps": 2,
                                                  "train.leak_mode": "pow2", "train.spike_penalty": 0.5}),
    ("8-bit input, T=2, pow2 leak, penalty 2", {"model.input_bits": 8, "train.time_steps": 2,
                                                "train.leak_mode": "pow2", "train.spike_penalty": 2.0}),
    ("4-bit input, T=2, pow2 leak, penalty 0.5", {"model.input_bits": 4, "train.time_steps": 2,
                                                  "train.leak_mode": "pow2", "train.spike_penalty": 0.5}),
    ("8-bit input, 4 first-layer channels, T=2, pow2 leak, penalty 0.5",
     {"model.input_bits": 8, "model.conv3d_channels": [4, 16], "train.time_steps": 2, "train.leak_mode": "pow2",
      "train.spike_penalty": 0.5}),
    ("first layer 3x3 (paper-style)", {"model.first_spatial_kernel": 3}),
    ("no class weighting", {"train.class_weighting": "none"}),
    ("map-production regularisers (context dropout 0.5, weight averaging 1 epoch)",
     {"train.context_dropout": 0.5, "train.weight_averaging": 1.0}),
]
_BASE = {"model.input_bits": 8, "train.time_steps": 2, "train.leak_mode": "pow2"}
LEVERS = [
    ("8-bit input, T=2, pow2 leak, distillation 0.5", dict(_BASE, **{"train.distillation": 0.5})),
    ("8-bit input, T=2, pow2 leak, 30 SNN epochs", dict(_BASE, **{"train.snn_epochs": 30})),
    ("8-bit input, T=2, no leak (IF)", dict(_BASE, **{"train.leak_mode": "none"})),
    ("8-bit input, T=1, no leak, 30 SNN epochs", dict(_BASE, **{"train.time_steps": 1, "train.leak_mode": "none",
                                                             "train.snn_epochs": 30})),
    ("8-bit input, T=2, pow2 leak, penalty 0.5, distillation 0.5, 30 SNN epochs",
     dict(_BASE, **{"train.spike_penalty": 0.5, "train.distillation": 0.5, "train.snn_epochs": 30})),
]
_MEMBRANE = {"model.input_bits": 8, "train.leak_mode": "pow2", "train.membrane_bits": 8}
LEVERS += [
    ("8-bit input, pow2 leak, 8-bit membrane", dict(_MEMBRANE)),
    ("8-bit input, pow2 leak, 8-bit membrane, penalty 0.5, distillation 0.5",
     dict(_MEMBRANE, **{"train.spike_penalty": 0.5, "train.distillation": 0.5})),
    ("8-bit input, T=3, pow2 leak, 8-bit membrane", dict(_MEMBRANE, **{"train.time_steps": 3})),
]
"""Issue 22's levers on the front's cheapest accurate point (8-bit input, T=2, pow2 leak): distillation from the CNN,
longer SNN training at T=1-2, a leak that costs nothing, and the spike penalty with both; then the 8-bit membrane with
saturation (train.membrane_bits) at T=5 and T=3 (T=2 lost 10 points on the standard disjoint split).
`--front levers` trains them (bench-levers); they join the front's table."""
CANDIDATES += LEVERS
SHOWN_ONLY = ("map-production regularisers (context dropout 0.5, weight averaging 1 epoch)",)
"""Candidates the front shows but the preset rule does not choose among: what the map-production defaults'
regularisers cost on this split (added after the `efficient` preset was chosen)."""
QUICK_CANDIDATES = [CANDIDATES[0], CANDIDATES[7]]
HEADLINE = ("default", "8-bit input, pow2 leak, 8-bit membrane, penalty 0.5, distillation 0.5",
            "first layer 3x3 (paper-style)")
"""The candidates `make bench` trains: the default, the `efficient` preset (chosen by bench/front_choice.py; the
earlier preset, T=2, is one of `make bench-front`'s candidates) and the paper-style 3x3 first layer. The whole front, which chooses the preset, is `make bench-front` (about 3 hours on
2 cores); both write the same rows, so either reuses the other's with --resume."""


def candidates(which: str, quick: bool = False) -> list:
    """(name, settings) of the front's candidates: "full" (all), "headline" (HEADLINE) or "default" (the default's
    rows alone: the 30 % headline and its floor, after a change of defaults)."""
    if quick:
        return QUICK_CANDIDATES
    if which == "full":
        return CANDIDATES
    if which == "default":
        return CANDIDATES[:1]
    if which == "levers":
        return LEVERS
    return [c for c in CANDIDATES if c[0] in HEADLINE]

VAL_OA_MARGIN = 0.005
RULE = ("the candidate with the highest mean complete-convention energy ratio to the iso-architecture 6-bit "
        "CNN (per patch, operations counted on validation pixels) among those whose mean validation OA is at "
        f"least the default's mean validation OA minus {100 * VAL_OA_MARGIN:.1f} points; means over the seeds. "
        "No test pixel is used.")


def apply(cfg, settings: dict):
    for key, value in settings.items():
        section, name = key.split(".")
        if not hasattr(getattr(cfg, section), name):  # a misspelt or not yet built setting would change nothing
            raise KeyError(f"unknown setting {key!r}")
        setattr(getattr(cfg, section), name, list(value) if isinstance(value, list) else value)
    return cfg


def cnn_group(settings: dict) -> str:
    """Key of the CNN a candidate trains: candidates with the same key share one CNN checkpoint per seed."""
    from hypersnn.core.training.checkpoints import CNN_FIELDS
    import re
    keep = {k: v for k, v in settings.items() if k.startswith("model.") or k.split(".")[1] in CNN_FIELDS}
    key = "-".join(f"{k.split('.')[1]}={v}" for k, v in sorted(keep.items()))
    return "cnn" + (("-" + re.sub(r"[^A-Za-z0-9=.-]+", "_", key)) if key else "")


def summarize(rows: list) -> dict:
    """Per candidate: mean and sample std (n - 1) over seeds of validation and test metrics and ratios."""
    out = {}
    for name in dict.fromkeys(r["candidate"] for r in rows):
        group = [r for r in rows if r["candidate"] == name]
        stats = {"n": len(group), "settings": group[0]["settings"]}
        for key, get in (("val_oa", lambda r: r["val_oa"]),
                         ("val_q_ratio", lambda r: (r["val_energy"] or {}).get("complete", {}).get("q_cnn_over_snn")),
                         ("oa", lambda r: r["snn"]["oa"]), ("aa", lambda r: r["snn"]["aa"]),
                         ("kappa", lambda r: r["snn"]["kappa"])):
            vals = [get(r) for r in group]
            stats[key] = _ms(vals)
        for conv in ("paper", "reuse", "complete"):
            for which in ("q_cnn_over_snn", "fp_cnn_over_snn"):
                stats[f"{conv}_{which}"] = _ms([r["energy"]["horowitz45"][conv]["per_patch"][which] for r in group])
                stats[f"{conv}_{which}_map"] = _ms([r["energy"]["horowitz45"][conv]["per_map_pixel"][which]
                                                    for r in group])
        stats["snn_pj"] = _ms([r["energy"]["horowitz45"]["complete"]["per_patch_pj"]["snn"] for r in group])
        stats["mean_rate"] = _ms([statistics.mean(r["spike_rates"].values()) for r in group])
        out[name] = stats
    return out


def select(summary: dict, default: str = "default") -> dict:
    """Apply RULE to a summary (see `summarize`). Without validation OA for every candidate (runs that fell back to
    fixed epochs) the rule cannot choose, and says so instead of choosing on what is left."""
    if any(v["val_oa"] is None or v["val_q_ratio"] is None for k, v in summary.items() if k not in SHOWN_ONLY):
        return {"rule": RULE, "val_oa_floor": None, "eligible": [], "chosen": None, "settings": None,
                "note": "some runs have no validation pixels (fixed-epoch fallback)"}
    summary = {k: v for k, v in summary.items() if k not in SHOWN_ONLY}
    floor = summary[default]["val_oa"]["mean"] - VAL_OA_MARGIN
    ok = {k: v for k, v in summary.items() if v["val_oa"]["mean"] >= floor}
    best = max(ok, key=lambda k: ok[k]["val_q_ratio"]["mean"])
    return {"rule": RULE, "val_oa_floor": floor, "eligible": sorted(ok), "chosen": best,
            "settings": summary[best]["settings"]}


def _ms(vals):
    """Mean and sample std of the values that exist: a run whose validation fell back to fixed epochs
    (core/data/splits.MIN_VAL_PIXELS) has no validation OA, and a mean over the others would not be over the seeds."""
    if any(v is None for v in vals):
        return None
    vals = [float(v) for v in vals]
    return {"mean": statistics.mean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else 0.0, "n": len(vals),
            "values": vals}
