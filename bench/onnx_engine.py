"""ONNX Runtime against torch for classification: the same class map, the confidence difference, pixels per
second and peak memory, each engine in a fresh process (the ONNX one with torch hidden, as on a machine
without torch, so its memory holds no torch)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.memory import PEAK, run_child

CHILD = r"""
import json, sys, time
if sys.argv[4] == "onnx":
    sys.modules["torch"] = None  # as where torch is not installed
from hypersnn.cli import main
args = ["classify", "--model", sys.argv[1], "--raster", sys.argv[2], "--out", sys.argv[3], "--engine", sys.argv[4],
        "--quiet"] + (["--confidence", sys.argv[5]] if sys.argv[5] != "-" else [])
t0 = time.perf_counter()
rc = main(args)
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(),
                  "torch_loaded": "torch" in sys.modules and sys.modules["torch"] is not None}))
"""


def classify_child(model, raster, out, engine, confidence=None) -> dict:
    r = run_child(CHILD, model, raster, out, engine, confidence or "-")
    if r["rc"] != 0:
        raise RuntimeError(f"classify with engine {engine} failed (rc {r['rc']})")
    return r


def onnx_vs_torch(model_path, scene_raster, large_raster, tmp: Path, repeats: int = 1) -> dict:
    """Agreement on `scene_raster` (class map and confidence) and speed / peak memory on `large_raster`."""
    import rasterio

    maps, rows = {}, []
    for engine in ("torch", "onnx"):
        cls, conf = tmp / f"{engine}_classes.tif", tmp / f"{engine}_conf.tif"
        classify_child(model_path, scene_raster, cls, engine, conf)
        with rasterio.open(cls) as a, rasterio.open(conf) as c:
            maps[engine] = a.read(1), c.read(1)
        with rasterio.open(large_raster) as ds:
            pixels = ds.width * ds.height
        best = None
        for _ in range(repeats):
            r = classify_child(model_path, large_raster, tmp / f"{engine}_large.tif", engine)
            best = r if best is None or r["seconds"] < best["seconds"] else best
        rows.append({"engine": engine, "pixels": pixels, "seconds": best["seconds"],
                     "pixels_per_s": pixels / best["seconds"], "peak_rss_mb": best["peak_rss_mb"],
                     "torch_loaded": best["torch_loaded"]})
    (ct, ft), (co, fo) = maps["torch"], maps["onnx"]
    valid = ct > 0
    t, o = rows
    return {"rows": rows, "scene_pixels": int(valid.sum()), "class_map_identical": bool((ct == co).all()),
            "pixels_differing": int((ct != co).sum()),
            "max_confidence_diff": float(np.abs(ft[valid] - fo[valid]).max()),
            "onnx_over_torch_speed": o["pixels_per_s"] / t["pixels_per_s"],
            "onnx_over_torch_peak_memory": o["peak_rss_mb"] / t["peak_rss_mb"],
            "note": "each engine in a fresh process through `hypersnn classify`; the ONNX run with torch hidden; "
                    "best of the repeats; speed and peak memory on the large raster, agreement on the scene"}
