"""Classification on a Dask cluster against one process: pixels per second with 1 and 2 local workers and in
this process on the same raster and model, and the scheduler's overhead per window task for window sizes 64-512.

Each path classifies through workflows/classify.run_classify (the CLI's path) with the torch engine and one
intra-op thread per window computation (core/mapping/predict.WINDOW_TORCH_THREADS), so the paths do the same arithmetic;
every Dask map is checked to be the single-process map byte for byte. A cluster is started once per worker count
(workflows/distributed.local_cluster, as `--scheduler local:N` starts it) and warmed by one run (the workers' imports and model load are reported as start-up, not as throughput).
Overhead per task = (time with 1 worker - time in this process) / tasks, at the same window size: scheduling,
pickling the window's result, shipping it back and the driver's waiting, net of the identical computation.

    python -m bench.dask_bench MODEL RASTER [--quick]
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from bench.memory import peak_rss_mb


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _classify(model_path, raster_path, out: Path, window: int, client=None, repeats: int = 1) -> dict:
    """Best of `repeats` runs: seconds of the classification loop, pixels, tasks, and the map's sha256."""
    from hypersnn.workflows.rasterio_backend import RasterioBackend
    from hypersnn.core.config.schema import ClassifyConfig
    from hypersnn.workflows.classify import ClassifyJob, run_classify

    best = None
    for _ in range(repeats):
        job = ClassifyJob(str(raster_path), str(model_path), str(out), str(out.with_suffix(".conf.tif")),
                          cfg=ClassifyConfig(window=window, engine="torch"))
        t0 = time.perf_counter()
        res = run_classify(job, RasterioBackend(), client=client)
        wall = time.perf_counter() - t0
        row = {"seconds": res.seconds, "wall_s": wall, "pixels": res.pixels,
               "pixels_per_s": res.pixels / max(res.seconds, 1e-9)}
        best = row if best is None or row["seconds"] < best["seconds"] else best
    best["sha256"] = _sha(out) + _sha(out.with_suffix(".conf.tif"))
    return best


def _noop(x):
    return x


def dask_rows(model_path, raster_path, tmpdir, quick: bool) -> dict:
    """The measurements as one dict (rows for the report, a note saying how they were taken)."""
    import distributed

    from hypersnn.core.io.raster import iter_windows
    from hypersnn.workflows.distributed import local_cluster
    from hypersnn.workflows.rasterio_backend import RasterioBackend

    tmp = Path(tmpdir)
    tmp.mkdir(parents=True, exist_ok=True)
    info = RasterioBackend().open_raster(str(raster_path)).info
    windows = (64, 128) if quick else (64, 128, 256, 512)
    repeats = 1 if quick else 2
    single = {w: _classify(model_path, raster_path, tmp / f"single_{w}.tif", w, repeats=repeats) for w in windows}
    rows, overhead, worker_rss = [], [], {}
    for w in windows:
        rows.append({"path": "single process", "workers": 0, "window": w, **_drop(single[w])})
    for n in (1, 2):
        t0 = time.perf_counter()
        with local_cluster(n) as cluster, distributed.Client(cluster) as client:
            started = time.perf_counter() - t0
            t1 = time.perf_counter()
            _classify(model_path, raster_path, tmp / "warm.tif", windows[0], client=client)  # imports, model load
            warm = time.perf_counter() - t1
            t2 = time.perf_counter()
            client.gather(client.map(_noop, range(200), pure=False))
            noop_ms = (time.perf_counter() - t2) / 200 * 1e3
            for w in windows:
                r = _classify(model_path, raster_path, tmp / f"dask{n}_{w}.tif", w, client=client, repeats=repeats)
                tasks = len(list(iter_windows(info.height, info.width, w)))
                same = r["sha256"] == single[w]["sha256"]
                rows.append({"path": f"dask local:{n}", "workers": n, "window": w, "tasks": tasks,
                             "identical_to_single": same, "cluster_start_s": started, "first_run_s": warm,
                             "noop_task_ms": noop_ms, **_drop(r)})
                if n == 1:
                    overhead.append({"window": w, "tasks": tasks,
                                     "overhead_ms_per_task": (r["seconds"] - single[w]["seconds"]) / tasks * 1e3,
                                     "noop_task_ms": noop_ms})
                # peak RSS only grows and the windows run smallest first: this is the peak for windows up to w
                worker_rss.setdefault(f"local:{n}", {})[str(w)] = max(client.run(peak_rss_mb).values())
    return {"raster": str(raster_path), "pixels": info.width * info.height, "bands": info.count,
            "rows": rows, "overhead": overhead, "worker_peak_rss_mb": worker_rss,
            "note": "torch engine, one intra-op thread per window in every path; best of the repeats; Dask maps "
                    "compared with the single-process map by sha256 (class map + confidence); overhead per task = "
                    "(1-worker time - single-process time) / tasks; noop_task_ms: round trip of a trivial task"}


def _drop(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "sha256"}


if __name__ == "__main__":
    import tempfile

    args = [a for a in sys.argv[1:] if a != "--quick"]
    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(dask_rows(args[0], args[1], d, "--quick" in sys.argv), indent=1))
