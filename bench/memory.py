"""Peak memory of full-scene classification on a large generated GeoTIFF (does not grow with size)."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
from hypersnn.cli import main
t0 = time.perf_counter()
rc = main(["classify", "--model", sys.argv[1], "--raster", sys.argv[2], "--out", sys.argv[3], "--quiet"]
          + (["--window", sys.argv[4]] if sys.argv[4] != "default" else []))
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}))
"""


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM, the high-water mark of this process image. Not
    getrusage's ru_maxrss, which Linux carries across exec: a child of a large process (a spawned Dask worker,
    a bench child) would report the parent's size."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PEAK = inspect.getsource(peak_rss_mb) + "\n"
"""`peak_rss_mb` as source, prepended to the child scripts (which run with `python -c`)."""


def run_child(code: str, *args) -> dict:
    """Run `code` (which prints one JSON line last, and may call peak_rss_mb()) in a fresh interpreter."""
    r = subprocess.run([sys.executable, "-c", PEAK + code, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"child failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def make_large_geotiff(path: Path, size: int, source_cube: np.ndarray, like_info) -> Path:
    """Tile a real scene over a size x size grid, written window by window (never whole in memory)."""
    import rasterio
    from rasterio.transform import Affine
    from rasterio.windows import Window

    h, w, b = source_cube.shape
    x0, dx, _, y0, _, dy = like_info.transform
    prof = {"driver": "GTiff", "width": size, "height": size, "count": b, "dtype": "int16", "tiled": True,
            "blockxsize": 256, "blockysize": 256, "interleave": "pixel", "BIGTIFF": "YES",
            "crs": like_info.crs_wkt or None, "transform": Affine(dx, 0, x0, 0, dy, y0)}
    band_first = np.ascontiguousarray(source_cube.transpose(2, 0, 1).astype(np.int16))
    with rasterio.open(path, "w", **prof) as ds:
        for r in range(0, size, 256):
            for c in range(0, size, 256):
                hh, ww = min(256, size - r), min(256, size - c)
                rr = (np.arange(r, r + hh) % h)[:, None]
                cc = (np.arange(c, c + ww) % w)[None, :]
                ds.write(band_first[:, rr, cc], window=Window(c, r, ww, hh))
    return path


def classify_peak_memory(model_path, raster_path, out_path, window=None) -> dict:
    """Peak RSS of `hypersnn classify` in a fresh process (the default window unless `window` is given)."""
    return run_child(CHILD, model_path, raster_path, out_path, window or "default")
