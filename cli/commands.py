"""One function per `hypersnn` subcommand: build the workflow's job from the flags, run it, show the result.

Each returns the exit code. Workflows (and the libraries they need: torch, rasterio, dask) are imported inside
the command that runs them, so `hypersnn --help` loads none of them.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..core.config.schema import RunConfig
from ..core.config.settings import apply_arguments
from ..core.errors import InputError
from .arguments import config_from_args, label_source, point_buffer
from .output import accuracy_line, area_lines, emit, terminal_callbacks


def _backend():
    from ..workflows.rasterio_backend import RasterioBackend
    return RasterioBackend()


def _flag_settings(args) -> RunConfig:
    """The defaults with the flags given: classify, batch and report take no settings file or preset (the model
    file carries its training settings)."""
    cfg = RunConfig()
    apply_arguments(cfg, args)
    return cfg.validate()


def _run(args, run, job):
    """A workflow run with the rasterio backend and the terminal's progress bar and log."""
    cb, done = terminal_callbacks(args)
    try:
        return run(job, _backend(), cb)
    finally:
        done()


def cmd_train(args):
    from ..core.energy.costs import energy_lines
    from ..workflows.report import ReportTarget
    from ..workflows.train import TrainJob, run_train

    cfg = config_from_args(args)
    report = ReportTarget(args.report_dir, Path(args.out).stem + "_report") if args.report_dir else None
    validation = None
    if args.validation:
        from ..workflows.backend import LabelSource

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
        lines.append(f"SNN {what}: {accuracy_line(o.test_snn)}")
    if o.test_cnn:
        lines.append(f"CNN {what}: {accuracy_line(o.test_cnn)}")
    if o.comparison:
        for base in o.comparison["rows"][-len(o.comparison["baselines"]):]:
            lines.append(f"{base['model']} {what}: {accuracy_line(base)}")
        lines += [b["verdict"] for b in o.comparison["baselines"]]
    lines += energy_lines(o.energy)
    if trust:
        lines.append(f"{len(trust)} warning(s) above: this result cannot be trusted as it stands")
    emit(args, "\n".join(lines), {"model": res.model_path, "report": res.report, "report_files": res.report_paths,
                                   "warnings": res.warnings})
    return 0


def cmd_classify(args):
    from ..workflows.classify import ClassifyJob, run_classify

    cfg = _flag_settings(args)
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
    emit(args, "\n".join(lines),
          {"class_map": res.class_map, "confidence": res.confidence, "probabilities": res.probabilities,
           "energy_map": res.energy_map, "energy": res.energy, "pixels": res.pixels,
           "valid_pixels": res.valid_pixels, "seconds": res.seconds, "class_counts": res.class_counts,
           "engine": res.engine, "warnings": res.warnings})
    return 0


def cmd_batch(args):
    from ..workflows.batch import BatchJob, run_batch

    cfg = _flag_settings(args)
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
    emit(args, "\n".join(lines), {"manifest": res.manifest, "done": res.done, "skipped": res.skipped,
                                    "failed": res.failed, "seconds": res.seconds, "scenes": res.scenes,
                                    "mosaic": res.mosaic})
    return 0 if res.ok else 1


def cmd_export(args):
    """The model's SNN as a standalone ONNX graph."""
    from ..workflows.export import run_export

    res = run_export(args.model, args.onnx)
    emit(args, f"ONNX graph written: {res.onnx} ({res.nodes} nodes, opset {res.opset}, {res.bytes / 1e6:.2f} MB); "
                f"input: preprocessed features, output: class scores; the band contract, preprocessing and classes "
                f"are in its metadata property 'hypersnn'",
          {"onnx": res.onnx, "nodes": res.nodes, "bytes": res.bytes, "opset": res.opset,
           "metadata": res.metadata_keys})
    return 0


def cmd_evaluate(args):
    """Compare a class map with reference labels on the same grid."""
    from ..workflows.assess import AssessJob, run_assess
    from ..workflows.report import ReportTarget

    report = ReportTarget(args.report_dir, Path(args.map).stem + "_accuracy") if args.report_dir else None
    res = _run(args, run_assess, AssessJob(args.map, label_source(args), report, area_adjusted=args.area_adjusted))
    text = f"{accuracy_line(res.accuracy)}  ({res.n} reference pixels)"
    area = res.accuracy.get("area_adjusted") or {}
    if area.get("per_class"):
        text += "\n" + area_lines(area)
    emit(args, text,
          {"accuracy": res.accuracy, "files": res.report_paths, "warnings": res.warnings})
    return 0


def cmd_sample(args):
    """Stratified random validation points from a class map."""
    from ..core.data.sampling import SampleDesign
    from ..workflows.sample import REFERENCE_FIELD, SampleJob, run_sample

    per_class = None if args.total is not None else args.per_class
    design = SampleDesign(per_class=per_class, total=args.total, min_per_class=args.min_per_class, seed=args.seed)
    res = _run(args, run_sample, SampleJob(args.map, args.out, design))
    per = ", ".join(f"{v}: {n}" for v, n in sorted(res.allocation.items()))
    emit(args, f"{res.n} points in {res.path} ({res.description}; per class {per}). Fill '{REFERENCE_FIELD}', "
                f"then: hypersnn evaluate --map {args.map} --polygons {res.path} --class-field {REFERENCE_FIELD} "
                f"--area-adjusted",
          {"path": res.path, "n": res.n, "allocation": res.allocation, "mapped_pixels": res.mapped_pixels,
           "design": res.description, "warnings": res.warnings})
    return 0


