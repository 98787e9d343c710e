"""`hypersnn` command line: train, classify, batch, evaluate, sample, report, demo, info, datasets.

A thin front end: argparse (flags generated from the settings registry, core/config/settings.py) plus the rasterio
backend, over the QGIS-free workflows in workflows/. Runs outside QGIS, so rasters go through rasterio.
With --json, stdout holds one JSON object: the result, or {"error": ..., "kind": ...} when the command fails.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Optional

from .core import __version__
from .core.config.schema import PRESET_NOTES, PRESETS, RunConfig, apply_preset
from .core.errors import Canceled, HyperSNNError, InputError
from .core.config.settings import TRAIN_SECTIONS, add_arguments, apply_arguments

EPILOG = """examples:
  hypersnn demo                                   # Indian Pines sample: train, classify, report
  hypersnn train --raster scene.tif --polygons training.gpkg --class-field class \\
                 --out model.hsnn --time-steps 5 --bits 6
  hypersnn classify --model model.hsnn --raster scene.tif --out classes.tif --confidence conf.tif \\
                    --energy-map energy.tif
  hypersnn classify --model model.hsnn --raster scene.tif --out classes.tif --scheduler local:4 --cog
  hypersnn batch --model model.hsnn --out-dir maps/ "scenes/*.tif" --confidence --scheduler tcp://10.0.0.5:8786
  hypersnn evaluate --map classes.tif --labels reference.tif
  hypersnn info model.hsnn
"""
MODEL_HELP = "model file written by hypersnn train (.hsnn)"
WARNING_PREFIX = "warning: "
"""How workflows.callbacks.Callbacks.warn starts a warning's log line."""


# -- shared options -------------------------------------------------------------------------------
def _add_labels_args(p, required=True):
    g = p.add_argument_group("reference / training labels (one of)")
    g.add_argument("--labels", help="label raster on the image grid (0 or nodata = unlabelled)")
    g.add_argument("--polygons", help="polygon or point layer (GeoPackage, Shapefile, ...) with a class field; "
                                      "reprojected to the raster's CRS when needed")
    g.add_argument("--class-field", help="attribute holding the class (integer id or text name)")
    g.add_argument("--layer", help="layer name inside a multi-layer vector file")
    g.add_argument("--classes", help="class names and colours: a JSON class table [{value, name, color}] or a QGIS "
                                     "style file (.qml, categorized or paletted)")
    g.add_argument("--point-buffer", metavar="N[px]",
                   help="grow point labels: '1px' labels the 3 x 3 pixels around each point, '45' the pixels within "
                        "45 map units (e.g. metres) of it; default: the pixel a point falls in")
    p.set_defaults(_labels_required=required)


def point_buffer(text: Optional[str]):
    """(size, unit) from --point-buffer: 'Npx' in pixels, a bare number in map units."""
    if not text:
        return 0.0, "pixels"
    t = text.strip().lower()
    try:
        return (float(t[:-2]), "pixels") if t.endswith("px") else (float(t), "map units")
    except ValueError:
        raise InputError(f"--point-buffer {text!r} is not understood: give e.g. 1px (pixels) or 45 (map units)") from None


def label_source(args):
    from .workflows.backend import LabelSource

    if bool(args.labels) == bool(args.polygons):
        raise InputError("give exactly one of --labels (label raster) or --polygons (vector layer)")
    if args.polygons and not args.class_field:
        raise InputError("--polygons needs --class-field (the attribute holding the class)")
    size, unit = point_buffer(args.point_buffer)
    if size and not args.polygons:
        raise InputError("--point-buffer applies to point labels given with --polygons (a vector file)")
    return LabelSource(path=args.labels or args.polygons, class_field=args.class_field if args.polygons else None,
                       layer=args.layer, class_table=args.classes, point_buffer=size, point_buffer_unit=unit)


