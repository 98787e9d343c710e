"""Classify many rasters with one model: one class map (and optional confidence / probabilities / energy map)
per scene, and a manifest JSON that says what was done.

The manifest records the inputs with their sha256, the model and its sha256, the settings, and per scene its
status (done / failed / pending), outputs with their sha256, timings and class counts (and energy with an
energy map). It is rewritten atomically after every scene, so a stopped or crashed batch leaves a manifest that
is true. Run again with the same manifest, a batch skips every scene whose input, model, settings and outputs
still have the recorded checksums, and classifies the rest. A scene that fails is recorded with its error and
the batch goes on; the outcome says how many failed. With a scheduler, one Dask cluster serves every scene.

With `mosaic`, the scenes' maps are then put on one grid (workflows/mosaic.py): built only when every scene is
classified, recorded in the manifest with the checksums of the scene maps it was built from, and rebuilt on a
rerun only when one of those, or the mosaic itself, changed.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import List, Optional

from ..core.config import ClassifyConfig
from ..core.errors import Canceled, HyperSNNError, InputError
from ..core.files import atomic_write, check_output_dir, input_files
from .backend import IOBackend
from .callbacks import Callbacks
from .classify import ClassifyJob, run_classify

RASTER_EXTS = (".tif", ".tiff", ".hdr", ".vrt", ".img")
"""What a folder given as input contributes (an ENVI scene by its header, so each scene counts once)."""
MANIFEST_VERSION = 1
OUTPUTS = (("class_map", "classes"), ("confidence", "confidence"), ("probabilities", "probabilities"),
           ("energy_map", "energy"))


@dataclass
class BatchJob:
    inputs: List[str]
    """raster files, glob patterns and folders (a folder: its rasters, not recursive)"""
    model: str
    out_dir: str
    manifest: Optional[str] = None
    """default: <out_dir>/manifest.json"""
    confidence: bool = False
    probabilities: bool = False
    energy_map: bool = False
    cfg: ClassifyConfig = field(default_factory=ClassifyConfig)
    mosaic: Optional[str] = None
    """also mosaic the scenes' maps: the class map at this path, the other kinds beside it (X_confidence.tif,
    ...); confidence maps are then always written (the most confident scene wins where scenes overlap)"""


@dataclass
class BatchOutcome:
    manifest: str
    done: int
    skipped: int
    failed: int
    scenes: list
    seconds: float
    mosaic: Optional[dict] = None
    """the manifest's mosaic entry (status built / unchanged / not built, outputs, size) when one was asked for"""

    @property
    def ok(self) -> bool:
        return self.failed == 0


def expand_inputs(items) -> List[str]:
    """Absolute raster paths, in the order given (a folder or pattern sorted), each once; InputError naming the
    folder or pattern that matched nothing and the path that does not exist."""
    out = []
    for item in items:
        item = os.fspath(item)
        if os.path.isdir(item):
            found = sorted(os.path.join(item, n) for n in os.listdir(item)
                           if n.lower().endswith(RASTER_EXTS) and not n.startswith(".")
                           and os.path.isfile(os.path.join(item, n)))
            found = [p for p in found if not _envi_data_of_header_in(p, found)]
            if not found:
                raise InputError(f"folder {item} holds no raster ({', '.join(RASTER_EXTS)})")
        elif glob.has_magic(item):
            found = sorted(p for p in glob.glob(item) if os.path.isfile(p))
            if not found:
                raise InputError(f"no raster matches {item}")
        elif os.path.isfile(item):
            found = [item]
        else:
            raise InputError(f"raster not found: {item}")
        out += [os.path.abspath(p) for p in found]
    seen, unique = set(), []
    for p in out:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    stems = {}
    for p in unique:
        stem = scene_name(p)
        if stem in stems:
            raise InputError(f"{stems[stem]} and {p} would write maps of the same name ({stem}_classes.tif); "
                             f"rename one or classify them in separate batches")
        stems[stem] = p
    return unique


def _envi_data_of_header_in(path: str, listed) -> bool:
    """An ENVI data file (.img) whose header is also listed: the scene is taken once, by its header."""
    return path.lower().endswith(".img") and any(os.path.splitext(q)[0] == os.path.splitext(path)[0]
                                                 and q.lower().endswith(".hdr") for q in listed)


def scene_name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def input_checksums(path: str) -> dict:
    """sha256 of every file the raster consists of (an ENVI scene: header and data)."""
    return {os.path.abspath(p): sha256_file(p) for p in input_files(path) if os.path.isfile(p)}


def read_manifest(path: str) -> dict:
    """The manifest at `path`, or an empty one; InputError naming the file when it is not a manifest."""
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"batch manifest {path} cannot be read ({e}); move it away to start a new batch") from None
    if not isinstance(m, dict) or not isinstance(m.get("scenes"), dict):
        raise InputError(f"batch manifest {path} is not a HyperSNN batch manifest (no 'scenes' object)")
    return m


