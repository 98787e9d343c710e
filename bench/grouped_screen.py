"""Screen network settings on a region-grouped split of Indian Pines by validation OA (issue: real sensor scenes).

On the grouped splits the SNN trails the RBF SVM (docs/results.md). Spatial context may be what fails to transfer
to unseen regions, so this trains the headline settings with other patch sizes on the same split and seed and
reports what decides (validation OA, whole held-out regions of the training side) beside what does not (test OA,
and the SVM on the same test pixels: the leakage guard drops test pixels within half a patch of training, so the
test set depends on the patch size). One seed is a screen, not a result.

    python -m bench.grouped_screen --split polygons --seed 0 --patch 5 [--patch 7] [--out bench/out/grouped_screen.json]
    python -m bench.grouped_screen --seed 1 --patch 11 --set train.mixup=0.4 [--set train.label_smoothing=0.1]

`--set SECTION.FIELD=VALUE` screens a setting other than the patch (the guard radius, and so the validation
and test pixels, stay those of the patch: these rows are comparable with each other at one patch size).
"""
from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

from bench.grouped_screen_table import RULE, screen_lines  # noqa: F401 - the table, kept apart (see there)

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", choices=("polygons", "blocks"), default="polygons")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--patch", type=int, action="append", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="a RunConfig setting for every row, e.g. train.mixup=0.4")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "grouped_screen.json"))
    args = ap.parse_args(argv)

    import torch

    from bench import common
    from bench.grouped import region_polygon_ids
    from bench.run import strip, train_row
    from hypersnn.core.config.settings import BY_KEY

    common.THREADS = args.threads
    torch.set_num_threads(args.threads)
    reader, labels = common.indian_pines()
    if args.split == "polygons":
        labels = copy.copy(labels)
        labels.polygon_ids = region_polygon_ids(labels.array)
    out = Path(args.out)
    rows = json.loads(out.read_text()) if out.is_file() else []
    for patch in args.patch:
        cfg = common.headline_config("hybrid", 0.3, args.seed)
        cfg.split.method = args.split
        cfg.model.patch_size = patch
        cfg.baseline.kind = "svm"
        for item in args.set:  # through the settings registry: its range and choice checks apply
            key, value = item.split("=", 1)
            setting, value = BY_KEY[key], json.loads(value)
            setting.check(value)
            setting.set(cfg, value)
        label = f"{args.split} | seed {args.seed} | patch {patch}" + "".join(f" | {item}" for item in args.set)
        print(f"[grouped_screen] {label}", flush=True)
        row = train_row(reader, labels, cfg, label)
        comp = row["_outcome"].comparison
        svm = comp["rows"][-1]
        rows.append({"label": label, "split": args.split, "seed": args.seed, "patch": patch, "set": args.set,
                     "val_oa": row["val_oa"], "val_oa_cnn": row["val_oa_cnn"], "snn_oa": row["snn"]["oa"],
                     "cnn_oa": row["cnn"]["oa"], "svm_oa": svm["oa"], "wall_s": row["wall_s"],
                     "split_protocol": strip(row)["split_protocol"]})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=1))
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