def config_from_args(args, base: RunConfig = None) -> RunConfig:
    """Settings file (or the defaults), then the preset, then the flags given; the one seed rule."""
    cfg = RunConfig.load(args.config) if getattr(args, "config", None) else (base or RunConfig())
    split_seed = cfg.split.seed if getattr(args, "config", None) else None
    if getattr(args, "preset", None):
        apply_preset(cfg, args.preset)
    given = apply_arguments(cfg, args)
    cfg.couple_seeds(split_seed, "train.seed" in given)
    return cfg.validate()


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


def _backend():
    from .workflows.rasterio_backend import RasterioBackend
    return RasterioBackend()


def _run(args, run, job):
    """A workflow run with the rasterio backend and the terminal's progress bar and log."""
    cb, done = _callbacks(args)
    try:
        return run(job, _backend(), cb)
    finally:
        done()


def _callbacks(args):
    from .workflows.callbacks import Callbacks

    quiet = getattr(args, "json", False) or getattr(args, "quiet", False)
    progress, done = _progress_bar(not quiet)

    def log(line: str) -> None:
        """--quiet and --json drop the progress and the log, never a warning (Callbacks.warn logs it so)."""
        if not quiet or line.startswith(WARNING_PREFIX):
            print(line, file=sys.stderr, flush=True)

    return Callbacks(progress=progress, log=log), done


def _emit(args, human: str, data: dict):
    if getattr(args, "json", False):
        from .core.report.html_report import to_jsonable
        print(json.dumps(to_jsonable(data), indent=1))
    else:
        print(human)


def _acc_line(a) -> str:
    """'OA .. AA .. kappa ..' from an accuracy dict or a core.metrics.Assessment."""
    get = a.get if isinstance(a, dict) else lambda k: getattr(a, k)
    return f"OA {100 * get('oa'):.2f} %  AA {100 * get('aa'):.2f} %  kappa {100 * get('kappa'):.2f}"


# -- commands -------------------------------------------------------------------------------------
def cmd_train(args):
    from .core.energy.costs import energy_lines
    from .workflows.report import ReportTarget
    from .workflows.train import TrainJob, run_train

    cfg = config_from_args(args)
    report = ReportTarget(args.report_dir, Path(args.out).stem + "_report") if args.report_dir else None
    validation = None
    if args.validation:
        from .workflows.backend import LabelSource

        field = args.validation_field or args.class_field
        if not args.polygons or not field:
            raise InputError("--validation needs training --polygons with --class-field (validation data are "
                             "vectors, like the training data)")
        size, unit = point_buffer(args.point_buffer)
        validation = LabelSource(path=args.validation, class_field=field, description=f"validation {args.validation}",
                                 point_buffer=size, point_buffer_unit=unit)
    job = TrainJob(raster=args.raster, labels=label_source(args), cfg=cfg, model_path=args.out, validation=validation,
                   split_map=args.split_map, report=report, checkpoint_dir=args.checkpoint_dir,
                   provenance={"command": "hypersnn train"}, inputs=[(args.config, "settings file")])
    res = _run(args, run_train, job)
    o = res.outcome
    trust = res.summary.get("trust_warnings") or []
    for w in trust:  # shown even with --quiet / --json: the result must not read as a plain success
        print(f"WARNING: {w}", file=sys.stderr, flush=True)
    lines = [f"model written: {res.model_path}"]
    proto = res.report.get("split_protocol") or {}
    what = (f"cross-validated accuracy ({proto.get('folds')}-fold, grouped by spatial clusters; the map model trained "
            "on every label)" if proto.get("method") == "cv" else "test accuracy")
    if o.test_snn:
        lines.append(f"SNN {what}: {_acc_line(o.test_snn)}")
    if o.test_cnn:
        lines.append(f"CNN {what}: {_acc_line(o.test_cnn)}")
    if o.comparison:
        for base in o.comparison["rows"][-len(o.comparison["baselines"]):]:
            lines.append(f"{base['model']} {what}: {_acc_line(base)}")
        lines += [b["verdict"] for b in o.comparison["baselines"]]
    lines += energy_lines(o.energy)
    if trust:
        lines.append(f"{len(trust)} warning(s) above: this result cannot be trusted as it stands")
    _emit(args, "\n".join(lines), {"model": res.model_path, "report": res.report, "report_files": res.report_paths,
                                   "warnings": res.warnings})
    return 0


