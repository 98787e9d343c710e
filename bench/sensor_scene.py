"""Training at defaults on a generated scene of the EnMAP L2A layout: time and peak memory (issue: real sensor scenes).

The scene: 160 x 192 pixels, 224 bands (418-2445 nm) of float32 reflectance x 10,000 with a 1e-4 scale factor,
6 bad bands (water vapour) filled with nodata and flagged bbl = 0, in UTM. Six classes of smooth, distinct
reflectance curves with per-pixel brightness, noise and spatial texture cover 5,670 labelled pixels in
rectangular fields, so the default split (10 % per class for training) gives about 500 training pixels, as in
the scene the issue reports. The accuracy on a synthetic scene says little; the time and memory are the point.

Each run is a fresh process (`hypersnn train` with only the raster, the labels and the output: defaults, so
PCA auto), optionally with another process keeping one core busy. Peak memory is the process's VmHWM.

usage: python bench/sensor_scene.py [--busy] [--out bench/out/sensor_scene.json]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
H, W, B = 160, 192, 224
BAD = [126, 127, 128, 166, 167, 168]  # around 1400 and 1900 nm
NODATA = -32768.0
CLASSES = 6
CHILD = r"""
import contextlib, io, json, sys, time
from hypersnn.cli import main
t0 = time.perf_counter()
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    rc = main(["train", "--raster", sys.argv[1], "--labels", sys.argv[2], "--out", sys.argv[3], "--json", "--quiet"])
stages = json.loads(buf.getvalue()).get("report", {}).get("timing", {}) if rc == 0 else {}
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(), "stages": stages}))
"""


def make_scene(folder: Path, seed: int = 0):
    """(raster path, label path): the EnMAP-layout GeoTIFF and its label raster."""
    import rasterio
    from affine import Affine

    rng = np.random.default_rng(seed)
    wl = np.linspace(418.0, 2445.0, B)
    t = (wl - wl.min()) / (wl.max() - wl.min())
    curves = np.stack([0.05 + 0.40 * t, 0.45 - 0.35 * t, 0.08 + 0.45 * np.exp(-((t - 0.25) ** 2) / 0.01),
                       0.30 + 0.05 * np.sin(12 * t), 0.04 + 0.10 * t ** 2, 0.20 + 0.25 * np.exp(-((t - 0.6) ** 2) / 0.02)])
    labels = np.zeros((H, W), np.uint8)
    fields = [(r, c) for r in range(5, 140, 22) for c in (4, 60, 120)]  # 21 fields of 15 x 18 = 5,670 pixels
    for k, (r, c) in enumerate(fields):
        labels[r:r + 15, c:c + 18] = k % CLASSES + 1
    background = rng.integers(0, CLASSES, (H // 8 + 1, W // 8 + 1)).repeat(8, 0).repeat(8, 1)[:H, :W]
    cls = np.where(labels > 0, labels.astype(int) - 1, background)
    bright = 1.0 + 0.15 * rng.standard_normal((H, W))
    cube = curves[cls] * bright[..., None] + 0.01 * rng.standard_normal((H, W, B))
    cube = (np.clip(cube, 0, 1) * 10000).astype(np.float32)
    cube[:, :, BAD] = NODATA
    raster, lab = folder / "enmap_like.tif", folder / "enmap_like_labels.tif"
    transform = Affine(30.0, 0, 600000.0, 0, -30.0, 5300000.0)
    prof = dict(driver="GTiff", width=W, height=H, count=B, dtype="float32", crs="EPSG:32633", transform=transform,
                nodata=NODATA, tiled=True, blockxsize=64, blockysize=64, interleave="pixel")
    with rasterio.open(raster, "w", **prof) as dst:
        dst.write(np.moveaxis(cube, -1, 0))
        for i in range(B):
            dst.update_tags(i + 1, wavelength=f"{wl[i]:.1f}", wavelength_units="Nanometers", fwhm="8.0",
                            bbl="0" if i in BAD else "1")
        dst.scales = (1e-4,) * B
    with rasterio.open(lab, "w", driver="GTiff", width=W, height=H, count=1, dtype="uint8", crs="EPSG:32633",
                       transform=transform, nodata=0) as dst:
        dst.write(labels[None])
    return raster, lab, int((labels > 0).sum())


def run(busy: bool) -> dict:
    from bench.memory import run_child

    with tempfile.TemporaryDirectory() as tmp:
        raster, lab, n_labelled = make_scene(Path(tmp))
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            r = run_child(CHILD, raster, lab, Path(tmp) / "m.hsnn")
        finally:
            if hog is not None:
                hog.kill()
        from hypersnn.core.models.torch_model import HyperSNNModel
        m = HyperSNNModel.load(Path(tmp) / "m.hsnn")
    acc = m.meta["metrics"]["test_snn"] or {}
    split = m.meta["split_protocol"]["totals"]
    return {"scene": f"generated EnMAP layout {H} x {W} x {B} float32 (scale 1e-4, {len(BAD)} bad bands)",
            "labelled": n_labelled, "train": split["train"], "val": split["val"], "test": split["test"],
            "bands_used": len(m.bands.indices), "features": m.preprocessor.n_out, "one_core_busy": busy,
            "seconds": r["seconds"], "stage_seconds": r["stages"], "peak_rss_mb": r["peak_rss_mb"],
            "oa": acc.get("oa"), "rc": r["rc"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--busy", action="store_true", help="keep one core busy with another process meanwhile")
    ap.add_argument("--out", help="append the row to this JSON list")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    row = run(args.busy)
    row["wall_s"] = time.perf_counter() - t0
    print(json.dumps(row, indent=1))
    if args.out:
        p = Path(args.out)
        rows = json.loads(p.read_text()) if p.is_file() else []
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(rows + [row], indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
