"""Rows that test maps away from the training areas (issue: maps that hold up away from the training polygons).

Each row is one fresh `hypersnn train` process (defaults unless the section says otherwise; its wall time and peak
memory, VmHWM, are the row's), with `--baseline both`: the SNN, its CNN, the RBF SVM and the random forest on the
same test pixels, the baselines tuned by grouped cross-validation on the training side.

Sections (`--section`, repeatable; rows already in the output are kept with --resume):
  standard  Indian Pines, the standard disjoint train/test maps (Hong et al. 2021; ../shared/data): 695 training and
            9,671 test pixels. Scored on every test pixel (`--no-leakage-guard`), as the published protocol does.
            The published figures are quoted, labelled as such, never re-measured here.
  standard_guarded  the same split with the leakage guard on (the default for a user's split map): only the test
            pixels outside every training patch are scored (most of the standard test set lies within 5 pixels of a
            training pixel, so patch models see their neighbourhood under the published protocol).
  ip_polygons  Indian Pines, polygon-grouped split: the ground truth's connected regions of one class as polygons
            (a class with one region cut in two; bench/grouped.region_polygon_ids) in a GeoPackage, `--split polygons
            --train-fraction 0.3`: whole spatial clusters of regions to training or test, the leakage guard on.
  headline  Indian Pines, the 30 % stratified random split at defaults (epoch_pixels included; the demo keeps every
            epoch): what the defaults give on the leaky split.
  potsdam   the real EnMAP scene Potsdam west with its land-cover polygons (class field level_3) at defaults: map
            production (split cv), the model trains on all 3,607 labelled pixels (the time floor's upper end) and
            3-fold grouped cross-validation gives the accuracy, the baselines' too (same folds).
  time      the same run as `potsdam` without the baselines: `hypersnn train` exactly at defaults, whose whole-process
            wall time is what the 5-minute floor (200+ bands, 500-3,500 training pixels) is about.
  potsdam_tile  the same polygons, trained on the southern labelled tile (rows >= 80, the only one with all six
            classes: water lies there alone) and tested on the northern one: mapping another part of the city (split
            map; the guard has nothing to drop, the tiles are far apart).

usage: python bench/disjoint.py --section standard --seeds 0 1 2 3 4 [--out docs/disjoint.json] [--resume]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data"
PUBLISHED_STANDARD = {"RF": 69.80, "SVM": 72.36, "1-D CNN": 70.43, "2-D CNN": 75.89, "miniGCN": 75.11,
                      "SpectralFormer": 81.76}
"""OA % on the standard split as published (Hong et al., TGRS 2021; SpectralFormer, TGRS 2022): not re-checked."""
CHILD = r"""
import contextlib, io, json, sys, time
from hypersnn.cli import main
t0 = time.perf_counter()
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    rc = main(json.loads(sys.argv[1]))
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(),
                  "out": json.loads(buf.getvalue()) if rc == 0 else None}))
"""


def standard_split_files(folder: Path):
    """The standard split as a label raster and a split map (1 = train, 2 = test) on the bundled sample's grid."""
    import rasterio

    z = np.load(SHARED / "indian_pines" / "ip_standard_split" / "ip_standard_split.npz")
    tr, te = z["train"], z["test"]
    with rasterio.open(ROOT / "resources" / "indian_pines" / "indian_pines_gt.tif") as src:
        prof = src.profile
    prof.update(dtype="uint8", count=1, nodata=None)
    paths = {"labels": folder / "std_labels.tif", "split": folder / "std_split.tif"}
    for key, a in (("labels", np.where(tr > 0, tr, te)), ("split", np.where(tr > 0, 1, np.where(te > 0, 2, 0)))):
        with rasterio.open(paths[key], "w", **prof) as dst:
            dst.write(a.astype(np.uint8), 1)
    return paths


def region_polygons(folder: Path) -> Path:
    """Indian Pines' ground-truth regions as polygons (field `class`), one per connected region of one class, as an
    analyst's polygon layer would hold them, in a GeoPackage on the bundled sample's CRS."""
    import fiona
    import rasterio
    from rasterio.features import shapes

    from bench.grouped import region_polygon_ids

    with rasterio.open(ROOT / "resources" / "indian_pines" / "indian_pines_gt.tif") as src:
        gt, transform, crs = src.read(1), src.transform, src.crs
    ids = region_polygon_ids(gt)
    path = folder / "ip_regions.gpkg"
    schema = {"geometry": "Polygon", "properties": {"class": "int"}}
    with fiona.open(path, "w", driver="GPKG", schema=schema, crs=crs.to_wkt()) as dst:
        for geom, pid in shapes(ids.astype(np.int32), mask=ids > 0, transform=transform):
            rows, cols = np.nonzero(ids == int(pid))
            dst.write({"geometry": geom, "properties": {"class": int(gt[rows[0], cols[0]])}})
    return path


