"""Classify many rasters with one model: one class map (and optional confidence / probabilities / energy map)
per scene, and a manifest JSON that says what was done.

The manifest records the inputs with their sha256, the model and its sha256, the settings, and per scene its
status (done / failed / pending), outputs with their sha256, timings and class counts (and energy with an
energy map). It is rewritten atomically after every scene, so a stopped or crashed batch leaves a manifest that
is true. Run again with the same manifest, a batch skips every scene whose input, model, settings and outputs
still have the recorded checksums, and classifies the rest. A scene that fails is recorded with its error and
the batch goes on; the outcome says how many failed. With a scheduler, one Dask cluster serves every scene.

Side maps from an earlier run never pass for this run's: when a scene is classified again without an output
kind its manifest entry recorded (say the confidence map of an earlier model), that file is removed once the new
class map is written, if it still has the recorded checksum (it is then exactly what this batch wrote); a file
that changed since is left in place with a warning, and the entry lists it under "stale_outputs". A scene that
fails keeps its earlier outputs' records ("previous_outputs"), so a later run still knows them.

Paths are checked before any work: the manifest may not be a scene, the model or any scene's map, and no scene's
map may be another scene (`--out-dir b b/x.tif b/x_classes.tif` would overwrite the scene x_classes.tif). A folder
or pattern given as input leaves out the maps the manifest records as this batch's own outputs, so a batch can be
rerun into its input folder.

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

from ..core.config.schema import ClassifyConfig
from ..core.errors import Canceled, HyperSNNError, InputError
from ..core.io.files import atomic_write, check_output_dir, file_key, input_files
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


def expand_inputs(items, own_outputs=frozenset(), log=None) -> List[str]:
    """Absolute raster paths, in the order given (a folder or pattern sorted), each once; InputError naming the
    folder or pattern that matched nothing and the path that does not exist. A folder or pattern leaves out the
    absolute paths in `own_outputs` (the maps a batch's manifest records as its own), saying so through `log`."""
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
        if found != [item] and own_outputs:
            own = [p for p in found if os.path.abspath(p) in own_outputs]
            if own and log:
                log(f"{item}: {len(own)} map(s) this batch wrote are not taken as scenes ("
                    + ", ".join(os.path.basename(p) for p in own[:5]) + (", ..." if len(own) > 5 else "") + ")")
            found = [p for p in found if os.path.abspath(p) not in own_outputs]
            if not found:
                raise InputError(f"{item} holds no raster besides the maps this batch wrote")
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
        raise InputError(f"batch manifest {path} cannot be read ({e}); give --manifest another path, or move that "
                         f"file away to start a new batch") from None
    if not isinstance(m, dict) or not isinstance(m.get("scenes"), dict):
        raise InputError(f"batch manifest {path} is not a HyperSNN batch manifest (no 'scenes' object)")
    return m


def recorded_outputs(manifest: dict) -> set:
    """Absolute paths of every map a manifest records as written by its batch (scenes' maps, earlier ones kept
    by failed scenes, the mosaic's files)."""
    paths = set()
    for entry in (manifest.get("scenes") or {}).values():
        paths |= set(_earlier_outputs(entry))
    paths |= {os.path.abspath(rec["path"]) for rec in _records((manifest.get("mosaic") or {}).get("outputs"))}
    return paths


def _records(recs) -> list:
    """The output records ({path, sha256, ...}) of a manifest field: a {kind: record} object or a list."""
    recs = list(recs.values()) if isinstance(recs, dict) else recs if isinstance(recs, list) else []
    return [r for r in recs if isinstance(r, dict) and isinstance(r.get("path"), str) and r["path"]]


def _input_keys(job: "BatchJob", rasters: List[str]) -> dict:
    """{core/io/files.file_key: (path, what)} of every file the batch reads."""
    ins = {}
    for r in rasters:
        for f in input_files(r):
            ins.setdefault(file_key(f), (f, f"the scene {r}" if f == r else f"a file of the scene {r}"))
    ins.setdefault(file_key(job.model), (job.model, "the model file"))
    return ins


def check_manifest_path(job: "BatchJob", rasters: List[str], manifest_path: str, ins: Optional[dict] = None) -> None:
    """InputError, before the manifest is read or written, when it is a scene (or one of its files), the model,
    or a map a scene or the mosaic would get: it would be overwritten, or taken for a broken manifest."""
    ins = _input_keys(job, rasters) if ins is None else ins
    mkey = file_key(manifest_path)
    default = os.path.join(os.path.abspath(job.out_dir), "manifest.json")
    own = f"give the manifest a .json file of its own (e.g. {default})"
    if mkey in ins:
        raise InputError(f"The batch manifest {manifest_path} is {ins[mkey][1]}; {own}")
    stem_dir = os.path.abspath(job.out_dir)
    for r in rasters:
        for kind, suffix in OUTPUTS:  # every kind: a manifest named like a map would collide with a later run
            if file_key(os.path.join(stem_dir, f"{scene_name(r)}_{suffix}.tif")) == mkey:
                raise InputError(f"The batch manifest {manifest_path} would be the {kind.replace('_', ' ')} of "
                                 f"the scene {r}; {own}")
    if job.mosaic:
        from .mosaic import KINDS, mosaic_paths

        if any(file_key(p) == mkey for p in mosaic_paths(job.mosaic, KINDS).values()):
            raise InputError(f"The batch manifest {manifest_path} would be a file of the mosaic {job.mosaic}; {own}")


def check_batch_paths(job: "BatchJob", rasters: List[str], manifest_path: str) -> None:
    """InputError, before anything is read or written, for a manifest that clashes (check_manifest_path) or a
    scene's map that would be written over another scene (one pass over path keys: core/io/files.file_key)."""
    ins = _input_keys(job, rasters)
    check_manifest_path(job, rasters, manifest_path, ins)
    for r in rasters:
        for kind, p in _outputs_for(job, r).items():
            hit = ins.get(file_key(p))
            if hit is not None:
                raise InputError(f"The {kind.replace('_', ' ')} of the scene {r} would be written to {p}, which "
                                 f"is {hit[1]}: it would be overwritten. Classify into another output folder "
                                 f"(--out-dir), or leave {os.path.basename(p)} out of the scenes")


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
    manifest_path = os.path.abspath(job.manifest or os.path.join(out_dir, "manifest.json"))
    check_manifest_path(job, rasters, manifest_path)  # read only once it is known not to be a scene or a map
    old = read_manifest(manifest_path)
    own = recorded_outputs(old)
    if own:  # a rerun into the input folder: the maps this batch wrote are not scenes
        rasters = expand_inputs(job.inputs, own, cb.log)
    check_batch_paths(job, rasters, manifest_path)
    os.makedirs(out_dir, exist_ok=True)
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
                earlier = _earlier_outputs(entry)
                entry = _classify_scene(job, backend, cb, client, raster, outputs, i, n, share)
                entry.update(input_sha256=inputs, model_sha256=model_sha, settings=settings)
                _settle_earlier_outputs(entry, earlier, outputs, cb)
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


def _earlier_outputs(entry: Optional[dict]) -> dict:
    """{path: record} of the maps a scene's manifest entry says an earlier run wrote."""
    if not isinstance(entry, dict):
        return {}
    return {os.path.abspath(rec["path"]): rec
            for key in ("previous_outputs", "outputs") for rec in _records(entry.get(key))}


def _settle_earlier_outputs(entry: dict, earlier: dict, outputs: dict, cb: Callbacks) -> None:
    """After a scene ran: its earlier maps that this run did not write must not pass for this run's. Done: remove
    each one that still has its recorded checksum (exactly what this batch wrote), warn about and list one that
    changed since. Failed: keep their records, so a later run still knows them."""
    now = {os.path.abspath(p) for p in outputs.values()}
    stale = {p: rec for p, rec in earlier.items() if p not in now}
    if entry["status"] != "done":
        if earlier:
            entry["previous_outputs"] = list(earlier.values())
        return
    kept = []
    for p, rec in stale.items():
        if not os.path.isfile(p):
            continue
        try:
            unchanged = sha256_file(p) == rec.get("sha256")
        except OSError:
            unchanged = False
        if unchanged:
            with contextlib.suppress(OSError):
                os.remove(p)
                aux = p + ".aux.xml"
                if os.path.isfile(aux) and sha256_file(aux) == rec.get("aux_xml_sha256"):
                    os.remove(aux)
            cb.log(f"removed {p}: an earlier run of this batch wrote it, and this run has no such map "
                   f"(it would not match the new class map)")
        else:
            kept.append(p)
            cb.warn(f"{p} was written by an earlier run of this batch and has changed since, so it was left in "
                    f"place; it does not belong to the new class map {outputs['class_map']}")
    if kept:
        entry["stale_outputs"] = kept


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
