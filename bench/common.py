"""Shared pieces of the benchmarks: scenes, configurations, result files."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from hypersnn.core.config.schema import RunConfig
from hypersnn.core.io.files import atomic_write
from hypersnn.core.data.labels import labels_from_array, read_class_table
from hypersnn.core.io.raster import ArrayReader
from hypersnn.core.io.jsonable import to_jsonable

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def machine() -> dict:
    import torch
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "commit": _git("rev-parse", "--short", "HEAD"), "dirty": bool(_code_changes())}


def _code_changes() -> str:
    """Uncommitted changes to the code (the bench's own outputs under docs/ and bench/out/ do not count)."""
    lines = _git("status", "--porcelain").splitlines()
    return "\n".join(l for l in lines if not l[3:].startswith(("docs/results", "bench/out/")))


def _git(*args) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def indian_pines():
    """The bundled sample (GeoTIFF) as an in-memory reader and labels with names and colours."""
    from hypersnn.workflows.rasterio_reader import open_raster
    from hypersnn.core.data.scenes import sample_scene_paths

    p = sample_scene_paths()
    with open_raster(p["raster"]) as r:
        reader = ArrayReader(r.read(), r.info)
    with open_raster(p["labels"]) as r:
        gt = r.read()[:, :, 0]
    table = read_class_table(p["classes"])
    labels = labels_from_array(gt, {c.value: c.name for c in table}, {c.value: c.color for c in table}, nodata=0,
                               source=str(p["labels"]))
    return reader, labels


def other_scene(name: str, data_dirs):
    """(reader, labels) for a fetched benchmark scene, or (None, reason) when its cube is missing."""
    from hypersnn.core.data.scenes import SCENES, load_scene_file, scene_to_labels

    scene = SCENES[name]
    for d in data_dirs:
        d = Path(d)
        cube_f = d / scene.file("cube").filename
        gt_f = d / scene.file("gt").filename
        if cube_f.is_file() and gt_f.is_file():
            cube, gt = load_scene_file(cube_f, gt_f)
            return ArrayReader(cube), scene_to_labels(gt, name)
    return None, (f"cube {scene.file('cube').filename} not found in {', '.join(str(d) for d in data_dirs)}; "
                  f"run `hypersnn datasets fetch {name} --dest data/` to include it")


THREADS = 0
"""torch threads for every training run of the bench (0: torch's default); set by bench/run.py --threads."""


QUICK_MODEL = {"preprocess.pca_components": 6, "model.patch_size": 5, "model.conv3d_channels": [4],
               "model.conv3d_spectral_kernels": [3], "model.conv2d_channels": [8], "model.dense": [16]}
"""The network of `--quick` (as tests/tiny.py): the smoke test checks each section's wiring in seconds; the
figures come from the full run, which never uses this."""


def headline_config(arch: str = "hybrid", fraction: float = 0.3, seed: int = 0, quick: bool = False) -> RunConfig:
    """The demo's settings (workflows/demo.py) for either architecture; `quick`: the tiny network of
    QUICK_MODEL, one epoch per stage and one torch thread (tiny networks run fastest on one, and OpenMP's
    spinning threads slow them down many times on a busy machine) unless --threads says otherwise."""
    from hypersnn.workflows.demo import demo_config

    cfg = demo_config(quick=quick, seed=seed)
    cfg.train.threads = THREADS
    cfg.model.arch = arch
    cfg.split.train_fraction = fraction
    if quick:
        cfg.train.cnn_epochs, cfg.train.snn_epochs = 1, 1
        cfg.train.threads = THREADS or 1
        for key, value in QUICK_MODEL.items():
            section, name = key.split(".")
            setattr(getattr(cfg, section), name, list(value) if isinstance(value, list) else value)
    return cfg


DEFAULTS_NOTE = ("training defaults of 90f399f/76770b8: context dropout 0.5, weight averaging over 1 epoch, "
                 "validation of at least 50 pixels per class (else fixed epochs)")
"""Rows carry it, so a table that mixes them with rows measured before those defaults can say which is which."""


class Results:
    """Results JSON written after every row, so a long run that stops keeps what it measured."""

    def __init__(self, path: Path, quick: bool, md_path: Path = None, resume: bool = False):
        self.path = Path(path)
        self.md_path = md_path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.data = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": quick,
                     "machine": machine(), "complete": False, "sections": {}}
        if resume and self.path.is_file():
            old = json.loads(self.path.read_text())
            if old.get("quick") == quick:
                self.data["sections"] = old.get("sections", {})
                self.data["created"] = old.get("created", self.data["created"])
                self.data["resumed"] = old.get("resumed", []) + [
                    {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": self.data["machine"]}]
                self.data["machine"] = old.get("machine", self.data["machine"])

    def has(self, section: str, value, key: str = "label") -> bool:
        """Whether `section` already holds a row whose `key` is `value` (for --resume)."""
        return any(isinstance(r, dict) and r.get(key) == value for r in self.data["sections"].get(section, []))

    def add(self, section: str, row: dict):
        self.data["sections"].setdefault(section, []).append(row)
        self.save()

    def set(self, section: str, value):
        self.data["sections"][section] = value
        self.save()

    def save(self):
        atomic_write(self.path, json.dumps(to_jsonable(self.data), indent=1), what="bench results")
        if self.md_path:
            from bench.report import write_markdown
            try:
                write_markdown(self.data, self.md_path)
            except Exception as e:  # noqa: BLE001 - a table bug must not cost a two-hour run; the JSON is saved
                print(f"[bench] could not write {self.md_path}: {type(e).__name__}: {e} (rerun bench/report.py)",
                      flush=True)

    def finish(self):
        self.data["complete"] = True
        self.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.save()