def settings_file(folder: Path, sets) -> list:
    """`--config` of a settings file holding `sets` ("section.field=json value", through the settings registry, so
    its range and choice checks apply), or [] for none."""
    if not sets:
        return []
    from hypersnn.core.config.schema import RunConfig
    from hypersnn.core.config.settings import BY_KEY

    cfg, out = RunConfig(), {}
    for item in sets:
        key, value = item.split("=", 1)
        setting, value = BY_KEY[key], json.loads(value)
        setting.check(value)
        setting.set(cfg, value)
        out.setdefault(setting.section, {})[setting.name] = value
    path = folder / "settings.json"
    path.write_text(json.dumps(out))
    return ["--config", str(path)]


def args_for(section: str, seed: int, folder: Path, sets=()) -> list:
    sample = ROOT / "resources" / "indian_pines"
    common = (["--seed", str(seed), "--baseline", "both", "--json", "--quiet", "--out", str(folder / "m.hsnn")]
              + settings_file(folder, sets))
    if section.startswith("standard"):
        p = standard_split_files(folder)
        guard = [] if section == "standard_guarded" else ["--no-leakage-guard"]
        return ["train", "--raster", str(sample / "indian_pines.tif"), "--labels", str(p["labels"]),
                "--classes", str(sample / "classes.json"), "--split-map", str(p["split"])] + guard + common
    if section == "ip_polygons":
        return ["train", "--raster", str(sample / "indian_pines.tif"), "--polygons", str(region_polygons(folder)),
                "--class-field", "class", "--classes", str(sample / "classes.json"), "--split", "polygons",
                "--train-fraction", "0.3"] + common
    if section == "headline":
        return ["train", "--raster", str(sample / "indian_pines.tif"), "--labels", str(sample / "indian_pines_gt.tif"),
                "--classes", str(sample / "classes.json"), "--split", "random", "--train-fraction", "0.3",
                "--seed", str(seed), "--json", "--quiet", "--out", str(folder / "m.hsnn")]
    if section == "time":
        common = [c for c in common if c not in ("--baseline", "both")]
    if section.startswith("potsdam") or section == "time":
        d = SHARED / "enmap_potsdam_west"
        extra = []
        if section == "potsdam_tile":
            import rasterio

            with rasterio.open(d / "enmap_potsdam_west_labels.tif") as src:
                lab, prof = src.read(1), src.profile
            rows = np.indices(lab.shape)[0]
            split = np.where(lab > 0, np.where(rows >= 80, 1, 2), 0).astype(np.uint8)
            prof.update(dtype="uint8", count=1, nodata=None)
            with rasterio.open(folder / "tile_split.tif", "w", **prof) as dst:
                dst.write(split, 1)
            extra = ["--split-map", str(folder / "tile_split.tif")]
        return ["train", "--raster", str(d / "enmap_potsdam_west.tif"), "--polygons",
                str(d / "enmap_potsdam_west_landcover.gpkg"), "--class-field", "level_3"] + extra + common
    raise SystemExit(f"unknown section {section!r}")


def run_row(section: str, seed: int, sets=()) -> dict:
    from bench.memory import run_child

    with tempfile.TemporaryDirectory() as tmp:
        r = run_child(CHILD, json.dumps(args_for(section, seed, Path(tmp), sets)))
    if r["rc"] != 0 or not r["out"]:
        return {"section": section, "seed": seed, "set": list(sets), "rc": r["rc"], "error": "training failed"}
    rep = r["out"]["report"]
    proto = rep["split_protocol"]
    row = {"section": section, "seed": seed, "set": list(sets), "rc": 0, "seconds": r["seconds"], "peak_rss_mb": r["peak_rss_mb"],
           "stage_seconds": rep.get("timing"), "engine_seconds": engine_seconds(rep.get("timing") or {}), "totals": proto.get("totals"),
           "dropped_for_leakage": proto.get("dropped_for_leakage"), "dropped_share": proto.get("dropped_share"),
           "validation_check": proto.get("validation_check"), "trust_warnings": rep.get("trust_warnings", []),
           "snn": _acc(rep.get("accuracy")), "cnn": _acc(rep.get("accuracy_cnn"))}
    for b in (rep.get("comparison") or {}).get("baselines", []):
        row[b["kind"]] = {"oa": b["oa"], "cv_oa": b["val_oa"], "params": b["params"]}
    return row


