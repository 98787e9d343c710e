"""Grouped hold-out validation that re-chooses the `efficient` preset (issue 22), on the training side only.

Why not the front's own rule: under the current defaults the 30 % split keeps no validation set (fewer than
core/data/splits.MIN_VAL_PIXELS of most classes), so its rows train fixed epochs and have no validation OA. And
pixels drawn at random from the training side sit beside training pixels, as the random split's test pixels do:
they cannot see what a map away from the training areas sees (T=2 lost 0.4 points against the default on the
random split's test pixels and 10 on the standard disjoint split's). That second reason was learnt from test
pixels of the disjoint split, and RULE says so.

Each row: the seed's 30 % stratified random split (bench/common.headline_config); from its training side, whole
16 x 16-pixel blocks holding about VAL_FRACTION of each class's training pixels are held out as validation
(core/data/splits/validation.take_val_units, as the blocks split takes its validation: no class loses its last
training block, a class with a single block gets pixel-level validation inside it, validation pixels within the
patch radius of a training pixel are dropped); the whole CNN -> SNN pipeline trains on the rest (fixed epochs, as
every row of this split) and is scored on the held-out pixels, where the energy is also counted.

    python -m bench.front_validation --candidates default T=2 --seeds 0 1 2 [--threads 1]
    python -m bench.front_validation --table docs/front_validation.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import front as F  # noqa: E402

_M = {"model.input_bits": 8, "train.leak_mode": "pow2", "train.membrane_bits": 8}
CANDIDATES = {
    "default": {},
    "T=2": {"train.time_steps": 2},
    "8-bit input, pow2 leak, 8-bit membrane": dict(_M),
    "8-bit input, pow2 leak, 8-bit membrane, penalty 0.5, distillation 0.5":
        dict(_M, **{"train.spike_penalty": 0.5, "train.distillation": 0.5}),
    "8-bit input, T=3, pow2 leak, 8-bit membrane": dict(_M, **{"train.time_steps": 3}),
    "8-bit input, T=2, pow2 leak, penalty 0.5, distillation 0.5, 30 SNN epochs":
        dict(dict(F.LEVERS)["8-bit input, T=2, pow2 leak, penalty 0.5, distillation 0.5, 30 SNN epochs"]),
}
"""The default, the `efficient` preset as it stands (T=2), the 8-bit membrane lever at T=5 and T=3, and the front's
cheapest accurate point on test pixels (61.1x at 98.77 %)."""

VAL_OA_MARGIN = 0.005
VAL_FRACTION = 0.3
BLOCK = 16
RULE1 = ("Rule for re-choosing the `efficient` preset (issue 22), written 2026-12-07T17:05Z before any of its rows ran. "
        "Candidates: bench/front_validation.CANDIDATES. Validation: for seeds 0, 1, 2, the training side of the seed's "
        "30 % stratified random split is cut into spatial clusters and 3 folds as split 'cv' cuts them (guard radius "
        "5); the pipeline trains on folds 2-3 with the defaults' fixed epochs and is scored on fold 1's guard-safe "
        "pixels. Chosen: the candidate with the highest mean complete-convention ratio to the iso-architecture 6-bit "
        "CNN (horowitz45, per patch, counted on those validation pixels) among those whose mean validation OA is at "
        f"least the default's minus {100 * VAL_OA_MARGIN:.1f} points. No test pixel is used by the rule; the grouped "
        "validation itself was adopted after the standard disjoint split's test pixels showed T=2 losing 10 points "
        "that the random split's test pixels did not show.")
"""The first version: it could not run. Whole spatial clusters held out took every Corn pixel of seed 1's training
side (SplitError), so a fold could not train on every class; its two rows of seed 0 (default: validation OA 40.8 %,
ratio 10.7x; 8-bit membrane: 43.0 %, 35.3x) are not used. RULE replaced it before any other row ran."""
RULE = ("Rule for re-choosing the `efficient` preset (issue 22), version 2, written 2026-12-07T16:45Z after rule 1 "
        "failed on seed 1 (a fold without Corn) and before any of its own rows ran. Candidates: "
        "bench/front_validation.CANDIDATES. Validation: for seeds 0, 1, 2, whole 16 x 16-pixel blocks holding about "
        f"{100 * VAL_FRACTION:.0f} % of each class's pixels of the seed's 30 % stratified random training side are "
        "held out (no class loses its last training block; validation pixels within 5 pixels of a training pixel "
        "dropped); the pipeline trains on the rest with the defaults' fixed epochs and is scored on the held-out "
        "pixels. Chosen: the candidate with the highest mean complete-convention ratio to the iso-architecture 6-bit "
        "CNN (horowitz45, per patch, counted on those validation pixels) among those whose mean validation OA is at "
        f"least the default's minus {100 * VAL_OA_MARGIN:.1f} points. No test pixel is used by the rule; spatially "
        "held-out validation itself was adopted after the standard disjoint split's test pixels showed T=2 losing 10 "
        "points that the random split's test pixels did not show.")
OUT = ROOT / "docs" / "front_validation.json"
DISJOINT = ROOT / "docs" / "disjoint.json"
DISJOINT_LIMIT = 1.0
GATE = ("Gate (issue 22's own condition, applied after RULE): the preset must stay within "
        f"{DISJOINT_LIMIT:.0f} point of the default's SNN OA on the standard disjoint Indian Pines split (bench/"
        "disjoint.py --section standard, seeds 0, 1, 2, mean over the seeds). Taken in RULE's order (validation "
        "ratio, highest first), the first eligible candidate that passes becomes `efficient`. The gate reads the "
        "standard split's test pixels, so for the preset that figure is a checked condition, no longer an untouched "
        "test result. Written 2026-12-07T17:18Z, after RULE's rows had chosen the 30-epoch T=2 lever, which the gate "
        "rejects (-10.0 points, measured earlier).")


def validation_map(labels_array: np.ndarray, cfg) -> np.ndarray:
    """uint8 map for split 'given': 1 = training (the training side less the held-out blocks), 2 = validation."""
    from hypersnn.core.data.splits import make_split, take_val_units
    from hypersnn.core.data.splits.blocks import block_ids

    sp = make_split(labels_array, cfg.split, valid_mask=None, patch_size=cfg.model.patch_size)
    side = sp.train | sp.val
    classes = [int(v) for v in np.unique(labels_array[side])]
    train, val, _ = take_val_units(labels_array, side, classes, block_ids(labels_array.shape, BLOCK), VAL_FRACTION,
                                   np.random.default_rng([cfg.split.seed, 22]), cfg.model.patch_size // 2, "blocks")
    return np.where(val, 2, np.where(train, 1, 0)).astype(np.uint8)


def run(name: str, seeds, scratch: Path, out_file: Path, say=print):
    from bench.common import headline_config, indian_pines, machine
    from hypersnn.core.energy.costs import TABLES, reprice
    from hypersnn.core.training import pipeline

    settings = CANDIDATES[name]
    reader, labels = indian_pines()
    for seed in seeds:
        cfg = F.apply(headline_config("hybrid", 0.3, seed), settings)
        given = validation_map(labels.array, cfg)
        cfg.split.method = "given"
        say(f"[front_validation] {name} | seed {seed}")
        t0 = time.perf_counter()
        out = pipeline.train(reader, labels, cfg, given_map=given,
                             checkpoint_dir=scratch / "ckpt" / f"val_seed{seed}" / F.cnn_group(settings))
        e = reprice(out.energy, TABLES["horowitz45"])
        rates = [l["spike_rate"] for l in out.energy["layers"] if l["spike_rate"] is not None]
        row = {"candidate": name, "settings": settings, "seed": seed,
               "val_oa": out.test_snn.oa, "val_oa_cnn": out.test_cnn.oa if out.test_cnn else None,
               "val_aa": out.test_snn.aa, "val_pixels": int((given == 2).sum()), "train_pixels": int((given == 1).sum()),
               "val_q_ratio": e["conventions"]["complete"]["per_patch"]["ratios"]["q_cnn_over_snn"],
               "mean_rate": statistics.mean(rates), "seconds": time.perf_counter() - t0,
               "commit": machine()["commit"], "dirty": machine()["dirty"]}
        say(json.dumps(row))
        with open(out_file, "a") as fh:
            fh.write(json.dumps(row) + "\n")


def disjoint_deltas(path: Path = DISJOINT, seeds=(0, 1, 2)) -> dict:
    """{candidate: mean SNN OA points minus the default's} on the standard disjoint split, over `seeds`, for the
    candidates whose rows (bench/disjoint.py --section standard --set ...) exist for every seed."""
    if not Path(path).is_file():
        return {}
    secs = json.loads(Path(path).read_text()).get("sections", {})

    def oa(settings):
        for key, rows in secs.items():
            if key.split(" | ")[0] != "standard":
                continue
            got = {r["seed"]: r["snn"]["oa"] for r in rows if r.get("rc") == 0 and r.get("snn")
                   and {s.split("=", 1)[0]: json.loads(s.split("=", 1)[1]) for s in r.get("set", [])} == settings}
            if all(s in got for s in seeds):
                return statistics.mean(got[s] for s in seeds)
        return None

    base = oa({})
    out = {}
    for name, settings in CANDIDATES.items():
        v = oa(settings)
        if base is not None and v is not None:
            out[name] = 100 * (v - base)
    return out


def select(rows: list, deltas: dict = None) -> dict:
    """RULE over rows (one per candidate and seed), then GATE over `deltas` (disjoint_deltas); candidates without all
    three seeds take no part. `chosen` is None until every candidate has its rows and the gate has what it needs."""
    by = {}
    for r in rows:
        by.setdefault(r["candidate"], {})[r["seed"]] = r
    full = {k: list(v.values()) for k, v in by.items() if set(v) >= {0, 1, 2}}
    stats = {k: {"val_oa": statistics.mean(r["val_oa"] for r in v), "val_q_ratio": statistics.mean(
        r["val_q_ratio"] for r in v)} for k, v in full.items()}
    missing = [k for k in CANDIDATES if k not in full]
    if "default" not in stats:
        return {"rule": RULE, "chosen": None, "missing": missing, "stats": stats}
    floor = stats["default"]["val_oa"] - VAL_OA_MARGIN
    ok = [k for k, v in stats.items() if v["val_oa"] >= floor]
    order = sorted(ok, key=lambda k: -stats[k]["val_q_ratio"])
    deltas = disjoint_deltas() if deltas is None else deltas
    chosen, note = None, ""
    for k in order:
        if k not in deltas:
            note = f"the gate needs {k}'s standard-split rows"
            break
        if deltas[k] >= -DISJOINT_LIMIT:
            chosen = k
            break
    return {"rule": RULE, "gate": GATE, "val_oa_floor": floor, "eligible": sorted(ok), "rule_choice": order[0],
            "chosen": None if missing else chosen, "missing": missing, "gate_note": note,
            "disjoint_deltas": {k: deltas[k] for k in order if k in deltas},
            "settings": CANDIDATES.get(chosen), "stats": stats}


def selection(path: Path = OUT):
    """The `selection` record of docs/results.json (the preset the bench chose) once RULE has chosen, else None."""
    if not Path(path).is_file():
        return None
    sel = select([json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()])
    if not sel.get("chosen"):
        return None
    return {"rule": f"{RULE} {GATE}", "val_oa_floor": sel["val_oa_floor"], "eligible": sel["eligible"],
            "rule_choice": sel["rule_choice"], "disjoint_deltas": sel["disjoint_deltas"], "chosen": sel["chosen"],
            "settings": sel["settings"], "source": "bench/front_validation.py (docs/front_validation.json)",
            "validation": {k: {"val_oa": v["val_oa"], "val_q_ratio": v["val_q_ratio"]} for k, v in sel["stats"].items()}}


def table(rows: list) -> list:
    """Markdown: per candidate, the validation OA and ratio (mean +/- sample std over the seeds) and the choice."""
    from bench.stats import mean_std

    out = ["## Re-choosing `efficient` on grouped validation (bench/front_validation.py; docs/front_validation.json)",
           "", "| candidate | validation OA % | validation AA % | 6-bit CNN / SNN (validation pixels) | mean spike rate | "
           "seeds |", "|---|---|---|---|---|---|"]
    for name in CANDIDATES:
        mine = sorted((r for r in rows if r["candidate"] == name), key=lambda r: r["seed"])
        if not mine:
            continue
        out.append(f"| {name} | {mean_std([100 * r['val_oa'] for r in mine])} | "
                   f"{mean_std([100 * r['val_aa'] for r in mine])} | {mean_std([r['val_q_ratio'] for r in mine], 1, 1)}x"
                   f" | {statistics.mean(r['mean_rate'] for r in mine):.3f} | "
                   f"{', '.join(str(r['seed']) for r in mine)} |")
    sel = select(rows)
    out += ["", RULE, "", GATE, ""]
    if sel.get("rule_choice"):
        gate = "; ".join(f"{k} {v:+.2f}" for k, v in sel["disjoint_deltas"].items())
        out.append(f"Validation OA floor {100 * sel['val_oa_floor']:.2f} %; eligible: {'; '.join(sel['eligible'])}. "
                   f"RULE's choice: {sel['rule_choice']}. Standard disjoint split, SNN OA points against the "
                   f"default (seeds 0-2): {gate or 'no rows'}.")
    if sel.get("chosen"):
        out.append(f"`efficient` = **{sel['chosen']}**.")
    else:
        out.append("No choice yet: " + (sel.get("gate_note") or "rows missing for " + ", ".join(
            sel.get("missing") or ["the default"])) + ".")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", nargs="+", choices=list(CANDIDATES), default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--table", metavar="ROWS", help="print the markdown table of a rows file and stop")
    a = ap.parse_args(argv)
    if a.table:
        print("\n".join(table([json.loads(l) for l in Path(a.table).read_text().splitlines() if l.strip()])))
        return 0
    from bench import common
    if a.threads:
        import torch
        torch.set_num_threads(a.threads)
        common.THREADS = a.threads
    for name in a.candidates or list(CANDIDATES):
        run(name, a.seeds, ROOT / "bench" / "out", Path(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
