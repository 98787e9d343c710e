"""Benchmark scenes (Indian Pines, Pavia University, Salinas): registry, download and loading.

The published scenes are MATLAB files without georeferencing; they are the standard yardstick for
hyperspectral classifiers, so the CLI and the plugin can fetch them (`fetch`, stdlib only so it
works inside QGIS) and load them (`load_scene_file`). A small georeferenced copy of Indian Pines
ships in `resources/indian_pines/` (`sample_scene_paths`).
"""
from __future__ import annotations

import hashlib
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ..assets import RESOURCES
from ..errors import HyperSNNError, InputError
from ..io.files import atomic_path
from .labels import Labels, labels_from_array

GIC_PAGE = "https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes"
_GIC = "https://www.ehu.eus/ccwintco/uploads"


@dataclass(frozen=True)
class RemoteFile:
    role: str                 # "cube" | "gt"
    filename: str
    url: str
    variable: str             # MATLAB variable holding the array
    sha256: Optional[str] = None
    size: Optional[int] = None


@dataclass(frozen=True)
class Scene:
    name: str
    title: str
    sensor: str
    gsd_m: float
    shape: Tuple[int, int, int]
    class_names: Tuple[str, ...]
    files: Tuple[RemoteFile, ...]
    credit: str = ""

    def file(self, role: str) -> RemoteFile:
        return next(f for f in self.files if f.role == role)


SCENES: Dict[str, Scene] = {
    "indian_pines": Scene(
        name="indian_pines", title="Indian Pines (corrected, 200 bands)", sensor="AVIRIS", gsd_m=20.0,
        shape=(145, 145, 200),
        class_names=(
            "Alfalfa", "Corn-notill", "Corn-mintill", "Corn", "Grass-pasture", "Grass-trees",
            "Grass-pasture-mowed", "Hay-windrowed", "Oats", "Soybean-notill", "Soybean-mintill",
            "Soybean-clean", "Wheat", "Woods", "Buildings-Grass-Trees-Drives", "Stone-Steel-Towers",
        ),
        files=(
            RemoteFile("cube", "Indian_pines_corrected.mat", f"{_GIC}/6/67/Indian_pines_corrected.mat",
                       "indian_pines_corrected",
                       "ec2f8808710919d566f70f0d4aa885aae1ddfd42b734aba71c5e12ca65450939", 5953527),
            RemoteFile("gt", "Indian_pines_gt.mat", f"{_GIC}/c/c4/Indian_pines_gt.mat", "indian_pines_gt",
                       "65c4687a8ab04f6da4789799bc3bc4f6e88bccac3ed6a2e6ae367e5e6b9e429c", 1125),
        ),
        credit="Baumgardner, Biehl, Landgrebe (2015), Purdue University Research Repository, "
               "doi:10.4231/R7RX991C (CC BY 3.0); distributed by GIC, UPV/EHU",
    ),
    "pavia_university": Scene(
        name="pavia_university", title="Pavia University", sensor="ROSIS-03", gsd_m=1.3, shape=(610, 340, 103),
        class_names=(
            "Asphalt", "Meadows", "Gravel", "Trees", "Painted metal sheets", "Bare Soil", "Bitumen",
            "Self-Blocking Bricks", "Shadows",
        ),
        files=(
            RemoteFile("cube", "PaviaU.mat", f"{_GIC}/e/ee/PaviaU.mat", "paviaU",
                       "28447fa87f7a5797845e9a189c0da85e23b1d06a4ba7361e5ff44efbf834d2fb", 34806917),
            RemoteFile("gt", "PaviaU_gt.mat", f"{_GIC}/5/50/PaviaU_gt.mat", "paviaU_gt",
                       "23f6a426928f9b32984adffe659e29f554f9fb6c93b5a107528d308d5087a829", 11005),
        ),
        credit="Prof. Paolo Gamba, University of Pavia; distributed by GIC, UPV/EHU",
    ),
    "salinas": Scene(
        name="salinas", title="Salinas (corrected, 204 bands)", sensor="AVIRIS", gsd_m=3.7, shape=(512, 217, 204),
        class_names=(
            "Brocoli_green_weeds_1", "Brocoli_green_weeds_2", "Fallow", "Fallow_rough_plow", "Fallow_smooth",
            "Stubble", "Celery", "Grapes_untrained", "Soil_vinyard_develop", "Corn_senesced_green_weeds",
            "Lettuce_romaine_4wk", "Lettuce_romaine_5wk", "Lettuce_romaine_6wk", "Lettuce_romaine_7wk",
            "Vinyard_untrained", "Vinyard_vertical_trellis",
        ),
        files=(
            RemoteFile("cube", "Salinas_corrected.mat", f"{_GIC}/a/a3/Salinas_corrected.mat", "salinas_corrected",
                       "5ec1c0d22f56d18ecd336f8e35735863c0f160682e04e0c18ef3f89a3334d87d", 26552770),
            RemoteFile("gt", "Salinas_gt.mat", f"{_GIC}/f/fa/Salinas_gt.mat", "salinas_gt",
                       "ecfab4d31ef5553f097943235d8ea502038eb4a2067b2ad10b33e37c949955e2", 4277),
        ),
        credit="AVIRIS, NASA JPL; distributed by GIC, UPV/EHU",
    ),
}


