"""`make bench`: reproduce the Hyper-SNN table on Indian Pines, with baselines, speed and memory.

Writes docs/results.json (after every row) and docs/results.md; the README's bench block is rewritten from
the JSON by `make results`. `--quick` runs every section on a
crop with one epoch per stage (minutes; tests/test_bench.py runs it so the bench cannot rot).
Reduced epochs are used for the sweeps (stated in the output).
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

from bench.common import SHARED, Results, headline_config, indian_pines, other_scene  # noqa: E402
from hypersnn.core import pipeline  # noqa: E402
from hypersnn.core.energy import TABLES, energy_report  # noqa: E402
from hypersnn.core.config import ClassifyConfig  # noqa: E402
from hypersnn.core.raster import ArrayReader  # noqa: E402

# (label, ModelConfig overrides, spike-rate penalty weight); the first is the default configuration
FRONT_VARIANTS = [
    ("default: first layer 1x1, conv3d [8,16] kernels [7,5]", {}, 0.0),
    ("spike penalty 0.5", {}, 0.5),
    ("spike penalty 2", {}, 2.0),
    ("spike penalty 8", {}, 8.0),
    ("first layer 3x3 (Hyper-SNN style)", {"first_spatial_kernel": 3}, 0.0),
    ("first layer 3x3 + spike penalty 2", {"first_spatial_kernel": 3}, 2.0),
    ("first layer 1x1, 4 channels", {"conv3d_channels": [4, 16]}, 0.0),
]
SWEEP_EPOCHS = (8, 3)  # CNN, SNN epochs of the front and sweep rows (headline rows use the demo's settings)


def crop(reader, labels, size):
    """Top-left size x size crop (quick mode), dropping classes too rare to split."""
    from hypersnn.core.labels import Labels
    cube = reader.read((0, 0, size, size))
    arr = labels.array[:size, :size].copy()
    for c in labels.classes:
        if (arr == c.value).sum() < 10:
            arr[arr == c.value] = 0
    classes = [c for c in labels.classes if (arr == c.value).any()]
    info = copy.deepcopy(reader.info)
    info.width = info.height = size
    return ArrayReader(cube, info), Labels(arr, classes, source=labels.source)


def both_tables(energy: dict) -> dict:
    counts = {"layers": energy["layers"], "time_steps": energy["time_steps"], "pixels": energy["pixels_measured"]}
    out = {}
    for name, table in TABLES.items():
        e = energy_report(counts, energy["bits"], table)
        out[name] = {"totals_pj": e["totals"], "ratios": e["ratios"],
                     "snn_first_layer_share": e["layers"][0]["snn_energy_pj"] / max(e["totals"]["snn_pj"], 1e-30)}
    return out


def acc(a):
    return None if a is None else {"oa": a.oa, "aa": a.aa, "kappa": a.kappa,
                                   "per_class_pa": [float(x) for x in a.producers]}


def train_row(reader, labels, cfg, label: str) -> dict:
    t0 = time.perf_counter()
    out = pipeline.train(reader, labels, cfg)
    e = out.energy
    return {"label": label, "arch": cfg.model.arch, "train_fraction": cfg.split.train_fraction,
            "split": cfg.split.method, "seed": cfg.train.seed, "time_steps": cfg.train.time_steps,
            "weight_bits": cfg.train.weight_bits, "cnn_qat": cfg.train.cnn_qat,
            "epochs": [cfg.train.cnn_epochs, cfg.train.snn_epochs],
            "snn": acc(out.test_snn), "cnn": acc(out.test_cnn),
            "spike_rates": {l["name"]: l["spike_rate"] for l in e["layers"] if l["spike_rate"] is not None},
            "energy_layers": [{k: l[k] for k in ("name", "cnn_macs", "snn_macs", "snn_acs", "spike_rate",
                                                  "snn_energy_pj", "cnn_fp_energy_pj", "cnn_q_energy_pj")}
                              for l in e["layers"]],
            "energy": both_tables(e), "stage_seconds": out.seconds, "wall_s": time.perf_counter() - t0,
            "split_protocol": out.model.meta.get("split_protocol", {}).get("description"),
            "_model": out.model, "_split": None}


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
    args = ap.parse_args(argv)
    q = args.quick
    res = Results(Path(args.out), q, Path(args.md), resume=args.resume)
    want = lambda s: not args.only or s in args.only  # noqa: E731
    say = lambda s: print(s, flush=True)  # noqa: E731

    reader, labels = indian_pines()
    if q:
        reader, labels = crop(reader, labels, 64)
    archs = ["hybrid"] if q else ["hybrid", "3d"]
    fractions = [0.3] if q else [0.3, 0.1]
    seeds = [0] if q else [0, 1, 2]
    res.set("protocol", {
        "scene": "Indian Pines (bundled sample)" + (" 64x64 crop" if q else ""),
        "splits": "stratified random, fractions " + ", ".join(f"{int(100 * f)} %" for f in fractions)
                  + " of each class's labelled pixels for training (10 % of those held out for validation), "
                    "the rest for testing; plus a spatially disjoint block split (16 px blocks, leakage guard)",
        "headline_epochs": (lambda c: f"CNN {c.train.cnn_epochs}, SNN {c.train.snn_epochs} (as `make demo`), "
                                      f"class weighting {c.train.class_weighting}")(headline_config(quick=q)),
        "sweep_epochs": f"CNN {SWEEP_EPOCHS[0]}, SNN {SWEEP_EPOCHS[1]}" if not q else "1 / 1 (quick)",
        "seeds": seeds, "spike_rate_penalty": "0 (off) except in the accuracy-energy front section; loss: cross-entropy "
                                               "with sqrt-inverse class weights",
        "energy_tables": {k: {kk: vv for kk, vv in v.__dict__.items()} for k, v in TABLES.items()},
    })

    headline = {}
    # scratch for model files and large generated rasters: bench/out (ignored by git), or beside a quick run's output
    scratch = Path(args.out).parent if q else ROOT / "bench" / "out"
    scratch.mkdir(parents=True, exist_ok=True)
    headline_file = scratch / "headline.hsnn"

    def paper_rows(frac):
        for arch in archs:
            for bits, qat in ((6, True), (0, False)):
                cfg = headline_config(arch, frac, 0, q)
                cfg.train.weight_bits, cfg.train.cnn_qat = bits, qat
                label = f"{arch} {int(100 * frac)}% {bits or 'FP'}"
                if res.has("paper_table", label):
                    continue
                say(f"[paper_table] {arch} {int(100 * frac)} % bits={bits or 'FP'}")
                row = train_row(reader, labels, cfg, label)
                if frac == fractions[0] and bits == 6:
                    headline[arch] = row
                    if arch == "hybrid":
                        row["_model"].save(headline_file)
                res.add("paper_table", strip(row))

    def headline_model():
        model = headline.get("hybrid", {}).get("_model")
        if model is None and args.resume and res.has("paper_table", "hybrid 30% 6") and headline_file.is_file():
            from hypersnn.core.model import HyperSNNModel
            model = HyperSNNModel.load(headline_file)  # the headline row's model, saved when it was trained
            headline.setdefault("hybrid", {})["_model"] = model
        if model is None:
            model = train_row(reader, labels, headline_config("hybrid", fractions[0], 0, q), "model")["_model"]
            headline.setdefault("hybrid", {})["_model"] = model
        return model

    def memory(sizes):
        if not sizes:
            return
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

    # most informative sections first: a long run that is stopped keeps them (results are saved per row)
    if want("paper_table"):
        paper_rows(fractions[0])

    if want("front"):
        # accuracy-energy front: the first layer (analog MACs) dominates the SNN's energy, so vary its width and
        # spectral kernel; and a spike-rate penalty (core/train.spike_cost) that trades accuracy for sparsity
        for name, model, lam in FRONT_VARIANTS[:2] if q else FRONT_VARIANTS:
            cfg = headline_config("hybrid", fractions[0], 0, q)
            if not q:
                cfg.train.cnn_epochs, cfg.train.snn_epochs = SWEEP_EPOCHS
            for k, v in model.items():
                setattr(cfg.model, k, v)
            cfg.train.spike_penalty = lam
            if res.has("front", name):
                continue
            say(f"[front] {name}")
            row = strip(train_row(reader, labels, cfg, name))
            row.update(variant=name, model=dict(model), spike_penalty=lam, default=not model and lam == 0)
            res.add("front", row)

    if want("speed") and "speed" not in res.data["sections"]:
        from bench.speed import fc_vs_patchwise
        say("[speed] fully convolutional vs patch by patch")
        res.set("speed", fc_vs_patchwise(headline_model(), reader, max_patch_pixels=None if q else 4000))

    if want("memory"):
        sizes = [160, 320] if q else [1000, args.memory_size or 4000]
        memory([m for m in sizes if not res.has("memory", m, "size")])

    if want("baselines") or want("spatial"):
        from bench.baselines import run_baselines
        from hypersnn.core.splits import make_split
        methods = ((["random"] if want("baselines") and "baselines" not in res.data["sections"] else [])
                   + (["blocks"] if want("spatial") and "spatial" not in res.data["sections"] else []))
        for method in methods:
            cfg = headline_config("hybrid", fractions[0], 0, q)
            cfg.split.method = method
            sp = make_split(labels.array, cfg.split, valid_mask=None, patch_size=cfg.model.patch_size)
            say(f"[baselines] {method} split")
            for row in run_baselines(reader, labels, sp):
                row["split"] = sp.protocol.get("description")
                res.add("baselines" if method == "random" else "spatial", row)
            if method == "blocks":
                for arch in archs:
                    cfg.model.arch = arch
                    say(f"[spatial] SNN {arch}")
                    res.add("spatial", strip(train_row(reader, labels, cfg, f"SNN {arch} blocks")))

    if want("seeds"):
        for arch in archs:
            for seed in seeds[1:]:
                cfg = headline_config(arch, fractions[0], seed, q)
                if res.has("seeds", f"{arch} seed {seed}"):
                    continue
                say(f"[seeds] {arch} seed {seed}")
                res.add("seeds", strip(train_row(reader, labels, cfg, f"{arch} seed {seed}")))

    if want("paper_table"):
        for frac in fractions[1:]:
            paper_rows(frac)

    if want("sweeps"):
        ts = [1, 5] if q else [1, 2, 3, 5, 8]
        bl = [6] if q else [4, 6, 8, 0]
        for arch in archs:
            for T in ts:
                for bits in bl:
                    if T != 5 and bits != 6:
                        continue
                    cfg = headline_config(arch, fractions[0], 0, q)
                    if not q:
                        cfg.train.cnn_epochs, cfg.train.snn_epochs = SWEEP_EPOCHS
                    cfg.train.time_steps, cfg.train.weight_bits = T, bits
                    cfg.train.cnn_qat = bits != 0
                    label = f"{arch} T={T} b={bits or 'FP'}"
                    if res.has("sweeps", label):
                        continue
                    same = [r for r in res.data["sections"].get("front", []) if r.get("default")]
                    if arch == "hybrid" and T == 5 and bits == 6 and same and not q:
                        # the front's default row is this very configuration at the same epochs
                        res.add("sweeps", dict(same[0], label=label, note="same run as the front's default row"))
                        continue
                    say(f"[sweeps] {arch} T={T} bits={bits or 'FP'}")
                    res.add("sweeps", strip(train_row(reader, labels, cfg, label)))


    for name, scene in (("pavia_university", "Pavia University"), ("salinas", "Salinas")):
        if q or not want("other_scenes"):
            continue
        r2, l2 = other_scene(name, args.data_dir or [ROOT / "data", SHARED / name])
        if r2 is None:
            res.add("other_scenes", {"scene": scene, "skipped": l2})
            say(f"[other_scenes] {scene} skipped: {l2}")
            continue
        cfg = headline_config("hybrid", fractions[0], 0, q)
        res.add("other_scenes", dict(strip(train_row(r2, l2, cfg, f"{scene} hybrid")), scene=scene))

    res.finish()
    say(f"results: {args.out}\ntable: {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