def cmd_classify(args):
    from .workflows.classify import ClassifyJob, run_classify

    cfg = RunConfig()
    apply_arguments(cfg, args)
    cfg.validate()
    job = ClassifyJob(args.raster, args.model, args.out, args.confidence, args.probabilities, args.energy_map,
                      cfg.classify)
    res = _run(args, run_classify, job)
    lines = [f"class map written: {res.class_map}"]
    if res.confidence:
        lines.append(f"confidence written: {res.confidence}")
    if res.energy_map:
        e = res.energy
        lines.append(f"energy map written: {res.energy_map} (band 1: SNN energy per pixel in pJ, complete "
                     f"convention; band 2: spikes per pixel)")
        lines.append(f"scene SNN energy: {e['snn_mj']:.4f} mJ over {e['pixels']} pixels "
                     f"({e['snn_pj_per_pixel'] / 1e3:.2f} nJ per pixel; complete convention, per map pixel)")
    lines.append(f"{res.valid_pixels} pixels classified in {res.seconds:.1f} s ({res.pixels_per_second:.0f} px/s, "
                 f"engine {res.engine})")
    _emit(args, "\n".join(lines),
          {"class_map": res.class_map, "confidence": res.confidence, "probabilities": res.probabilities,
           "energy_map": res.energy_map, "energy": res.energy, "pixels": res.pixels,
           "valid_pixels": res.valid_pixels, "seconds": res.seconds, "class_counts": res.class_counts,
           "engine": res.engine, "warnings": res.warnings})
    return 0


def cmd_batch(args):
    from .workflows.batch import BatchJob, run_batch

    cfg = RunConfig()
    apply_arguments(cfg, args)
    cfg.validate()
    job = BatchJob(args.rasters, args.model, args.out_dir, args.manifest, args.confidence, args.probabilities,
                   args.energy_map, cfg.classify, mosaic=args.mosaic)
    res = _run(args, run_batch, job)
    lines = [f"{s['input']}: {s['status']}" + (f" ({s['error']})" if s.get("error") else "") for s in res.scenes]
    if res.mosaic:
        m = res.mosaic
        lines.append(f"mosaic {args.mosaic}: {m['status']}" + (f" ({m['reason']})" if m.get("reason") else
                                                                f" ({m['width']} x {m['height']} pixels)"))
    lines.append(f"{res.done} classified, {res.skipped} skipped (already done), {res.failed} failed in "
                 f"{res.seconds:.1f} s; manifest {res.manifest}")
    _emit(args, "\n".join(lines), {"manifest": res.manifest, "done": res.done, "skipped": res.skipped,
                                    "failed": res.failed, "seconds": res.seconds, "scenes": res.scenes,
                                    "mosaic": res.mosaic})
    return 0 if res.ok else 1


def cmd_export(args):
    """The model's SNN as a standalone ONNX graph."""
    from .workflows.export import run_export

    res = run_export(args.model, args.onnx)
    _emit(args, f"ONNX graph written: {res.onnx} ({res.nodes} nodes, opset {res.opset}, {res.bytes / 1e6:.2f} MB); "
                f"input: preprocessed features, output: class scores; the band contract, preprocessing and classes "
                f"are in its metadata property 'hypersnn'",
          {"onnx": res.onnx, "nodes": res.nodes, "bytes": res.bytes, "opset": res.opset,
           "metadata": res.metadata_keys})
    return 0


def cmd_evaluate(args):
    """Compare a class map with reference labels on the same grid."""
    from .workflows.assess import AssessJob, run_assess
    from .workflows.report import ReportTarget

    report = ReportTarget(args.report_dir, Path(args.map).stem + "_accuracy") if args.report_dir else None
    res = _run(args, run_assess, AssessJob(args.map, label_source(args), report, area_adjusted=args.area_adjusted))
    text = f"{_acc_line(res.accuracy)}  ({res.n} reference pixels)"
    area = res.accuracy.get("area_adjusted") or {}
    if area.get("per_class"):
        text += "\n" + _area_lines(area)
    _emit(args, text,
          {"accuracy": res.accuracy, "files": res.report_paths, "warnings": res.warnings})
    return 0


