"""`hypersnn demo`: the whole job on the bundled Indian Pines sample, through the training workflow.

Trains a 5-step, 6-bit SNN (CNN -> conversion -> SNN), classifies the whole scene, writes the class map,
confidence map, model file and HTML/JSON/CSV reports, and prints accuracy and energy ratios. The QGIS project
is written by QGIS in a separate process (PROJECT_WRITER): this process has rasterio loaded, and two GDALs must
never share a process.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

from ..core.config.schema import RunConfig
from .callbacks import Callbacks

PROJECT_WRITER = "hypersnn.plugin.project"
"""The module `write_qgis_project` runs with `python -m` (a process boundary, declared in tests/test_layers.py)."""


def demo_config(quick: bool = False, seed: int = 0) -> RunConfig:
    cfg = RunConfig()
    cfg.split.method = "random"
    cfg.split.train_fraction = 0.3
    cfg.split.val_fraction = 0.1
    cfg.split.seed = seed
    cfg.preprocess.pca_components = 30
    cfg.model.arch = "hybrid"
    cfg.model.patch_size = 11
    cfg.train.time_steps = 5
    cfg.train.weight_bits = 6
    cfg.train.cnn_epochs = 2 if quick else 20
    cfg.train.snn_epochs = 1 if quick else 8
    cfg.train.epoch_pixels = 0  # the demo's own schedule, every epoch (the headline's protocol since it was measured)
    # The paper's training recipe: no context dropout, no weight averaging. Those two are the map-production defaults
    # for maps away from the labels (bench/generalise_screen.py); on this random split, where test pixels neighbour
    # training pixels, they cost OA (the front's "map-production regularisers" rows in docs/results.md).
    cfg.train.context_dropout = 0.0
    cfg.train.weight_averaging = 0.0
    cfg.train.seed = seed
    return cfg


def demo_folder(out_dir) -> Path:
    """The demo's output folder, created (with its parents) when missing; OutputError naming it when it is a
    file or cannot be created, checked before anything is trained."""
    from ..core.errors import OutputError
    from ..core.io.files import check_output_dir

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"The demo output folder {out} is a file, not a folder: give --out-dir a folder "
                          f"(it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"Cannot create the demo output folder {out}: {e.strerror or e}") from None
    check_output_dir(str(out), "demo output folder")
    return out


def run_demo(out_dir="demo_out", quick: bool = False, seed: int = 0, cb: Optional[Callbacks] = None,
             raster=None, labels_path=None, classes_path=None) -> dict:
    """Train, classify and report on the sample through `run_train`; write summary.json and the QGIS project.
    Returns the summary (what `hypersnn demo` prints and `make results` puts in the README)."""
    from ..core.energy.costs import flat_summary
    from ..core.io.files import atomic_write
    from ..core.io.jsonable import to_jsonable
    from ..core.data.scenes import sample_scene_paths
    from .backend import LabelSource
    from .rasterio_backend import RasterioBackend
    from .report import ReportTarget
    from .train import TrainJob, run_train

    cb = cb or Callbacks()
    t0 = time.perf_counter()
    paths = sample_scene_paths()
    raster = str(raster or paths["raster"])
    labels_path = str(labels_path or paths["labels"])
    classes_path = str(classes_path or paths["classes"])
    out = demo_folder(out_dir)
    cfg = demo_config(quick, seed)
    cb.log(f"HyperSNN demo: {Path(raster).name}, hybrid CNN -> SNN, T={cfg.train.time_steps}, "
           f"{cfg.train.weight_bits}-bit weights, {int(100 * cfg.split.train_fraction)} % stratified random "
           f"training split, seed {seed}{' (quick)' if quick else ''}")
    model_path = out / "indian_pines_snn.hsnn"
    job = TrainJob(raster=raster, labels=LabelSource(path=labels_path, class_table=classes_path), cfg=cfg,
                   model_path=str(model_path), class_map=str(out / "class_map.tif"),
                   confidence=str(out / "confidence.tif"), report=ReportTarget(str(out), "report"),
                   provenance={"command": "hypersnn demo"}, title="HyperSNN demo: Indian Pines")
    res = run_train(job, RasterioBackend(), cb)
    outcome = res.outcome
    qgz = write_qgis_project(out, raster, labels_path, outcome.model.classes, cb.log)
    a, e = outcome.test_snn, outcome.energy
    summary = {
        "oa": a.oa, "aa": a.aa, "kappa": a.kappa, "n_test": a.n,
        "cnn_oa": outcome.test_cnn.oa if outcome.test_cnn else None,
        "cnn": {"oa": outcome.test_cnn.oa, "aa": outcome.test_cnn.aa, "kappa": outcome.test_cnn.kappa}
        if outcome.test_cnn else None,
        "time_steps": cfg.train.time_steps, "weight_bits": cfg.train.weight_bits,
        "energy_ratios": flat_summary(e),
        "energy_convention_headline": e["headline"],
        "energy_widths": e["widths"],
        "energy_table": e["table"]["name"],
        "energy_table_full_precision": e["table"]["full_precision"],
        "scene_energy": e.get("scene"),
        "leaks": e["leaks"],
        "spike_rates": {l["name"]: l["spike_rate"] for l in e["layers"] if l["spike_rate"] is not None},
        "seconds": time.perf_counter() - t0,
        "stage_seconds": res.report["timing"],
        "cpu_threads": __import__("torch").get_num_threads(),
        "files": {"model": str(model_path), "class_map": res.class_map, "confidence": res.confidence,
                  **{k: str(v) for k, v in res.report_paths.items()}, "qgis_project": qgz},
        "split": res.report.get("split_protocol", {}).get("description"),
        "quick": quick,
    }
    atomic_write(out / "summary.json", json.dumps(to_jsonable(summary), indent=1), what="demo summary")
    return summary


def write_qgis_project(out: Path, raster, labels_path, classes, say) -> "str | None":
    """indian_pines.qgz beside the outputs, written by QGIS in a separate process (rasterio is loaded
    here, and two GDALs must never share a process)."""
    import os
    import subprocess

    classes_json = out / "classes.json"
    classes_json.write_text(json.dumps(classes, indent=1))
    qgz = out / "indian_pines.qgz"
    cmd = [sys.executable, "-m", PROJECT_WRITER, "--out", str(qgz), "--raster", str(Path(raster).resolve()),
           "--class-map", str((out / "class_map.tif").resolve()), "--confidence", str((out / "confidence.tif").resolve()),
           "--classes", str(classes_json), "--reference", str(Path(labels_path).resolve()),
           "--title", "HyperSNN demo: Indian Pines"]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        say(f"QGIS project not written: {e}")
        return None
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
        say(f"QGIS project not written (is QGIS installed? `make setup` installs it): {tail[0]}")
        return None
    return str(qgz)
