"""`hypersnn demo`: the whole job on the bundled Indian Pines sample.

Trains a 5-step, 6-bit SNN (CNN -> conversion -> SNN), classifies the whole scene, writes the class map,
confidence map, model file and HTML/JSON/CSV reports, and prints accuracy and energy ratios.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .config import RunConfig


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
    cfg.train.seed = seed
    return cfg


def run_demo(out_dir="demo_out", quick: bool = False, json_out: bool = False, seed: int = 0,
             raster=None, labels_path=None, classes_path=None) -> int:
    from . import io_rasterio as io
    from .labels import labels_from_array, read_class_table
    from .pipeline import train
    from .predict import classify_raster
    from .report import to_jsonable, write_report
    from .scenes import sample_scene_paths
    from .energy import energy_lines, flat_summary

    t0 = time.perf_counter()
    paths = sample_scene_paths()
    raster = raster or paths["raster"]
    labels_path = labels_path or paths["labels"]
    classes_path = classes_path or paths["classes"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = demo_config(quick, seed)
    say = (lambda s: None) if json_out else (lambda s: print(s, file=sys.stderr, flush=True))
    say(f"HyperSNN demo: {Path(raster).name}, hybrid CNN -> SNN, T={cfg.train.time_steps}, "
        f"{cfg.train.weight_bits}-bit weights, {int(100 * cfg.split.train_fraction)} % stratified random "
        f"training split, seed {seed}{' (quick)' if quick else ''}")

    reader = io.open_raster(raster)
    try:
        lr = io.open_raster(labels_path)
        gt = lr.read(None, [0])[:, :, 0]
        lr.close()
        table = read_class_table(classes_path)
        labels = labels_from_array(gt, {c.value: c.name for c in table}, {c.value: c.color for c in table},
                                   nodata=0, source=str(labels_path))
        last = [-1]

        def progress(f, m):
            pct = int(100 * f)
            if pct // 10 != last[0] // 10:
                last[0] = pct
                say(f"  {pct:3d} %  {m}")

        model_path = out / "indian_pines_snn.hsnn"
        outcome = train(reader, labels, cfg, str(model_path), progress=progress, log=say,
                        provenance={"command": "hypersnn demo"})
        say("classifying the whole scene")
        res = classify_raster(outcome.model, reader, io.RasterioWriter, str(out / "class_map.tif"),
                              str(out / "confidence.tif"))
    finally:
        reader.close()
    lr = io.open_raster(str(out / "class_map.tif"))
    class_map = lr.read(None, [0])[:, :, 0]
    lr.close()
    report = outcome.report
    report["title"] = "HyperSNN demo: Indian Pines"
    report["timing"] = dict(outcome.seconds, classify=res.seconds, classify_pixels_per_s=res.pixels_per_second,
                            total=time.perf_counter() - t0)
    files = write_report(out, "report", report, class_map=class_map, classes=outcome.model.classes)
    qgz = write_qgis_project(out, raster, labels_path, outcome.model.classes, say)
    a, e = outcome.test_snn, outcome.energy
    summary = {
        "oa": a.oa, "aa": a.aa, "kappa": a.kappa,
        "cnn_oa": outcome.test_cnn.oa if outcome.test_cnn else None,
        "energy_ratios": flat_summary(e),
        "energy_convention_headline": e["headline"],
        "energy_widths": e["widths"],
        "energy_table": e["table"]["name"],
        "scene_energy": e.get("scene"),
        "leaks": e["leaks"],
        "spike_rates": {l["name"]: l["spike_rate"] for l in e["layers"] if l["spike_rate"] is not None},
        "seconds": time.perf_counter() - t0,
        "stage_seconds": report["timing"],
        "cpu_threads": __import__("torch").get_num_threads(),
        "files": {"model": str(model_path), "class_map": res.class_path, "confidence": res.confidence_path,
                  **{k: str(v) for k, v in files.items()}, "qgis_project": qgz},
        "split": report.get("split_protocol", {}).get("description"),
    }
    (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=1))
    if json_out:
        print(json.dumps(to_jsonable(summary), indent=1))
    else:
        print(f"Indian Pines, SNN T={cfg.train.time_steps}, {cfg.train.weight_bits}-bit, test pixels "
              f"{a.n}: OA {100 * a.oa:.2f} %  AA {100 * a.aa:.2f} %  kappa {100 * a.kappa:.2f}")
        if outcome.test_cnn:
            c = outcome.test_cnn
            print(f"  (the {cfg.train.weight_bits}-bit CNN it came from: OA {100 * c.oa:.2f} %  "
                  f"AA {100 * c.aa:.2f} %  kappa {100 * c.kappa:.2f})")
        print("\n".join(energy_lines(e)))
        print(f"outputs in {out}/: indian_pines_snn.hsnn, class_map.tif, confidence.tif, report.html, report.json"
              + (", indian_pines.qgz (open it in QGIS)" if qgz else ""))
        print(f"total time {summary['seconds']:.0f} s")
    return 0


def write_qgis_project(out: Path, raster, labels_path, classes, say) -> "str | None":
    """indian_pines.qgz beside the outputs, written by QGIS in a separate process (rasterio is loaded
    here, and two GDALs must never share a process)."""
    import os
    import subprocess

    classes_json = out / "classes.json"
    classes_json.write_text(json.dumps(classes, indent=1))
    qgz = out / "indian_pines.qgz"
    cmd = [sys.executable, "-m", "hypersnn.plugin.project", "--out", str(qgz), "--raster", str(Path(raster).resolve()),
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