def cmd_sample(args):
    """Stratified random validation points from a class map."""
    from .core.data.sampling import SampleDesign
    from .workflows.sample import REFERENCE_FIELD, SampleJob, run_sample

    per_class = None if args.total is not None else args.per_class
    design = SampleDesign(per_class=per_class, total=args.total, min_per_class=args.min_per_class, seed=args.seed)
    res = _run(args, run_sample, SampleJob(args.map, args.out, design))
    per = ", ".join(f"{v}: {n}" for v, n in sorted(res.allocation.items()))
    _emit(args, f"{res.n} points in {res.path} ({res.description}; per class {per}). Fill '{REFERENCE_FIELD}', "
                f"then: hypersnn evaluate --map {args.map} --polygons {res.path} --class-field {REFERENCE_FIELD} "
                f"--area-adjusted",
          {"path": res.path, "n": res.n, "allocation": res.allocation, "mapped_pixels": res.mapped_pixels,
           "design": res.description, "warnings": res.warnings})
    return 0


def _area_lines(area: dict) -> str:
    """The area-adjusted table as text: one line per class, estimates with 95 % half-widths."""
    unit = area["area_unit"]
    lines = [f"area-adjusted OA {100 * area['oa']:.2f} % +- {100 * (area['oa_ci95'] or float('nan')):.2f} "
             f"(95 %); areas in {unit}"]
    for p in area["per_class"]:
        def pm(v, ci, scale=1.0, fmt=".1f"):
            return "n/a" if v is None else f"{scale * v:{fmt}} +- " + ("n/a" if ci is None else f"{scale * ci:{fmt}}")
        lines.append(f"  {p['value']:>3} {p['name'][:24]:<24} mapped {p['mapped_area']:.1f}  "
                     f"estimated {pm(p['area'], p['area_ci95'])}  UA {pm(p['users_accuracy'], p['users_ci95'], 100)} %  "
                     f"PA {pm(p['producers_accuracy'], p['producers_ci95'], 100)} %  (n={p['sample']})")
    return "\n".join(lines)


def cmd_report(args):
    """Accuracy (on reference pixels not used in training, when the model knows them) and energy."""
    from .core.energy.costs import energy_lines
    from .workflows.energy import EnergyJob, run_energy
    from .workflows.report import ReportTarget

    cfg = RunConfig()
    apply_arguments(cfg, args)
    cfg.validate()
    job = EnergyJob(args.model, args.raster, label_source(args),
                    ReportTarget(args.out_dir, Path(args.model).stem + "_report"),
                    include_training=args.include_training, window=cfg.classify.window, energy=cfg.energy,
                    title=f"HyperSNN report: {Path(args.model).name}")
    res = _run(args, run_energy, job)
    a = res.accuracy
    _emit(args, f"{_acc_line(a)}  ({a['n_test']} reference pixels)\n" + "\n".join(energy_lines(res.energy))
          + f"\nreport: {res.report_paths.get('html')}",
          {"report": res.report, "files": res.report_paths, "warnings": res.warnings})
    return 0