def _settings_of(job: BatchJob) -> dict:
    """What decides a scene's output bytes (not where the windows were computed: the scheduler is left out)."""
    cfg = {k: v for k, v in asdict(job.cfg).items() if k != "scheduler"}
    return {"classify": cfg, "confidence": job.confidence, "probabilities": job.probabilities,
            "energy_map": job.energy_map}


def _outputs_for(job: BatchJob, raster: str) -> dict:
    stem = os.path.join(os.path.abspath(job.out_dir), scene_name(raster))
    want = {"class_map": True, "confidence": job.confidence, "probabilities": job.probabilities,
            "energy_map": job.energy_map}
    return {k: f"{stem}_{suffix}.tif" for k, suffix in OUTPUTS if want[k]}


def _still_done(entry: Optional[dict], inputs: dict, model_sha: str, settings: dict, outputs: dict) -> bool:
    """A scene finished by an earlier run whose input, model, settings and outputs are unchanged."""
    if not entry or entry.get("status") != "done":
        return False
    if entry.get("input_sha256") != inputs or entry.get("model_sha256") != model_sha or entry.get("settings") != settings:
        return False
    recorded = entry.get("outputs") or {}
    if set(recorded) != set(outputs):
        return False
    for kind, path in outputs.items():
        if not os.path.isfile(path) or recorded[kind] != _output_record(path):
            return False
    return True


def _output_record(path: str) -> dict:
    """An output's path and sha256, and those of its metadata sidecar (class names) when it has one."""
    rec = {"path": path, "sha256": sha256_file(path)}
    if os.path.isfile(path + ".aux.xml"):
        rec["aux_xml_sha256"] = sha256_file(path + ".aux.xml")
    return rec


def run_batch(job: BatchJob, backend: IOBackend, cb: Optional[Callbacks] = None) -> BatchOutcome:
    cb = cb or Callbacks()
    t0 = time.perf_counter()
    if job.mosaic and not job.confidence:
        cb.log("the mosaic needs confidence maps (the most confident scene wins where scenes overlap): "
               "writing them")
        job = replace(job, confidence=True)
    rasters = expand_inputs(job.inputs)
    if not os.path.isfile(job.model):
        raise InputError(f"model file not found: {job.model}")
    out_dir = check_output_dir(job.out_dir, "batch output folder")
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = os.path.abspath(job.manifest or os.path.join(out_dir, "manifest.json"))
    old = read_manifest(manifest_path)
    model_sha = sha256_file(job.model)
    settings = _settings_of(job)
    manifest = {"version": MANIFEST_VERSION, "model": {"path": os.path.abspath(job.model), "sha256": model_sha},
                "settings": settings, "scheduler": job.cfg.scheduler or None, "out_dir": out_dir,
                "scenes": dict(old.get("scenes", {}))}

    def save():
        manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        atomic_write(manifest_path, json.dumps(manifest, indent=1, ensure_ascii=False), what="batch manifest")

    mosaic_out = _mosaic_outputs(job, rasters)
    for r in rasters:  # every scene listed from the start: a stopped batch shows what is left
        manifest["scenes"].setdefault(r, {"status": "pending"})
    if old.get("mosaic"):
        manifest["mosaic"] = old["mosaic"]
    save()
    done = skipped = failed = 0
    n = len(rasters)
    share = 0.9 if mosaic_out else 1.0
    with contextlib.ExitStack() as stack:
        client = None
        if job.cfg.scheduler:
            from .distributed import dask_client
            cb.log(f"starting Dask: {job.cfg.scheduler}")
            client = stack.enter_context(dask_client(job.cfg.scheduler))
        for i, raster in enumerate(rasters):
            if cb.is_canceled():
                raise Canceled(f"batch canceled before scene {i + 1}/{n} ({raster}); the manifest {manifest_path} "
                               f"records the scenes finished")
            outputs = _outputs_for(job, raster)
            entry = manifest["scenes"].get(raster)
            try:
                inputs = input_checksums(raster)
            except OSError as e:
                inputs = None
                entry = {"status": "failed", "error": f"cannot read {raster}: {e}"}
            if inputs is not None and _still_done(entry, inputs, model_sha, settings, outputs):
                skipped += 1
                cb.log(f"scene {i + 1}/{n}: {raster} already classified (checksums match); skipped")
                continue
            if inputs is not None:
                entry = _classify_scene(job, backend, cb, client, raster, outputs, i, n, share)
                entry.update(input_sha256=inputs, model_sha256=model_sha, settings=settings)
            manifest["scenes"][raster] = entry
            save()
            if entry["status"] == "done":
                done += 1
            else:
                failed += 1
                cb.log(f"scene {i + 1}/{n}: {raster} failed: {entry['error']}")
    if mosaic_out:
        manifest["mosaic"] = _mosaic(job, backend, cb, manifest, rasters, mosaic_out, failed, share)
        save()
    cb.progress(1.0, f"batch: {done} classified, {skipped} skipped, {failed} failed")
    return BatchOutcome(manifest_path, done, skipped, failed,
                        [dict(manifest["scenes"][r], input=r) for r in rasters], time.perf_counter() - t0,
                        manifest.get("mosaic") if mosaic_out else None)