def cmd_report(args):
    """Accuracy (on reference pixels not used in training, when the model knows them) and energy."""
    from ..core.energy.costs import energy_lines
    from ..workflows.energy import EnergyJob, run_energy
    from ..workflows.report import ReportTarget

    cfg = _flag_settings(args)
    job = EnergyJob(args.model, args.raster, label_source(args),
                    ReportTarget(args.out_dir, Path(args.model).stem + "_report"),
                    include_training=args.include_training, window=cfg.classify.window, energy=cfg.energy,
                    title=f"HyperSNN report: {Path(args.model).name}")
    res = _run(args, run_energy, job)
    a = res.accuracy
    emit(args, f"{accuracy_line(a)}  ({a['n_test']} reference pixels)\n" + "\n".join(energy_lines(res.energy))
          + f"\nreport: {res.report_paths.get('html')}",
          {"report": res.report, "files": res.report_paths, "warnings": res.warnings})
    return 0


def cmd_info(args):
    from ..core.models.engines import load_classifier
    from ..core.models.summary import summary_rows

    m = load_classifier(args.model, "auto")  # torch where it imports; the model file is read the same way
    s = m.summary()
    meta = m.meta
    data = {"summary": s, "metrics": meta.get("metrics"), "split_protocol": meta.get("split_protocol"),
            "energy": meta.get("energy"), "created": meta.get("created"), "provenance": meta.get("provenance"),
            "format_version": meta.get("format_version"), "bands": {"indices": m.bands.indices,
                                                                     "wavelengths": m.bands.wavelengths}}
    when = f", created {meta['created']}" if meta.get("created") else ""  # model files hold no date (reproducible)
    lines = [f"HyperSNN model {args.model} (format {meta.get('format_version')}{when})"]
    lines += [f"  {label}: {text}" for label, text in summary_rows(s, meta.get("metrics"))]  # as the dialog shows it
    if meta.get("split_protocol", {}).get("description"):
        lines.append(f"  split: {meta['split_protocol']['description']}")
    for b in (meta.get("metrics") or {}).get("baselines") or []:
        lines.append(f"  {b['verdict']}")
    if isinstance(meta.get("energy"), dict) and meta["energy"].get("conventions"):
        from ..core.energy.costs import energy_lines

        try:
            lines += ["  " + line for line in energy_lines(meta["energy"])]
        except (KeyError, TypeError):  # a file from before the labelled conventions: its JSON is still printed
            lines.append("  energy: recorded in an older layout (see --json)")
    emit(args, "\n".join(lines), data)
    return 0


def cmd_datasets(args):
    from ..core.data.scenes import SCENES, fetch

    if args.action == "list":
        emit(args, "\n".join(f"{k}: {v.title}" for k, v in SCENES.items()), {"scenes": list(SCENES)})
        return 0
    urls = {}
    for item in args.url or []:
        role, sep, url = item.partition("=")
        if not sep:
            raise InputError(f"--url takes ROLE=URL (e.g. cube=https://mirror/x.mat), got {item!r}")
        urls[role] = url
    paths = fetch(args.name, args.dest, urls=urls or None)
    emit(args, "\n".join(f"downloaded and verified: {p}" for p in paths.values()),
          {"files": {k: str(p) for k, p in paths.items()}})
    return 0


def cmd_demo(args):
    from ..workflows.demo import run_demo

    cb, done = terminal_callbacks(args)
    try:
        s = run_demo(args.out_dir, quick=args.quick, seed=args.seed, cb=cb)
    finally:
        done()
    c = s.get("cnn")
    lines = [f"Indian Pines, SNN T={s['time_steps']}, {s['weight_bits']}-bit, test pixels {s['n_test']}: "
             f"{accuracy_line(s)}"]
    if c:
        lines.append(f"  (the {s['weight_bits']}-bit CNN it came from: {accuracy_line(c)})")
    r = s["energy_ratios"]
    full = s["energy_table_full_precision"]
    lines += [f"energy, complete convention (headline), per patch: SNN is {r['complete_fp_cnn_over_snn']:.1f}x below "
              f"the {full} CNN and {r['complete_q_cnn_over_snn']:.1f}x below the {s['weight_bits']}-bit CNN",
              f"energy, paper convention (MACs + accumulates, first layer x T), per patch: "
              f"{r['paper_fp_cnn_over_snn']:.1f}x and {r['paper_q_cnn_over_snn']:.1f}x",
              f"outputs in {args.out_dir}/: indian_pines_snn.hsnn, class_map.tif, confidence.tif, report.html, "
              f"report.json" + (", indian_pines.qgz (open it in QGIS)" if s["files"].get("qgis_project") else ""),
              f"total time {s['seconds']:.0f} s"]
    emit(args, "\n".join(lines), s)
    return 0