def cmd_info(args):
    from .core.models.engines import load_classifier

    m = load_classifier(args.model, "auto")  # torch where it imports; the model file is read the same way
    s = m.summary()
    meta = m.meta
    data = {"summary": s, "metrics": meta.get("metrics"), "split_protocol": meta.get("split_protocol"),
            "energy": meta.get("energy"), "created": meta.get("created"), "provenance": meta.get("provenance"),
            "format_version": meta.get("format_version"), "bands": {"indices": m.bands.indices,
                                                                     "wavelengths": m.bands.wavelengths}}
    when = f", created {meta['created']}" if meta.get("created") else ""  # model files hold no date (reproducible)
    lines = [f"HyperSNN model {args.model} (format {meta.get('format_version')}{when})",
             f"  architecture: {s['architecture']}, patch {s['patch_size']}, T={s['time_steps']}, "
             f"weights {s['weight_bits']}{'-bit' if isinstance(s['weight_bits'], int) else ''}, leak {s['leak_mode']}, "
             f"input {s['input_bits']}{'-bit' if isinstance(s['input_bits'], int) else ''}",
             f"  input: {s['input_bands']}-band raster, uses bands {s['band_ranges']}"
             + (f" ({s['wavelength_range_nm'][0]:.0f}-{s['wavelength_range_nm'][1]:.0f} nm)"
                if s["wavelength_range_nm"] else ""),
             f"  features after preprocessing: {s['features_after_preprocessing']}",
             f"  classes ({len(s['classes'])}): " + "; ".join(s["classes"])]
    test = (meta.get("metrics") or {}).get("test_snn")
    if test:
        lines.append(f"  test accuracy: {_acc_line(test)}")
    if meta.get("split_protocol", {}).get("description"):
        lines.append(f"  split: {meta['split_protocol']['description']}")
    for b in (meta.get("metrics") or {}).get("baselines") or []:
        lines.append(f"  {b['verdict']}")
    if isinstance(meta.get("energy"), dict) and meta["energy"].get("conventions"):
        from .core.energy.costs import energy_lines

        try:
            lines += ["  " + line for line in energy_lines(meta["energy"])]
        except (KeyError, TypeError):  # a file from before the labelled conventions: its JSON is still printed
            lines.append("  energy: recorded in an older layout (see --json)")
    _emit(args, "\n".join(lines), data)
    return 0


def cmd_datasets(args):
    from .core.data.scenes import SCENES, fetch

    if args.action == "list":
        _emit(args, "\n".join(f"{k}: {v.title}" for k, v in SCENES.items()), {"scenes": list(SCENES)})
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
    from .workflows.demo import run_demo

    cb, done = _callbacks(args)
    try:
        s = run_demo(args.out_dir, quick=args.quick, seed=args.seed, cb=cb)
    finally:
        done()
    c = s.get("cnn")
    lines = [f"Indian Pines, SNN T={s['time_steps']}, {s['weight_bits']}-bit, test pixels {s['n_test']}: "
             f"{_acc_line(s)}"]
    if c:
        lines.append(f"  (the {s['weight_bits']}-bit CNN it came from: {_acc_line(c)})")
    r = s["energy_ratios"]
    full = s["energy_table_full_precision"]
    lines += [f"energy, complete convention (headline), per patch: SNN is {r['complete_fp_cnn_over_snn']:.1f}x below "
              f"the {full} CNN and {r['complete_q_cnn_over_snn']:.1f}x below the {s['weight_bits']}-bit CNN",
              f"energy, paper convention (MACs + accumulates, first layer x T), per patch: "
              f"{r['paper_fp_cnn_over_snn']:.1f}x and {r['paper_q_cnn_over_snn']:.1f}x",
              f"outputs in {args.out_dir}/: indian_pines_snn.hsnn, class_map.tif, confidence.tif, report.html, "
              f"report.json" + (", indian_pines.qgz (open it in QGIS)" if s["files"].get("qgis_project") else ""),
              f"total time {s['seconds']:.0f} s"]
    _emit(args, "\n".join(lines), s)
    return 0


