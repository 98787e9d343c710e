"""`make bench`: the Hyper-SNN table on Indian Pines, the accuracy-energy front, baselines, speed and memory.

Writes docs/results.json (after every row) and docs/results.md; the README's bench block is rewritten from
the JSON by `make results`. `--quick` is the smoke test (tests/test_bench.py): every section on a 64 x 64 crop
with a tiny network (bench/common.QUICK_MODEL), one epoch per stage, 20 random-forest trees and small
memory-test rasters; it checks the wiring in seconds, not the figures. Headline and front rows use the demo's
epochs on three seeds; only the sweeps use reduced epochs (stated in the output).

`make bench` trains the front's headline candidates (bench/front.HEADLINE); `make bench-front` trains every
candidate and applies the selection rule that chose the `efficient` preset. Rows carry their wall time, and
docs/results.md sums them per section: what a full run costs on this machine.
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench import front as F  # noqa: E402
from bench.common import SHARED, Results, headline_config, indian_pines, other_scene  # noqa: E402
from hypersnn.core.training import pipeline  # noqa: E402
from hypersnn.core.config.schema import ClassifyConfig, EnergyConfig  # noqa: E402
from hypersnn.core.energy.costs import CONVENTIONS, TABLES, reprice  # noqa: E402
from hypersnn.core.io.raster import ArrayReader  # noqa: E402

SWEEP_EPOCHS = (8, 3)  # CNN, SNN epochs of the sweep rows (headline and front rows use the demo's settings)
SENSITIVITY = {"CNN activations 8-bit": EnergyConfig(activation_bits=8),
               "accumulators 24-bit": EnergyConfig(accumulator_bits=24)}


def crop(reader, labels, size):
    """Top-left size x size crop (quick mode), dropping classes too rare to split."""
    from hypersnn.core.data.labels import Labels
    cube = reader.read((0, 0, size, size))
    arr = labels.array[:size, :size].copy()
    for c in labels.classes:
        if (arr == c.value).sum() < 10:
            arr[arr == c.value] = 0
    classes = [c for c in labels.classes if (arr == c.value).any()]
    info = copy.deepcopy(reader.info)
    info.width = info.height = size
    return ArrayReader(cube, info), Labels(arr, classes, source=labels.source)


def priced(energy: dict) -> dict:
    """Every convention and view under both published tables, plus the sensitivity variants (headline only)."""
    out = {}
    for name, table in list(TABLES.items()) + list(SENSITIVITY.items()):
        e = reprice(energy, table)
        out[name] = {c: {**{v: e["conventions"][c][v]["ratios"] for v in ("per_patch", "per_map_pixel")},
                         "per_patch_pj": e["conventions"][c]["per_patch"]["totals_pj"],
                         "per_map_pixel_pj": e["conventions"][c]["per_map_pixel"]["totals_pj"]}
                     for c in CONVENTIONS}
        out[name]["first_layer_share"] = e["first_layer_share"]
        out[name]["by_kind_pj"] = e["by_kind_pj"]
    return out


def acc(a):
    return None if a is None else {"oa": a.oa, "aa": a.aa, "kappa": a.kappa,
                                   "per_class_pa": [float(x) for x in a.producers]}


def train_row(reader, labels, cfg, label: str, checkpoint_dir=None, given_map=None) -> dict:
    t0 = time.perf_counter()
    out = pipeline.train(reader, labels, cfg, checkpoint_dir=checkpoint_dir, given_map=given_map)
    e = out.energy
    best_val = out.model.meta["metrics"]["best_val"]
    return {"label": label, "arch": cfg.model.arch, "train_fraction": cfg.split.train_fraction,
            "split": cfg.split.method, "seed": cfg.train.seed, "time_steps": cfg.train.time_steps,
            "weight_bits": cfg.train.weight_bits, "cnn_qat": cfg.train.cnn_qat, "input_bits": cfg.model.input_bits,
            "leak_mode": cfg.train.leak_mode, "spike_penalty": cfg.train.spike_penalty,
            "membrane_bits": cfg.train.membrane_bits,
            "first_kernel": cfg.model.first_spatial_kernel, "conv3d_channels": list(cfg.model.conv3d_channels),
            "epochs": [cfg.train.cnn_epochs, cfg.train.snn_epochs],
            "snn": acc(out.test_snn), "cnn": acc(out.test_cnn), "equivalent_ann": acc(out.test_equivalent_ann),
            "equivalent_ann_bits": e["widths"]["equivalent_ann_activation_bits"],
            "memory": {flow: {k: d[k] for k in ("pj", "ratios", "compute_plus_memory_ratios")}
                       for flow, d in e["memory"]["dataflows"].items()},
            "val_oa": best_val.get("snn"), "val_oa_cnn": best_val.get("cnn"),
            "spike_rates": {l["name"]: l["spike_rate"] for l in e["layers"] if l["spike_rate"] is not None},
            "leaks": e["leaks"],
            "energy_layers": [{k: l.get(k) for k in ("name", "cnn_macs", "fc_cnn_macs", "acs", "fc_acs", "spikes",
                                                     "spike_rate", "leak", "leak_kind", "snn_ops", "pj")}
                              for l in e["layers"]],
            "energy": priced(e),
            "val_energy": {c: out.val_energy["conventions"][c]["per_patch"]["ratios"] for c in CONVENTIONS}
            if out.val_energy else None,
            "stage_seconds": out.seconds, "wall_s": time.perf_counter() - t0, "resumed": out.resumed,
            "split_protocol": out.model.meta.get("split_protocol", {}).get("description"),
            "commit": common.machine()["commit"], "defaults_note": common.DEFAULTS_NOTE,
            "_model": out.model, "_outcome": out}


VARIANTS = {
    "reduction": ("bins 30", lambda cfg: setattr(cfg.preprocess, "spectral_reduction", "bins"), {"reduction": "bins"}),
    "mixup": ("mixup 0.4", lambda cfg: setattr(cfg.train, "mixup", 0.4), {"mixup": 0.4}),
}
"""Sections that change one headline setting (label, change, fields added to each row): spectral binning instead
of PCA; mixup, the regulariser that bench/grouped_screen.py chose on validation data of the polygon split."""

DEFAULT_SECTIONS = ("front", "equivalent_ann", "baselines", "spatial", "ten_percent", "sweeps", "reduction", "mixup", "speed", "memory",
                    "onnx", "dask")
"""What `make bench` runs (about 3 hours on 2 cores; docs/results.md's cost table gives the measured time)."""


def strip(row):
    return {k: v for k, v in row.items() if not k.startswith("_")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "docs" / "results.json"))
    ap.add_argument("--md", default=str(ROOT / "docs" / "results.md"))
    ap.add_argument("--data-dir", action="append", default=None,
                    help="folders holding fetched scenes (default: data/, ../shared/data/<scene>)")
    ap.add_argument("--only", action="append", help="run only these sections")
    ap.add_argument("--memory-size", type=int, default=None, help="edge of the large memory-test raster")
    ap.add_argument("--resume", action="store_true",
                    help="keep the rows already in --out (same settings) and run only the missing ones")
    ap.add_argument("--front", choices=("headline", "full", "default", "levers", "chosen"), default="headline",
                    help="front candidates to train: headline (default, the efficient preset and the 3x3 first layer; "
                         "`make bench`), full (every lever; chooses the preset; `make bench-front`), default (the default's rows "
                         "alone), levers (issue 22's levers alone, `make bench-levers`) or chosen (the candidate the `efficient` "
                         "rule chose, bench/front_validation.py)")
    ap.add_argument("--arch", choices=("hybrid", "3d", "all"), default="hybrid",
                    help="networks of the spatial and 10 %% rows: hybrid (`make bench`), 3d (`make bench-3d`) or all")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads for training and the speed row (0: torch's default); 1 leaves a core free")
    args = ap.parse_args(argv)
    common.THREADS = args.threads
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    q = args.quick
    res = Results(Path(args.out), q, Path(args.md), resume=args.resume)
    # `make bench` runs DEFAULT_SECTIONS; the 3-D network's rows and the grouped splits are their own targets
    # (`make bench-3d`, `make bench-grouped`: --only); quick mode runs everything (the wiring test)
    want = lambda s: s in args.only if args.only else (q or s in DEFAULT_SECTIONS)  # noqa: E731
    archs = ["hybrid", "3d"] if args.arch == "all" else [args.arch]
    say = lambda s: print(s, flush=True)  # noqa: E731

    reader, labels = indian_pines()
    if q:
        reader, labels = crop(reader, labels, 64)
    seeds = [0] if q else [0, 1, 2]
    hc = headline_config(quick=q)
    res.set("protocol", {
        "scene": "Indian Pines (bundled sample)" + (" 64x64 crop" if q else ""),
        "splits": "stratified random: 30 % of each class's labelled pixels for training (10 % of those held out "
                  "for validation: early stopping and every choice of settings), the rest for testing; plus a 10 % "
                  "split and a spatially disjoint block split (16 px blocks, leakage guard)",
        "headline_epochs": f"CNN {hc.train.cnn_epochs}, SNN {hc.train.snn_epochs} (as `make demo`), class weighting "
                           f"{hc.train.class_weighting}",
        "sweep_epochs": f"CNN {SWEEP_EPOCHS[0]}, SNN {SWEEP_EPOCHS[1]}" if not q else "1 / 1 (quick)",
        **({"quick_network": f"tiny (smoke test only): {common.QUICK_MODEL}"} if q else {}),
        "seeds": seeds,
        "torch_threads": args.threads or ("1 in training (quick), torch's default elsewhere" if q
                                          else "torch's default"),
        "statistics": "mean +/- sample standard deviation (n - 1) over the seeds; the best seed is never the headline",
        "energy": "core/energy/costs.py: paper / reuse / complete conventions (headline complete), per patch and per map "
                  "pixel; weights k-bit, real-valued input and CNN activations costed as 16-bit fixed point, "
                  "accumulators and membranes 16-bit; memory access apart (core/energy/memory.py, its own line); the "
                  "equivalent ANN: ceil(log2(T + 1))-bit activations, the CNN's operations",
        "energy_tables": {k: {kk: vv for kk, vv in v.__dict__.items()} for k, v in TABLES.items()},
        "selection_rule": F.RULE,
    })
    scratch = Path(args.out).parent if q else ROOT / "bench" / "out"
    scratch.mkdir(parents=True, exist_ok=True)
    headline_file = scratch / "headline.hsnn"
    models = {}

    def front_rows():
        from bench import front_choice as FV
        again = None if q else FV.selection(FV.OUT)  # issue 22's re-choice, once all its rows exist
        cands = F.candidates(args.front, q)
        if args.front == "chosen":
            chosen = (again or res.data["sections"].get("selection") or {}).get("chosen")
            cands = [c for c in F.CANDIDATES if c[0] == chosen]
        for seed in seeds:
            for name, settings in cands:
                label = f"{name} | seed {seed}"
                if res.has("front", label):
                    continue
                cfg = F.apply(headline_config("hybrid", 0.3, seed, q), settings)
                say(f"[front] {label}")
                ckpt = scratch / "ckpt" / f"seed{seed}" / F.cnn_group(settings)
                row = train_row(reader, labels, cfg, label, checkpoint_dir=ckpt)
                if name == "default" and seed == 0:
                    models["hybrid"] = row["_model"]
                    row["_model"].save(headline_file)
                res.add("front", dict(strip(row), candidate=name, settings=settings, default=not settings))
        summary = F.summarize(res.data["sections"]["front"])
        res.set("front_summary", summary)
        if all(name in summary for name, _ in (F.QUICK_CANDIDATES if q else F.CANDIDATES)):
            sel, before = F.select(summary), res.data["sections"].get("selection") or {}
            if sel["chosen"] is None and before.get("chosen"):  # rows without validation cannot re-choose:
                sel = dict(before, note=f"kept from the full front; the rule cannot be re-applied, as {sel['note']}")
            res.set("selection", sel)  # the rule needs the whole front; a headline run keeps it
        if again:  # the front's own rule has no validation pixels under the current defaults
            res.set("selection", again)

    def headline_model():
        model = models.get("hybrid")
        if model is None and headline_file.is_file():
            from hypersnn.core.models.torch_model import HyperSNNModel
            model = HyperSNNModel.load(headline_file)  # the default seed-0 front row's model
        if model is None:
            model = train_row(reader, labels, headline_config("hybrid", 0.3, 0, q), "model")["_model"]
        models["hybrid"] = model
        return model

    if want("front"):
        front_rows()

    if want("equivalent_ann"):
        from bench.equivalent_ann import equivalent_ann_rows
        for row in equivalent_ann_rows(reader, labels, seeds, q, res.data["sections"].get("selection"), train_row,
                                       headline_config, lambda label: res.has("equivalent_ann", label), scratch, say):
            res.add("equivalent_ann", strip(row))

    if want("headline_3d"):
        for seed in seeds:
            label = f"3d | seed {seed}"
            if not res.has("headline_3d", label):
                say(f"[headline_3d] {label}")
                res.add("headline_3d", strip(train_row(reader, labels, headline_config("3d", 0.3, seed, q), label)))

    if want("baselines") or want("spatial"):
        from bench.baselines import run_baselines
        from hypersnn.core.data.splits import make_split
        methods = (["random"] if want("baselines") else []) + (["blocks"] if want("spatial") else [])
        for method in methods:
            section = "baselines" if method == "random" else "spatial"
            cfg = headline_config("hybrid", 0.3, 0, q)
            cfg.split.method = method
            sp = make_split(labels.array, cfg.split, valid_mask=None, patch_size=cfg.model.patch_size)
            if not any("model" in r for r in res.data["sections"].get(section, [])):
                say(f"[baselines] {method} split")
                for row in run_baselines(reader, labels, sp):
                    row["split"] = sp.protocol.get("description")
                    res.add(section, row)
            if method == "blocks":
                for arch in ["hybrid"] if q else archs:
                    if not res.has("spatial", f"SNN {arch} blocks"):
                        cfg.model.arch = arch
                        say(f"[spatial] SNN {arch}")
                        res.add("spatial", strip(train_row(reader, labels, cfg, f"SNN {arch} blocks")))

    if want("grouped"):
        from bench.grouped import grouped_rows
        for row in grouped_rows(reader, labels, seeds, q, train_row, headline_config,
                                lambda label: res.has("grouped", label), say):
            res.add("grouped", strip(row))

    if want("ten_percent") and not q:
        for arch in archs:
            label = f"{arch} 10% seed 0"
            if not res.has("ten_percent", label):
                say(f"[ten_percent] {label}")
                res.add("ten_percent", strip(train_row(reader, labels, headline_config(arch, 0.1, 0, q), label)))

    if want("sweeps"):
        # T=2, 3 and 5 at 6 bits are front rows at full epochs
        variants = [(5, 6)] if q else [(1, 6), (8, 6), (5, 4), (5, 8), (5, 0)]
        for T, bits in variants:
            label = f"hybrid T={T} b={bits or 'FP'}"
            if res.has("sweeps", label):
                continue
            cfg = headline_config("hybrid", 0.3, 0, q)
            if not q:
                cfg.train.cnn_epochs, cfg.train.snn_epochs = SWEEP_EPOCHS
            cfg.train.time_steps, cfg.train.weight_bits, cfg.train.cnn_qat = T, bits, bits != 0
            say(f"[sweeps] {label}")
            res.add("sweeps", strip(train_row(reader, labels, cfg, label,
                                              checkpoint_dir=scratch / "ckpt" / f"sweep-b{bits}")))

    for section, (name, change, extra) in VARIANTS.items():
        # one setting changed from the headline settings, full epochs, the headline seeds; the rows without it
        # are the front's default rows; the choice goes by validation OA (bench/report.py variant_lines)
        if not want(section):
            continue
        for seed in seeds:
            label = f"{name} | seed {seed}"
            if res.has(section, label):
                continue
            cfg = headline_config("hybrid", 0.3, seed, q)
            change(cfg)
            say(f"[{section}] {label}")
            res.add(section, dict(strip(train_row(reader, labels, cfg, label)), **extra))

    if want("speed") and "speed" not in res.data["sections"]:
        from bench.speed import fc_vs_patchwise
        say("[speed] fully convolutional vs patch by patch")
        res.set("speed", fc_vs_patchwise(headline_model(), reader, max_patch_pixels=None if q else 4000,
                                            repeats=3 if q else 1))

    if want("memory"):
        sizes = [m for m in ([64, 128] if q else [1000, args.memory_size or 4000]) if not res.has("memory", m, "size")]
        if sizes:
            import tempfile
            from bench.memory import classify_peak_memory, make_large_geotiff
            with tempfile.TemporaryDirectory(dir=str(scratch)) as tmp:
                mp = Path(tmp) / "model.hsnn"
                headline_model().save(mp)
                cube = reader.read()
                for size in sizes:
                    say(f"[memory] {size} x {size} x {cube.shape[2]} int16")
                    t0 = time.perf_counter()
                    tif = make_large_geotiff(Path(tmp) / f"big{size}.tif", size, cube, reader.info)
                    gen_s = time.perf_counter() - t0
                    m = classify_peak_memory(mp, tif, Path(tmp) / f"class{size}.tif")
                    res.add("memory", {"size": size, "bands": cube.shape[2], "input_gb": tif.stat().st_size / 1e9,
                                       "window": ClassifyConfig().window, "gdal_cachemax_mb": 256,
                                       "generate_s": gen_s, **m, "pixels_per_s": size * size / m["seconds"]})
                    tif.unlink()

    if want("onnx") and "onnx" not in res.data["sections"]:
        import tempfile
        from bench.memory import make_large_geotiff
        from bench.onnx_engine import onnx_vs_torch
        from hypersnn.core.data.scenes import sample_scene_paths
        size = 128 if q else 1000
        with tempfile.TemporaryDirectory(dir=str(scratch)) as tmp:
            mp = Path(tmp) / "model.hsnn"
            headline_model().save(mp)
            scene_tif = sample_scene_paths()["raster"]
            say(f"[onnx] torch vs ONNX Runtime: agreement on the scene, speed and memory on {size} x {size}")
            big = make_large_geotiff(Path(tmp) / "big.tif", size, reader.read(), reader.info)
            # agreement on the whole bundled scene (quick: on the generated raster, from the crop it trained on)
            res.set("onnx", onnx_vs_torch(mp, big if q else scene_tif, big, Path(tmp), repeats=1 if q else 2))

    if want("dask") and "dask" not in res.data["sections"]:
        import tempfile
        from bench.dask_bench import dask_rows
        from bench.memory import make_large_geotiff
        size = 96 if q else 320
        with tempfile.TemporaryDirectory(dir=str(scratch)) as tmp:
            mp = Path(tmp) / "model.hsnn"
            headline_model().save(mp)
            say(f"[dask] one process vs Dask local:1 and local:2 on {size} x {size}, windows 64-512")
            big = make_large_geotiff(Path(tmp) / "dask.tif", size, reader.read(), reader.info)
            res.set("dask", dask_rows(mp, big, Path(tmp) / "out", q))

    for name, scene in (("pavia_university", "Pavia University"), ("salinas", "Salinas")):
        if q or not want("other_scenes"):
            continue
        r2, l2 = other_scene(name, args.data_dir or [ROOT / "data", SHARED / name])
        if r2 is None:
            res.add("other_scenes", {"scene": scene, "skipped": l2})
            say(f"[other_scenes] {scene} skipped: {l2}")
            continue
        res.add("other_scenes", dict(strip(train_row(r2, l2, headline_config("hybrid", 0.3, 0, q), f"{scene} hybrid")),
                                     scene=scene))

    res.finish()
    say(f"results: {args.out}\ntable: {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