ENGINE_STAGES = ("prepare", "cross_validation", "cnn", "convert", "snn", "assess")


def engine_seconds(timing: dict) -> float:
    """What a run at defaults costs: reading and preparing, the cross-validation folds, the final model's stages and
    its assessment; the baselines (`--baseline`, not a default) are left out."""
    return float(sum(timing.get(k) or 0.0 for k in ENGINE_STAGES))


def _acc(a):
    return None if not a else {k: a.get(k) for k in ("oa", "aa", "kappa", "n_test")}


def _ms(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    m = 100 * statistics.mean(vals)
    return f"{m:.2f} +/- {100 * statistics.stdev(vals):.2f}" if len(vals) > 1 else f"{m:.2f}"


def markdown(data: dict) -> str:
    out = ["# Maps away from the training areas (bench/disjoint.py)", "",
           f"Rows: {data.get('commit', '?')}, {data.get('machine', '')}. Each row is one `hypersnn train` process with "
           "`--baseline both`; means +/- sample std over the seeds listed.", ""]
    titles = {"standard_guarded": "Indian Pines, standard disjoint split with the leakage guard: only test pixels "
                                  "outside every training patch (5 x 5 at defaults) are scored",
              "standard": "Indian Pines, standard disjoint split (695 train / 9,671 test pixels, every test pixel "
                          "scored as the published protocol does)",
              "ip_polygons": "Indian Pines, polygon-grouped split (ground-truth regions as polygons, whole spatial clusters "
                             "of them to training, about 30 % of each class, leakage guard on)",
              "headline": "Indian Pines, 30 % stratified random split, defaults (not the demo settings of the headline table)",
              "potsdam": "EnMAP Potsdam west, its land-cover polygons (level_3), defaults (map production: every "
                         "label trains, 3-fold grouped cross-validation over spatial clusters gives the accuracy, the "
                         "baselines' on the same folds)",
              "time": "EnMAP Potsdam west at defaults without the baselines (`hypersnn train` as an analyst runs it: "
                      "224 bands, 218 usable, 3,607 training pixels, map production)",
              "potsdam_tile": "EnMAP Potsdam west, trained on the southern labelled tile, tested on the northern one",
}
    for section, rows in data.get("sections", {}).items():
        rows = [r for r in rows if r.get("rc") == 0]
        if not rows:
            continue
        seeds = ", ".join(str(r["seed"]) for r in rows)
        commits = sorted({r.get("commit") or data.get("first_commit", "?") for r in rows})
        base, *sets = section.split(" | ")
        out += [f"## {titles.get(base, base)}" + (f", with {', '.join(sets)}" if sets else ""), "", f"Seeds {seeds}; commit {', '.join(commits)}.", "",
                "| model | OA % | AA % | kappa x100 |", "|---|---|---|---|"]
        t = next((x.split("=", 1)[1] for x in sets if x.startswith("train.time_steps=")), "5")
        for key, name in (("snn", f"SNN (T={t}, 6-bit)"), ("cnn", "its 6-bit CNN")):
            if any(r.get(key) for r in rows):
                out.append(f"| {name} | {_ms([r[key]['oa'] for r in rows if r.get(key)])} | "
                           f"{_ms([r[key]['aa'] for r in rows if r.get(key)])} | "
                           f"{_ms([r[key]['kappa'] for r in rows if r.get(key)])} |")
        for key, name in (("svm", "RBF SVM (grouped-CV tuned)"), ("rf", "random forest (grouped-CV tuned)")):
            if any(r.get(key) for r in rows):
                out.append(f"| {name} | {_ms([r[key]['oa'] for r in rows if r.get(key)])} | - | - |")
        if section == "standard":  # the published figures once, beside the defaults' rows
            for name, oa in PUBLISHED_STANDARD.items():
                out.append(f"| {name} (published, not re-measured) | {oa:.2f} | - | - |")
        secs = [r["seconds"] for r in rows]
        eng = [r.get("engine_seconds") or engine_seconds(r.get("stage_seconds") or {}) for r in rows]
        mem = [r["peak_rss_mb"] for r in rows if r.get("peak_rss_mb")]
        out += ["", f"Training time per run: {statistics.mean(eng):.0f} s (max {max(eng):.0f} s) for the engine's "
                    f"stages ({', '.join(ENGINE_STAGES)}), {statistics.mean(secs):.0f} s for the whole `hypersnn "
                    f"train` process with the baselines; peak memory {max(mem):.0f} MB." if mem else ""]
        drops = [r.get("dropped_share") for r in rows if r.get("dropped_share") is not None]
        if drops:
            out.append(f"Leakage guard: {100 * max(drops):.1f} % of the labelled pixels dropped at most.")
        fb = sum(1 for r in rows if (r.get("validation_check") or {}).get("fallback"))
        out += [f"Validation fallback (fixed epochs) in {fb} of {len(rows)} runs.", ""]
    return "\n".join(out) + "\n"


README_ROWS = (("standard", "Indian Pines, standard disjoint split, published protocol (every test pixel)"),
               ("standard_guarded", "the same, leakage guard on (test pixels outside every training patch)"),
               ("ip_polygons", "Indian Pines, polygon-grouped split (30 % of each class's regions)"),
               ("potsdam", "EnMAP Potsdam west, defaults: map production, 3-fold grouped CV"),
               ("potsdam_tile", "EnMAP Potsdam west, trained on the southern tile, tested on the northern"))
"""The README's rows (section, what it is), in this order."""
OPTION_NAMES = {"train.weight_averaging=0": "without weight averaging", "train.context_dropout=0": "without context dropout",
                "model.patch_size=11": "11 x 11 patches", "train.distillation=0.5": "+ distillation from the CNN (0.5)",
                "train.snn_lr=0.0001": "+ lower SNN learning rate (1e-4)",
                "train.illumination=0.2 | train.spectral_noise=0.1": "+ spectral augmentation (illumination 0.2, noise 0.1)",
                "train.time_steps=2": "T=2 (the earlier `efficient` preset)",
                'model.input_bits=8 | train.time_steps=2 | train.leak_mode="pow2" | train.spike_penalty=0.5 | '
                'train.distillation=0.5 | train.snn_epochs=30':
                    "8-bit input, T=2, pow2 leak, penalty 0.5, distillation 0.5, 30 SNN epochs (issue 22's front)",
                'model.input_bits=8 | train.time_steps=1 | train.leak_mode="none" | train.snn_epochs=30':
                    "8-bit input, T=1, no leak, 30 SNN epochs (issue 22's front)",
                'model.input_bits=8 | train.leak_mode="pow2" | train.membrane_bits=8':
                    "8-bit input, pow2 leak, 8-bit membrane (issue 22)",
                'model.input_bits=8 | train.leak_mode="pow2" | train.membrane_bits=8 | train.spike_penalty=0.5 | '
                'train.distillation=0.5': "8-bit input, pow2 leak, 8-bit membrane, penalty 0.5, distillation 0.5 "
                                          "(issue 22)",
                'model.input_bits=8 | train.time_steps=3 | train.leak_mode="pow2" | train.membrane_bits=8':
                    "8-bit input, T=3, pow2 leak, 8-bit membrane (issue 22)"}
"""Readable names of the option rows; any other option is shown as its settings, comma-separated (a '|' would break
the markdown table)."""


def readme_lines(data: dict) -> list:
    """The README's block: per case the SNN against its CNN and the grouped-CV-tuned baselines (mean +/- sample std
    over the seeds), time and memory; then what each training option changes on the standard split."""
    secs = {k: [r for r in v if r.get("rc") == 0] for k, v in data.get("sections", {}).items()}

    def m(rows, key):
        vals = [100 * r[key]["oa"] for r in rows if r.get(key)]
        if not vals:
            return "-"
        return f"{statistics.mean(vals):.2f}" + (f" +/- {statistics.stdev(vals):.2f}" if len(vals) > 1 else "")

    out = ["| case | seeds | SNN OA % | its CNN | RBF SVM | random forest | SNN - best baseline, points | train s | "
           "peak MB |", "|---|---|---|---|---|---|---|---|---|"]
    for key, title in README_ROWS:
        rows = secs.get(key) or []
        if not rows:
            continue
        gap = [100 * (r["snn"]["oa"] - max(r["svm"]["oa"], r["rf"]["oa"])) for r in rows if r.get("svm") and r.get("rf")]
        gap_s = (f"{statistics.mean(gap):+.2f}" + (f" +/- {statistics.stdev(gap):.2f}" if len(gap) > 1 else "")
                 if gap else "-")
        eng = [r.get("engine_seconds") or engine_seconds(r.get("stage_seconds") or {}) for r in rows]
        out.append(f"| {title} | {', '.join(str(r['seed']) for r in rows)} | {m(rows, 'snn')} | {m(rows, 'cnn')} | "
                   f"{m(rows, 'svm')} | {m(rows, 'rf')} | {gap_s} | {statistics.mean(eng):.0f} | "
                   f"{max(r['peak_rss_mb'] for r in rows):.0f} |")
    out += ["", "Published on the standard split (quoted from Hong et al. 2021 / SpectralFormer 2022, not re-measured; "
                "their own networks and patch sizes): " + ", ".join(f"{k} {v:.2f}" for k, v in PUBLISHED_STANDARD.items())
            + "."]
    base = secs.get("standard") or []
    opts = [(k.split(" | ", 1)[1], v) for k, v in secs.items() if k.startswith("standard | ") and v]
    if base and opts:
        ref = {r["seed"]: r["snn"]["oa"] for r in base}
        out += ["", "What each training option changes on the standard split (SNN test OA %, the same seeds as the "
                    "option's rows against the defaults; test figures, shown after the defaults were chosen on "
                    "validation data):", "", "| option | seeds | SNN OA % | change, points |", "|---|---|---|---|"]
        for sets, rows in opts:
            d = [100 * (r["snn"]["oa"] - ref[r["seed"]]) for r in rows if r["seed"] in ref]
            out.append(f"| {OPTION_NAMES.get(sets, sets.replace(' | ', ', '))} | {', '.join(str(r['seed']) for r in rows)} | "
                       f"{m(rows, 'snn')} | " + (f"{statistics.mean(d):+.2f} +/- {statistics.stdev(d):.2f}"
                                                  if len(d) > 1 else "-") + " |")
    t = secs.get("time") or []
    if t:
        out += ["", f"Training at defaults (`hypersnn train` on Potsdam west, 224 bands, 3,607 labelled pixels, map "
                    f"production: 3 fold models and the final model, no baselines), whole process: "
                    f"{statistics.mean(r['seconds'] for r in t):.0f} s mean, {max(r['seconds'] for r in t):.0f} s "
                    f"at most over seeds {', '.join(str(r['seed']) for r in t)}; peak memory "
                    f"{max(r['peak_rss_mb'] for r in t):.0f} MB (`python bench/disjoint.py --section time`)."]
    commits = sorted({r.get("commit", "?") for v in secs.values() for r in v})
    return out + [f"Rows: `python bench/disjoint.py` (docs/disjoint.md has every section), commits "
                  f"{', '.join(commits)}; {json.loads(data['machine']).get('cpu', '') if data.get('machine') else ''}, "
                  "2 cores."]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--section", action="append", required=True, choices=("standard", "standard_guarded", "ip_polygons", "headline", "potsdam", "potsdam_tile", "time"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default=str(ROOT / "docs" / "disjoint.json"))
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="a setting for every row (JSON value, e.g. train.distillation=0.5); the rows are kept under "
                         "'<section> | <settings>'")
    a = ap.parse_args(argv)
    from bench.common import _git, machine

    out = Path(a.out)
    data = json.loads(out.read_text()) if a.resume and out.is_file() else {"sections": {}}
    data.update(commit=_git("rev-parse", "--short", "HEAD"), machine=json.dumps(machine()))
    for section in a.section:
        key = " | ".join([section] + a.set)
        rows = data["sections"].setdefault(key, [])
        for seed in a.seeds:
            if any(r["seed"] == seed and r.get("rc") == 0 for r in rows):
                continue
            t0 = time.perf_counter()
            row = dict(run_row(section, seed, a.set), commit=data["commit"])
            rows.append(row)
            print(f"[disjoint] {key} seed {seed}: SNN {row.get('snn')} in {time.perf_counter() - t0:.0f} s",
                  flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(data, indent=1))
            out.with_suffix(".md").write_text(markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