# -- parser ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hypersnn", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Classify hyperspectral images with quantized spiking neural networks (Hyper-SNN). "
                    "Train on a raster and labelled polygons or a label raster, then write a class map, "
                    "a confidence map, an energy map, and accuracy and energy reports.")
    p.add_argument("--version", action="version", version=f"hypersnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp):
        sp.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
        sp.add_argument("--quiet", action="store_true", help="no progress bar or log; warnings are still shown")

    t = sub.add_parser("train", help="train a CNN, convert it to an SNN, fine-tune, save one model file")
    t.add_argument("--raster", required=True, help="hyperspectral image (GeoTIFF, ENVI .hdr/.bin, ...)")
    _add_labels_args(t)
    t.add_argument("--out", required=True, help="model file to write (.hsnn)")
    t.add_argument("--config", help="JSON file with settings (see RunConfig); the preset and flags override it")
    t.add_argument("--preset", choices=sorted(PRESETS),
                   help="a named bundle of settings, applied before the other flags: " +
                        "; ".join(f"{k}: {v}" for k, v in PRESET_NOTES.items()))
    t.add_argument("--report-dir", help="also write HTML/JSON/CSV reports here")
    t.add_argument("--split-map", help="raster with 1 = train, 2 = test (the split becomes 'given')")
    t.add_argument("--validation", help="independent test polygons or points (vector file with the same class field, "
                                        "--validation-field to name another): every training polygon trains, these "
                                        "test (the split becomes 'given')")
    t.add_argument("--validation-field", help="class field of --validation (default: --class-field)")
    t.add_argument("--checkpoint-dir", help="stage checkpoints; a rerun with the same settings resumes")
    add_arguments(t, TRAIN_SECTIONS)
    common(t)
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("classify", help="classify a whole raster with a model file")
    c.add_argument("--model", required=True, help=MODEL_HELP)
    c.add_argument("--raster", required=True, help="raster to classify (GeoTIFF, ENVI .hdr/.bin, ...): the bands the "
                                                   "model was trained on, same count and order")
    c.add_argument("--out", required=True, help="class map GeoTIFF to write (colour table embedded)")
    c.add_argument("--confidence", help="confidence GeoTIFF (max class probability)")
    c.add_argument("--probabilities", help="per-class probability GeoTIFF (one band per class)")
    c.add_argument("--energy-map", help="GeoTIFF of the SNN's estimated energy per pixel (band 1, pJ, complete "
                                        "convention) and its spikes per pixel (band 2)")
    add_arguments(c, ("classify",))
    common(c)
    c.set_defaults(func=cmd_classify)

    b = sub.add_parser("batch", help="classify many rasters with one model: one map per scene and a manifest; "
                                     "a rerun skips the scenes already done")
    b.add_argument("rasters", nargs="+", metavar="RASTER",
                   help="raster files, glob patterns (quoted) or folders (their .tif/.tiff/.hdr/.vrt/.img files)")
    b.add_argument("--model", required=True, help=MODEL_HELP)
    b.add_argument("--out-dir", required=True, help="folder for <scene>_classes.tif (and the other maps)")
    b.add_argument("--manifest", help="manifest JSON to write and resume from (default: OUT_DIR/manifest.json)")
    b.add_argument("--confidence", action="store_true", help="also write <scene>_confidence.tif")
    b.add_argument("--probabilities", action="store_true", help="also write <scene>_probabilities.tif")
    b.add_argument("--energy-map", action="store_true", help="also write <scene>_energy.tif (torch engine)")
    b.add_argument("--mosaic", metavar="OUT.tif",
                   help="also mosaic the scenes' maps onto one grid (same CRS and pixel grid): the class map at OUT.tif, "
                        "the other maps beside it (OUT_confidence.tif, ...); where scenes overlap the most confident "
                        "scene wins, so confidence maps are written; built when every scene is classified")
    add_arguments(b, ("classify",))
    common(b)
    b.set_defaults(func=cmd_batch)

    e = sub.add_parser("evaluate", help="accuracy of a class map against reference labels")
    e.add_argument("--map", required=True, help="class map GeoTIFF")
    _add_labels_args(e)
    e.add_argument("--report-dir", help="write HTML/JSON/CSV accuracy reports here")
    e.add_argument("--area-adjusted", action="store_true",
                   help="also estimate class areas and area-adjusted accuracy with 95%% intervals "
                        "(Olofsson et al. 2014); for a reference that is a stratified or simple random sample")
    common(e)
    e.set_defaults(func=cmd_evaluate)

    sm = sub.add_parser("sample", help="stratified random validation points from a class map (GeoPackage)")
    sm.add_argument("--map", required=True, help="class map GeoTIFF (the strata are its classes)")
    sm.add_argument("--out", required=True, help="GeoPackage to write (.gpkg)")
    sm.add_argument("--per-class", type=int, default=50, help="points in every class (equal allocation; default 50)")
    sm.add_argument("--total", type=int, help="instead, this many points shared in proportion to mapped area")
    sm.add_argument("--min-per-class", type=int, default=0, help="with --total: at least this many per class")
    sm.add_argument("--seed", type=int, default=0, help="fixes the sample (default 0)")
    common(sm)
    sm.set_defaults(func=cmd_sample)

    r = sub.add_parser("report", help="accuracy and energy report of a model on a raster and reference labels")
    r.add_argument("--model", required=True, help=MODEL_HELP)
    r.add_argument("--raster", required=True, help="raster the reference labels lie on (the bands the model reads)")
    _add_labels_args(r)
    r.add_argument("--out-dir", required=True,
                   help="folder for the report: <model stem>_report.html, .json and .csv (created if missing)")
    r.add_argument("--include-training", action="store_true",
                   help="also score pixels the model was trained on (biased; off by default)")
    add_arguments(r, ("energy", "classify"))
    common(r)
    r.set_defaults(func=cmd_report)

    d = sub.add_parser("demo", help="train and classify the bundled Indian Pines sample (5 steps, 6-bit)")
    d.add_argument("--out-dir", default="demo_out",
                   help="folder for the demo's model, maps, report and QGIS project (created if missing; default "
                        "demo_out)")
    d.add_argument("--quick", action="store_true", help="a few epochs only (smoke test)")
    d.add_argument("--seed", type=int, default=0,
                   help="fixes the split, the initialisation and the training order (default 0)")
    common(d)
    d.set_defaults(func=cmd_demo)

    x = sub.add_parser("export", help="write a model's SNN as an ONNX graph (for ONNX runtimes; classify itself "
                                      "needs no export: --engine onnx builds the graph from the model file)")
    x.add_argument("model", help="model file (.hsnn)")
    x.add_argument("--onnx", required=True, help="ONNX file to write")
    common(x)
    x.set_defaults(func=cmd_export)

    i = sub.add_parser("info", help="describe a model file: bands, classes, time steps, bits, metrics")
    i.add_argument("model", help=MODEL_HELP)
    common(i)
    i.set_defaults(func=cmd_info)

    ds = sub.add_parser("datasets", help="benchmark scenes: list, or fetch from the canonical source")
    ds.add_argument("action", choices=["list", "fetch"],
                    help="list: the benchmark scenes known; fetch: download one and verify its checksums")
    ds.add_argument("name", nargs="?", help="indian_pines | pavia_university | salinas")
    ds.add_argument("--dest", default="data", help="folder to download into")
    ds.add_argument("--url", action="append", metavar="ROLE=URL",
                    help="download a file (role cube or gt) from a mirror instead; checksums still apply")
    common(ds)
    ds.set_defaults(func=cmd_datasets)
    return p


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one plain line ('hypersnn: warning: ...'), not Python's source excerpt."""
    print(f"hypersnn: warning: {message}", file=file or sys.stderr)


def _terminate(signum, frame):
    """SIGTERM unwinds like Ctrl-C, so writers remove their temporary files and old outputs stay."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "datasets" and args.action == "fetch" and not args.name:
        parser.error("datasets fetch needs a scene name")
    json_mode = getattr(args, "json", False)

    def fail(kind: str, text: str, rc: int) -> int:
        print(f"hypersnn: {kind}: {text}" if kind != "canceled" else f"canceled: {text}", file=sys.stderr)
        if json_mode:
            print(json.dumps({"error": text, "kind": kind, "exit_code": rc}))
        return rc

    old_show, old_term = warnings.showwarning, None
    warnings.showwarning = _show_warning
    try:
        old_term = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        pass
    try:
        rc = args.func(args)
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught below
        return rc
    except Canceled as e:
        return fail("canceled", str(e), 130)
    except HyperSNNError as e:
        return fail("error", str(e), 2)
    except KeyboardInterrupt:
        return fail("canceled", "interrupted; no partial output was left", 130)
    except BrokenPipeError:  # e.g. `hypersnn info m.hsnn --json | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        warnings.showwarning = old_show
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


if __name__ == "__main__":
    sys.exit(main())