def _mosaic_outputs(job: BatchJob, rasters) -> Optional[dict]:
    """{kind: path} of the mosaic, or None; InputError when a mosaic file would be a scene's map."""
    if not job.mosaic:
        return None
    from .mosaic import mosaic_paths

    want = [k for k, on in (("class_map", True), ("confidence", True), ("probabilities", job.probabilities),
                            ("energy_map", job.energy_map)) if on]
    out = mosaic_paths(job.mosaic, want)
    scene_files = {p for r in rasters for p in _outputs_for(job, r).values()}
    for p in out.values():
        if p in scene_files or p in rasters:
            raise InputError(f"mosaic {p} would overwrite a scene or a scene's map; choose another name or folder")
    return out


def _mosaic(job, backend, cb, manifest, rasters, out, failed, share) -> dict:
    """Build (or keep) the mosaic: its manifest entry."""
    from .classify import map_writer
    from .mosaic import write_mosaic

    if failed:
        cb.log(f"mosaic not built: {failed} scene(s) failed (fix or remove them and run the batch again)")
        return {"status": "not built", "reason": f"{failed} scene(s) failed", "outputs": None}
    sources = [{k: v["path"] for k, v in manifest["scenes"][r]["outputs"].items()} for r in rasters]
    built_from = [{k: v["sha256"] for k, v in manifest["scenes"][r]["outputs"].items()} for r in rasters]
    prev = manifest.get("mosaic") or {}
    if (prev.get("status") in ("built", "unchanged") and prev.get("built_from") == built_from
            and set(prev.get("outputs") or {}) == set(out)
            and all(os.path.isfile(p) and prev["outputs"][k] == _output_record(p) for k, p in out.items())):
        cb.log(f"mosaic {out['class_map']} unchanged (its scenes' maps have the recorded checksums); kept")
        return dict(prev, status="unchanged")
    t0 = time.perf_counter()
    res = write_mosaic(sources, out, backend, map_writer(backend, job.cfg),
                       progress=lambda f, m: cb.progress(share + (1 - share) * f, m), is_canceled=cb.is_canceled)
    entry = {"status": "built", "outputs": {k: _output_record(p) for k, p in out.items()},
             "built_from": built_from, "width": res.width, "height": res.height, "scenes": res.scenes,
             "valid_pixels": res.valid_pixels, "overlap_pixels": res.overlap_pixels,
             "overlap_rule": "the most confident scene's pixel (ties: the scene listed first)",
             "seconds": round(time.perf_counter() - t0, 3)}
    cb.log(f"mosaic written: {out['class_map']} ({res.width} x {res.height}, {res.scenes} scenes, "
           f"{res.overlap_pixels} overlapping pixels, {entry['seconds']:.1f} s)")
    return entry


def _classify_scene(job, backend, cb, client, raster, outputs, i, n, share=1.0) -> dict:
    """One scene through workflows/classify.run_classify: its manifest entry, done or failed. Cancel and
    Ctrl-C are not a scene's failure: they stop the batch (the manifest keeps what was finished)."""
    sub = Callbacks(progress=lambda f, m: cb.progress(share * (i + f) / n, f"scene {i + 1}/{n}: {m}"),
                    is_canceled=cb.is_canceled, log=cb.log)
    cjob = ClassifyJob(raster, job.model, outputs["class_map"], outputs.get("confidence"),
                       outputs.get("probabilities"), outputs.get("energy_map"), job.cfg)
    t0 = time.perf_counter()
    try:
        res = run_classify(cjob, backend, sub, client=client)
    except Canceled:
        raise
    except HyperSNNError as e:
        return {"status": "failed", "error": str(e), "seconds": round(time.perf_counter() - t0, 3)}
    except Exception as e:  # noqa: BLE001 - one scene's unexpected failure must not lose the others
        return {"status": "failed", "error": f"{type(e).__name__}: {e}", "seconds": round(time.perf_counter() - t0, 3)}
    entry = {"status": "done", "seconds": round(time.perf_counter() - t0, 3), "pixels": res.pixels,
             "valid_pixels": res.valid_pixels, "class_counts": res.class_counts, "engine": res.engine,
             "outputs": {k: _output_record(p) for k, p in outputs.items()},
             "warnings": res.warnings}
    if res.energy:
        entry["energy"] = res.energy
    cb.log(f"scene {i + 1}/{n}: {raster} classified ({res.valid_pixels} pixels, {entry['seconds']:.1f} s)")
    return entry
