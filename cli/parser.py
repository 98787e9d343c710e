"""The argparse tree of `hypersnn`: one subparser per command, settings flags generated from the registry.

The settings flags come from core/config/settings.add_arguments, so a new setting needs no line here.
"""
from __future__ import annotations

import argparse

from ..core import __version__
from ..core.config.schema import PRESET_NOTES, PRESETS
from ..core.config.settings import TRAIN_SECTIONS, add_arguments
from .commands import (cmd_batch, cmd_classify, cmd_datasets, cmd_demo, cmd_evaluate, cmd_export, cmd_info,
                       cmd_report, cmd_sample, cmd_train)

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
                   help="also mosaic the scenes' maps onto one grid (same CRS and pixel grid): the class map at "
                        "OUT.tif, the other maps beside it (OUT_confidence.tif, ...); where scenes overlap the most "
                        "confident scene wins, so confidence maps are written; built when every scene is classified")
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
