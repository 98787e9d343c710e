"""`hypersnn` command line: train, classify, evaluate, report, demo, info, datasets.

Runs outside QGIS, so it reads and writes rasters through rasterio (core/io_rasterio.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .config import PRESET_NOTES, PRESETS, RunConfig, apply_preset
from .errors import Canceled, HyperSNNError, InputError

EPILOG = """examples:
  hypersnn demo                                   # Indian Pines sample: train, classify, report
  hypersnn train --raster scene.tif --polygons training.gpkg --class-field class \\
                 --out model.hsnn --time-steps 5 --bits 6
  hypersnn classify --model model.hsnn --raster scene.tif --out classes.tif --confidence conf.tif
  hypersnn evaluate --map classes.tif --labels reference.tif
  hypersnn info model.hsnn
"""


# -- shared options -------------------------------------------------------------------------------
def _add_labels_args(p, required=True):
    g = p.add_argument_group("reference / training labels (one of)")
    g.add_argument("--labels", help="label raster on the image grid (0 or nodata = unlabelled)")
    g.add_argument("--polygons", help="polygon layer (GeoPackage, Shapefile, ...) with a class field; "
                                      "reprojected to the raster's CRS when needed")
    g.add_argument("--class-field", help="attribute holding the class (integer id or text name)")
    g.add_argument("--layer", help="layer name inside a multi-layer vector file")
    g.add_argument("--classes", help="JSON class table [{value, name, color}] for names and colours")
    p.set_defaults(_labels_required=required)


def _add_train_args(p):
    g = p.add_argument_group("bands")
    g.add_argument("--bands", help='1-based band ranges to use, e.g. "1-103,109-149"')
    g.add_argument("--wavelengths", help='wavelength windows to use, e.g. "400-1340nm,1450-1800nm" or "0.4-1.3um"')
    g.add_argument("--keep-bad-bands", action="store_true", help="do not drop bands flagged bad (bbl=0)")
    g = p.add_argument_group("split (train / validation / test)")
    g.add_argument("--split", choices=["random", "count", "blocks", "polygons", "given"],
                   help="random: stratified fraction; count: N pixels per class; blocks: spatially disjoint "
                        "squares; polygons: whole polygons; given: a map (1=train, 2=test)")
    g.add_argument("--train-fraction", type=float, help="share of each class for training (random/blocks/polygons)")
    g.add_argument("--train-count", type=int, help="training pixels per class (count)")
    g.add_argument("--val-fraction", type=float, help="share of training pixels held out for early stopping")
    g.add_argument("--block-size", type=int, help="block edge in pixels (blocks)")
    g.add_argument("--split-map", help="raster with 1 = train, 2 = test (split=given)")
    g = p.add_argument_group("preprocessing and model")
    g.add_argument("--pca", type=int, help="principal components to keep (0 = none)")
    g.add_argument("--no-standardize", action="store_true", help="skip per-band standardisation")
    g.add_argument("--arch", choices=["hybrid", "3d"], help="hybrid 3-D/2-D CNN or 3-D CNN")
    g.add_argument("--patch-size", type=int, help="odd patch edge in pixels")
    g.add_argument("--first-kernel", type=int, choices=[1, 3],
                   help="spatial kernel of the first layer (1 = per-pixel spectral filters, fewer analog MACs)")
    g.add_argument("--input-bits", type=int,
                   help="read the input as k-bit integers (2..16; 0 = real-valued): cheaper first-layer multiplies")
    g = p.add_argument_group("training")
    g.add_argument("--preset", choices=sorted(PRESETS),
                   help="a named bundle of settings, applied before the other flags: " +
                        "; ".join(f"{k}: {v}" for k, v in PRESET_NOTES.items()))
    g.add_argument("--time-steps", type=int, help="SNN time steps T")
    g.add_argument("--bits", type=int, help="weight bits 2..16, 0 = full precision")
    g.add_argument("--cnn-epochs", type=int)
    g.add_argument("--snn-epochs", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--patience", type=int, help="early-stopping patience in epochs (0 = off)")
    g.add_argument("--class-weighting", choices=["none", "sqrt_inverse", "inverse"],
                   help="weight rare classes up in the loss (raises the average accuracy)")
    g.add_argument("--spike-penalty", type=float,
                   help="weight of the spike-rate term in the SNN loss (trades accuracy for energy; 0 = off)")
    g.add_argument("--leak-mode", choices=["trained", "pow2", "none"],
                   help="membrane leak: trained (any value in [0, 1]), pow2 (trained, applied as 1 - 2^-n: a shift "
                        "and an add instead of a multiply) or none (integrate-and-fire)")
    g.add_argument("--seed", type=int, help="fixes split, initialisation and training order")
    g.add_argument("--threads", type=int, help="CPU threads for torch")
    g.add_argument("--checkpoint-dir", help="stage checkpoints; a rerun with the same settings resumes")


_FLAG_MAP = {
    "bands": ("bands", "indices"), "wavelengths": ("bands", "wavelength_windows"),
    "split": ("split", "method"), "train_fraction": ("split", "train_fraction"),
    "train_count": ("split", "train_count"), "val_fraction": ("split", "val_fraction"),
    "block_size": ("split", "block_size"), "pca": ("preprocess", "pca_components"),
    "arch": ("model", "arch"), "patch_size": ("model", "patch_size"),
    "first_kernel": ("model", "first_spatial_kernel"),
    "time_steps": ("train", "time_steps"), "bits": ("train", "weight_bits"),
    "cnn_epochs": ("train", "cnn_epochs"), "snn_epochs": ("train", "snn_epochs"),
    "batch_size": ("train", "batch_size"), "patience": ("train", "patience"),
    "seed": ("train", "seed"), "threads": ("train", "threads"), "class_weighting": ("train", "class_weighting"),
    "spike_penalty": ("train", "spike_penalty"), "leak_mode": ("train", "leak_mode"),
    "input_bits": ("model", "input_bits"),
    "window": ("classify", "window"), "mode": ("classify", "mode"),
}


def config_from_args(args, base: RunConfig = None) -> RunConfig:
    """Config file first (if any), then flags on top."""
    cfg = RunConfig.load(args.config) if getattr(args, "config", None) else (base or RunConfig())
    if getattr(args, "preset", None):
        apply_preset(cfg, args.preset)
    for flag, (section, name) in _FLAG_MAP.items():
        v = getattr(args, flag, None)
        if v is not None:
            setattr(getattr(cfg, section), name, v)
    if getattr(args, "keep_bad_bands", False):
        cfg.bands.drop_bad_bands = False
    if getattr(args, "no_standardize", False):
        cfg.preprocess.standardize = False
    if getattr(args, "seed", None) is not None:
        cfg.split.seed = args.seed
    return cfg.validate()


def load_labels(args, info):
    from . import io_rasterio as io
    from .labels import labels_from_array, labels_from_polygons, read_class_table

    if bool(args.labels) == bool(args.polygons):
        raise InputError("give exactly one of --labels (label raster) or --polygons (vector layer)")
    table = {c.value: c for c in read_class_table(args.classes)} if args.classes else {}
    if args.labels:
        r = io.open_raster(args.labels)
        try:
            if (r.info.height, r.info.width) != (info.height, info.width):
                raise InputError(f"label raster {args.labels} is {r.info.height} x {r.info.width} pixels but the "
                                 f"image is {info.height} x {info.width}: use a label raster on the image grid, "
                                 f"or polygons (--polygons), which are rasterized onto it")
            arr = r.read(None, [0])[:, :, 0]
            names, colors = io.read_class_metadata(args.labels)
        finally:
            r.close()
        names = {**names, **{v: c.name for v, c in table.items()}}
        colors = {**colors, **{v: c.color for v, c in table.items()}}
        return labels_from_array(arr, names, colors, nodata=r.info.nodata, source=args.labels)
    if not args.class_field:
        raise InputError("--polygons needs --class-field (the attribute holding the class)")
    feats = io.read_polygons(args.polygons, args.class_field, info.crs_wkt, layer=args.layer)
    labels = labels_from_polygons(feats, info, io.rasterize, source=args.polygons)
    if table:
        for c in labels.classes:
            if c.value in table:
                c.color = table[c.value].color
    return labels


def _progress_bar(enabled: bool):
    """tqdm on a terminal, silent otherwise (and in --json mode)."""
    if not enabled:
        return lambda f, m: None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=1000, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
               file=sys.stderr, dynamic_ncols=True)

    def progress(f, m):
        bar.n = int(1000 * min(max(f, 0.0), 1.0))
        bar.set_description_str(m[:40], refresh=False)
        bar.refresh()

    return progress, bar.close


def _emit(args, human: str, data: dict):
    if getattr(args, "json", False):
        from .report import to_jsonable
        print(json.dumps(to_jsonable(data), indent=1))
    else:
        print(human)


def _acc_line(a) -> str:
    return f"OA {100 * a.oa:.2f} %  AA {100 * a.aa:.2f} %  kappa {100 * a.kappa:.2f}"


def _energy_lines(e) -> str:
    from .energy import energy_lines
    return "\n".join(energy_lines(e))


# -- commands -------------------------------------------------------------------------------------
def cmd_train(args):
    from . import io_rasterio as io
    from .pipeline import train
    from .report import write_report

    cfg = config_from_args(args)
    reader = io.open_raster(args.raster)
    try:
        labels = load_labels(args, reader.info)
        given = None
        if args.split_map:
            sm = io.open_raster(args.split_map)
            given = sm.read(None, [0])[:, :, 0]
            sm.close()
        progress, done = _progress_bar(not args.json and not args.quiet)
        log = (lambda s: None) if (args.json or args.quiet) else (lambda s: print(s, file=sys.stderr))
        try:
            out = train(reader, labels, cfg, args.out, progress=progress, checkpoint_dir=args.checkpoint_dir,
                        given_map=given, log=log, provenance={"command": "hypersnn train"})
        finally:
            done()
    finally:
        reader.close()
    paths = {}
    if args.report_dir:
        Path(args.report_dir).mkdir(parents=True, exist_ok=True)
        paths = write_report(args.report_dir, Path(args.out).stem + "_report", out.report,
                             classes=out.model.classes)
    lines = [f"model written: {args.out}"]
    if out.test_snn:
        lines.append(f"SNN test accuracy: {_acc_line(out.test_snn)}")
    if out.test_cnn:
        lines.append(f"CNN test accuracy: {_acc_line(out.test_cnn)}")
    lines.append(_energy_lines(out.energy))
    _emit(args, "\n".join(lines), {"model": args.out, "report": out.report, "report_files": paths})
    return 0


def cmd_classify(args):
    from . import io_rasterio as io
    from .config import ClassifyConfig
    from .model import HyperSNNModel
    from .predict import classify_raster

    model = HyperSNNModel.load(args.model)
    reader = io.open_raster(args.raster)
    ccfg = ClassifyConfig(window=args.window or 128, mode=args.mode or "snn",
                          probabilities=bool(args.probabilities))
    progress, done = _progress_bar(not args.json and not args.quiet)
    try:
        res = classify_raster(model, reader, io.RasterioWriter, args.out, args.confidence, args.probabilities,
                              ccfg, progress=progress, energy_path=args.energy_map)
    finally:
        done()
        reader.close()
    lines = [f"class map written: {res.class_path}"]
    if res.confidence_path:
        lines.append(f"confidence written: {res.confidence_path}")
    if res.energy_path:
        e = res.energy
        lines.append(f"energy map written: {res.energy_path} (band 1: SNN energy per pixel in pJ, complete "
                     f"convention; band 2: spikes per pixel)")
        lines.append(f"scene SNN energy: {e['snn_mj']:.4f} mJ over {e['pixels']} pixels "
                     f"({e['snn_pj_per_pixel'] / 1e3:.2f} nJ per pixel; complete convention, per map pixel)")
    lines.append(f"{res.valid_pixels} pixels classified in {res.seconds:.1f} s ({res.pixels_per_second:.0f} px/s)")
    _emit(args, "\n".join(lines),
          {"class_map": res.class_path, "confidence": res.confidence_path, "probabilities": res.probabilities_path,
           "energy_map": res.energy_path, "energy": res.energy,
           "pixels": res.pixels, "valid_pixels": res.valid_pixels, "seconds": res.seconds,
           "class_counts": res.class_counts})
    return 0


def cmd_evaluate(args):
    """Compare a class map with reference labels on the same grid."""
    from . import io_rasterio as io
    from .metrics import assess
    from .report import write_report

    mr = io.open_raster(args.map)
    try:
        pred = mr.read(None, [0])[:, :, 0]
        info = mr.info
    finally:
        mr.close()
    labels = load_labels(args, info)
    names, _ = io.read_class_metadata(args.map)
    values = sorted(set(int(c.value) for c in labels.classes) | set(int(v) for v in names))
    a = assess(labels.array, pred.astype("int64"), values, pred_nodata=info.nodata if info.nodata is not None else 0)
    cls_names = {v: names.get(v) or next((c.name for c in labels.classes if c.value == v), f"Class {v}")
                 for v in values}
    report = {"title": f"Accuracy of {Path(args.map).name}", "accuracy": a.to_dict(cls_names),
              "split_protocol": {"description": f"all labelled pixels of {labels.source} used as reference; "
                                                "exclude training pixels for an unbiased estimate"}}
    paths = write_report(args.report_dir, Path(args.map).stem + "_accuracy", report) if args.report_dir else {}
    _emit(args, f"{_acc_line(a)}  ({a.n} reference pixels)", {"accuracy": report["accuracy"], "files": paths})
    return 0


def cmd_report(args):
    """Accuracy (on reference pixels not used in training, when the model knows them) and energy."""
    from . import io_rasterio as io
    from .evaluation import evaluate_model
    from .model import HyperSNNModel
    from .pipeline import build_report
    from .report import write_report

    model = HyperSNNModel.load(args.model)
    reader = io.open_raster(args.raster)
    try:
        labels = load_labels(args, reader.info)
        progress, done = _progress_bar(not args.json and not args.quiet)
        try:
            ev = evaluate_model(model, reader, labels, include_training=args.include_training,
                                energy_table=args.energy_table, progress=progress)
        finally:
            done()
    finally:
        reader.close()
    rep = build_report(model, ev.assessment, None, ev.energy, title=f"HyperSNN report: {Path(args.model).name}")
    rep["split_protocol"] = dict(rep.get("split_protocol", {}),
                                 evaluation=ev.description(Path(args.raster).name, labels.source))
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    paths = write_report(args.out_dir, Path(args.model).stem + "_report", rep, class_map=ev.class_map,
                         classes=model.classes)
    a = ev.assessment
    _emit(args, f"{_acc_line(a)}  ({a.n} reference pixels)\n{_energy_lines(ev.energy)}\nreport: {paths.get('html')}",
          {"report": rep, "files": paths})
    return 0


def cmd_info(args):
    from .model import HyperSNNModel

    m = HyperSNNModel.load(args.model)
    s = m.summary()
    meta = m.meta
    data = {"summary": s, "metrics": meta.get("metrics"), "split_protocol": meta.get("split_protocol"),
            "energy": meta.get("energy"), "created": meta.get("created"), "provenance": meta.get("provenance"),
            "format_version": meta.get("format_version"), "bands": {"indices": m.bands.indices,
                                                                     "wavelengths": m.bands.wavelengths}}
    when = f", created {meta['created']}" if meta.get("created") else ""  # model files hold no date (reproducible)
    lines = [f"HyperSNN model {args.model} (format {meta.get('format_version')}{when})",
             f"  architecture: {s['architecture']}, patch {s['patch_size']}, T={s['time_steps']}, "
             f"weights {s['weight_bits']}{'-bit' if isinstance(s['weight_bits'], int) else ''}",
             f"  input: {s['input_bands']}-band raster, uses bands {s['band_ranges']}"
             + (f" ({s['wavelength_range_nm'][0]:.0f}-{s['wavelength_range_nm'][1]:.0f} nm)"
                if s["wavelength_range_nm"] else ""),
             f"  features after preprocessing: {s['features_after_preprocessing']}",
             f"  classes ({len(s['classes'])}): " + "; ".join(s["classes"])]
    test = (meta.get("metrics") or {}).get("test_snn")
    if test:
        lines.append(f"  test accuracy: OA {100 * test['oa']:.2f} %  AA {100 * test['aa']:.2f} %  "
                     f"kappa {100 * test['kappa']:.2f}")
    if meta.get("split_protocol", {}).get("description"):
        lines.append(f"  split: {meta['split_protocol']['description']}")
    _emit(args, "\n".join(lines), data)
    return 0


def cmd_datasets(args):
    from .scenes import SCENES, fetch

    if args.action == "list":
        _emit(args, "\n".join(f"{k}: {v.title}" for k, v in SCENES.items()),
              {"scenes": list(SCENES)})
        return 0
    urls = {}
    for item in args.url or []:
        role, sep, url = item.partition("=")
        if not sep:
            raise InputError(f"--url takes ROLE=URL (e.g. cube=https://mirror/x.mat), got {item!r}")
        urls[role] = url
    paths = fetch(args.name, args.dest, urls=urls or None)
    _emit(args, "\n".join(f"downloaded and verified: {p}" for p in paths.values()),
          {"files": {k: str(p) for k, p in paths.items()}})
    return 0


def cmd_demo(args):
    from .demo import run_demo

    return run_demo(args.out_dir, quick=args.quick, json_out=args.json, seed=args.seed)


# -- parser ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hypersnn", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Classify hyperspectral images with quantized spiking neural networks (Hyper-SNN). "
                    "Train on a raster and labelled polygons or a label raster, then write a class map, "
                    "a confidence map, and accuracy and energy reports.")
    p.add_argument("--version", action="version", version=f"hypersnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp):
        sp.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
        sp.add_argument("--quiet", action="store_true", help="no progress bar or log")

    t = sub.add_parser("train", help="train a CNN, convert it to an SNN, fine-tune, save one model file",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    t.add_argument("--raster", required=True, help="hyperspectral image (GeoTIFF, ENVI .hdr/.bin, ...)")
    _add_labels_args(t)
    t.add_argument("--out", required=True, help="model file to write (.hsnn)")
    t.add_argument("--config", help="JSON file with settings (see RunConfig); flags override it")
    t.add_argument("--report-dir", help="also write HTML/JSON/CSV reports here")
    _add_train_args(t)
    common(t)
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("classify", help="classify a whole raster with a model file")
    c.add_argument("--model", required=True)
    c.add_argument("--raster", required=True)
    c.add_argument("--out", required=True, help="class map GeoTIFF to write (colour table embedded)")
    c.add_argument("--confidence", help="confidence GeoTIFF (max class probability)")
    c.add_argument("--probabilities", help="per-class probability GeoTIFF (one band per class)")
    c.add_argument("--energy-map", help="GeoTIFF of the SNN's estimated energy per pixel (band 1, pJ, complete "
                                        "convention) and its spikes per pixel (band 2)")
    c.add_argument("--window", type=int, help="window edge in pixels (memory bound; default 128)")
    c.add_argument("--mode", choices=["snn", "cnn"], help="run the SNN (default) or the CNN it came from")
    common(c)
    c.set_defaults(func=cmd_classify)

    e = sub.add_parser("evaluate", help="accuracy of a class map against reference labels")
    e.add_argument("--map", required=True, help="class map GeoTIFF")
    _add_labels_args(e)
    e.add_argument("--report-dir", help="write HTML/JSON/CSV accuracy reports here")
    common(e)
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("report", help="accuracy and energy report of a model on a raster and reference labels")
    r.add_argument("--model", required=True)
    r.add_argument("--raster", required=True)
    _add_labels_args(r)
    r.add_argument("--out-dir", required=True)
    r.add_argument("--include-training", action="store_true",
                   help="also score pixels the model was trained on (biased; off by default)")
    r.add_argument("--energy-table", choices=["horowitz45", "horowitz45_int"],
                   help="per-operation energies: 45 nm with FP32 (default) or INT32 full precision")
    common(r)
    r.set_defaults(func=cmd_report)

    d = sub.add_parser("demo", help="train and classify the bundled Indian Pines sample (5 steps, 6-bit)")
    d.add_argument("--out-dir", default="demo_out")
    d.add_argument("--quick", action="store_true", help="a few epochs only (smoke test)")
    d.add_argument("--seed", type=int, default=0)
    common(d)
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("info", help="describe a model file: bands, classes, time steps, bits, metrics")
    i.add_argument("model")
    common(i)
    i.set_defaults(func=cmd_info)

    ds = sub.add_parser("datasets", help="benchmark scenes: list, or fetch from the canonical source")
    ds.add_argument("action", choices=["list", "fetch"])
    ds.add_argument("name", nargs="?", help="indian_pines | pavia_university | salinas")
    ds.add_argument("--dest", default="data", help="folder to download into")
    ds.add_argument("--url", action="append", metavar="ROLE=URL",
                    help="download a file (role cube or gt) from a mirror instead; checksums still apply")
    common(ds)
    ds.set_defaults(func=cmd_datasets)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "datasets" and args.action == "fetch" and not args.name:
        parser.error("datasets fetch needs a scene name")
    try:
        return args.func(args)
    except Canceled as e:
        print(f"canceled: {e}", file=sys.stderr)
        return 130
    except HyperSNNError as e:
        print(f"hypersnn: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