def get_scene(name: str) -> Scene:
    try:
        return SCENES[name]
    except KeyError:
        raise InputError(f"Unknown scene {name!r}; known scenes: {', '.join(SCENES)}") from None


# --------------------------------------------------------------------------------------------------
# download


def sha256_file(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _download(url: str, dest: Path, sha256: Optional[str], timeout: float,
              progress: Optional[Callable[[int, Optional[int]], None]]) -> None:
    manual = f"download it manually from {url} and place it at {dest}"
    h = hashlib.sha256()
    with atomic_path(dest, suffix=".part", what="download") as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
                total = int(total) if total and str(total).isdigit() else None
                done = 0
                while True:
                    block = resp.read(1 << 16)
                    if not block:
                        break
                    out.write(block)
                    h.update(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
        except urllib.error.HTTPError as e:
            raise HyperSNNError(f"Could not download {url}: the server answered {e.code} {e.reason}; {manual}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise HyperSNNError(f"Could not reach {url} ({reason}); {manual}") from None
        except (OSError, ValueError) as e:
            raise HyperSNNError(f"Could not download {url} to {dest} ({e}); {manual}") from None
        got = h.hexdigest()
        if sha256 and got.lower() != sha256.lower():
            raise HyperSNNError(f"Checksum mismatch for {dest.name} from {url}: expected sha256 {sha256}, got {got}; "
                                f"the download was deleted. Try again later or {manual}")


def fetch(name: str, dest_dir, urls: Optional[Union[Dict[str, str], Sequence[str]]] = None, timeout: float = 30,
          progress: Optional[Callable[[int, Optional[int]], None]] = None,
          roles: Optional[Sequence[str]] = None) -> Dict[str, Path]:
    """Download a scene's cube and ground truth into `dest_dir` -> {"cube": path, "gt": path}.

    Each file is streamed to a hidden temporary file, checked against the known sha256 (a mismatch
    deletes it) and renamed into place, so `dest_dir` never holds a partial file. Files already
    there with the right checksum are kept. `urls` overrides the GIC addresses (role -> URL, or a
    list in (cube, gt) order), e.g. for a mirror; `roles` limits the download (e.g. ["gt"]).
    """
    scene = get_scene(name)
    if urls is None:
        urls = {}
    elif not isinstance(urls, dict):
        urls = dict(zip([f.role for f in scene.files], urls))
    dest = Path(dest_dir)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HyperSNNError(f"Cannot create download folder {dest}: {e.strerror or e}") from None
    known = [f.role for f in scene.files]
    for r in roles or ():
        if r not in known:
            raise InputError(f"Scene {name!r} has no file {r!r}; it has {', '.join(known)}")
    out = {}
    for f in scene.files:
        if roles is not None and f.role not in roles:
            continue
        target = dest / f.filename
        if target.is_file() and (f.sha256 is None or sha256_file(target) == f.sha256):
            out[f.role] = target
            continue
        _download(urls.get(f.role, f.url), target, f.sha256, timeout, progress)
        out[f.role] = target
    return out


# --------------------------------------------------------------------------------------------------
# loading


def _load_arrays(path: Path) -> Dict[str, np.ndarray]:
    """Named numeric arrays of a .npz/.npy/.mat file."""
    if not path.is_file():
        raise InputError(f"Scene file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".npz", ".npy"):
        try:
            z = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise InputError(f"Cannot read {path} as a numpy file: {e}") from None
        if isinstance(z, np.ndarray):
            return {"cube": z} if z.ndim == 3 else {"gt": z}
        with z:
            return {k: z[k] for k in z.files}
    if suffix == ".mat":
        with open(path, "rb") as fh:
            head = fh.read(128)
        if b"MATLAB 7.3" in head or head.startswith(b"\x89HDF"):
            raise InputError(f"{path} is a MATLAB v7.3 (HDF5) file, which cannot be read here; convert it in "
                             f"MATLAB/Octave with save('out.mat', 'var', '-v7') or export it to .npz with h5py")
        import scipy.io

        try:
            d = scipy.io.loadmat(str(path))
        except NotImplementedError:
            raise InputError(f"{path} is a MATLAB v7.3 (HDF5) file, which cannot be read here; convert it with "
                             f"save('out.mat', 'var', '-v7') or to .npz with h5py") from None
        except Exception as e:  # noqa: BLE001 - scipy raises many types for corrupt files
            raise InputError(f"Cannot read {path} as a MATLAB file: {e}") from None
        return {k: v for k, v in d.items() if not k.startswith("__") and isinstance(v, np.ndarray)
                and v.dtype.kind in "iuf"}
    raise InputError(f"{path}: unsupported scene file type {suffix!r} (use .npz, .npy or .mat)")


def _pick(arrays: Dict[str, np.ndarray], role: str, path: Path) -> Optional[np.ndarray]:
    keys = ("cube", "data") if role == "cube" else ("gt", "labels")
    for k in keys:
        if k in arrays:
            return arrays[k]
    if path.suffix.lower() == ".mat":
        if role == "cube":
            cands = [a for a in arrays.values() if a.ndim == 3]
        else:
            cands = [a for a in arrays.values() if a.ndim == 2 and a.dtype.kind in "iu"]
        if cands:
            return max(cands, key=lambda a: a.size)
    return None


def load_scene_file(path, gt_path=None) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(cube (H, W, B), ground truth (H, W) or None) from a .npz (keys cube/gt or data/labels), .npy
    or .mat (largest 3-D array = cube, largest 2-D integer array = gt). `gt_path` reads the ground
    truth from a second file, as the GIC scenes come in two."""
    p = Path(path)
    arrays = _load_arrays(p)
    cube = _pick(arrays, "cube", p)
    if cube is None or cube.ndim != 3:
        raise InputError(f"{p} holds no 3-D image cube (found: "
                         f"{', '.join(f'{k} {v.shape}' for k, v in arrays.items()) or 'nothing usable'}); "
                         f"a .npz needs a key 'cube' or 'data'")
    gt = None
    gsrc = p
    if gt_path is not None:
        gsrc = Path(gt_path)
        garr = _load_arrays(gsrc)
        gt = _pick(garr, "gt", gsrc)
        if gt is None:
            raise InputError(f"{gsrc} holds no 2-D integer ground-truth array (a .npz needs a key 'gt' or 'labels')")
    else:
        gt = _pick(arrays, "gt", p)
    if gt is not None:
        if gt.ndim != 2 or gt.shape != cube.shape[:2]:
            raise InputError(f"Ground truth in {gsrc} has shape {gt.shape} but the cube in {p} is "
                             f"{cube.shape[0]}x{cube.shape[1]} pixels")
    return np.ascontiguousarray(cube), (None if gt is None else np.ascontiguousarray(gt))


def load_scene(name: str, data_dir) -> Tuple[np.ndarray, np.ndarray]:
    """Cube and ground truth of a registered scene whose files `fetch` put in `data_dir`."""
    scene = get_scene(name)
    d = Path(data_dir)
    cf, gf = d / scene.file("cube").filename, d / scene.file("gt").filename
    for f in (cf, gf):
        if not f.is_file():
            raise InputError(f"{f} not found: run the fetch for scene {name!r} or download it from {GIC_PAGE}")
    cube, gt = load_scene_file(cf, gf)
    if gt is None:  # pragma: no cover - load_scene_file raises first
        raise InputError(f"No ground truth in {gf}")
    return cube, gt


def scene_to_labels(gt: np.ndarray, name: str) -> Labels:
    """Labels for a scene's ground truth with the published class names (0 = unlabelled)."""
    scene = get_scene(name)
    names = {i + 1: n for i, n in enumerate(scene.class_names)}
    top = int(np.max(gt)) if gt.size else 0
    if top > len(scene.class_names):
        raise InputError(f"Ground truth has class value {top} but scene {name!r} has {len(scene.class_names)} classes")
    return labels_from_array(gt, names=names, source=scene.title)


def sample_scene_paths() -> Dict[str, Path]:
    """The bundled georeferenced Indian Pines sample: keys raster (alias cube), labels (alias gt),
    classes (classes.json) and readme."""
    root = Path(RESOURCES) / "indian_pines"
    paths = {"raster": root / "indian_pines.tif", "labels": root / "indian_pines_gt.tif",
             "classes": root / "classes.json", "readme": root / "README.md"}
    paths["cube"], paths["gt"] = paths["raster"], paths["labels"]
    missing = sorted({str(p) for p in paths.values() if not p.is_file()})
    if missing:
        raise InputError(f"The bundled sample scene is incomplete (missing {', '.join(missing)}); "
                         f"reinstall the plugin or run scripts/make_sample.py")
    return paths
