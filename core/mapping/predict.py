"""Full-scene classification by windows, fully convolutional, with bounded memory.

Each window is read with a halo of half a patch, preprocessed, reflect-padded at image borders exactly as
the training patches were, and passed through the network once: every convolution is evaluated once over
the window instead of once per pixel's patch. Memory depends on the window size, not the image size.
The network is the torch SNN or CNN, or the SNN as an ONNX graph in ONNX Runtime (core/models/engines.py): the
map path is the same, and torch is imported only by the torch engine and the energy map.
"""
from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..config.schema import ClassifyConfig
from ..errors import Canceled, InputError
from ..models.engines import scorer, softmax
from ..io.raster import OutputSpec, RasterReader, iter_windows, pad_mode
from ..data.valid_pixels import empty_bands_message, valid_mask

CONF_NODATA = -1.0
ENERGY_BANDS = ("snn_energy_pj", "spikes")


@dataclass
class ClassifyResult:
    """What classifying a raster wrote and counted (the maps' paths are None where a map was not asked for)."""

    class_path: str
    confidence_path: Optional[str]
    """The winning class's probability per pixel."""
    probabilities_path: Optional[str]
    """One band per class: its probability."""
    pixels: int
    """Pixels of the raster; `valid_pixels` of them were classified (the rest are nodata or non-finite)."""
    valid_pixels: int
    seconds: float
    class_counts: dict
    """Class name -> classified pixels."""
    energy_path: Optional[str] = None
    energy: Optional[dict] = None
    """With an energy map: the scene's SNN energy (complete convention) summed from it, and its spikes."""

    @property
    def pixels_per_second(self) -> float:
        return self.pixels / max(self.seconds, 1e-9)


def preprocess_block(model, block: np.ndarray, nodata):
    """(rows, cols, bands) raw pixels -> (features, rows, cols) float32 with invalid pixels at 0, and the mask."""
    ok = valid_mask(block, nodata)
    x = model.preprocessor.transform(np.where(ok[..., None], block, 0).astype(np.float32, copy=False))
    x[~ok] = 0.0
    return x, ok


class WindowClassifier:
    """Runs a network over windows of a reader; shared by the map writer and by benchmarks."""

    def __init__(self, model, reader: RasterReader, mode: str = "snn"):
        """`model`: a core.model.HyperSNNModel (torch) or a core.inference.OnnxModel (ONNX Runtime)."""
        self.model, self.reader, self.mode = model, reader, mode
        model.bands.check(reader.info)
        self.scores = scorer(model, mode)
        """(N, features, rows + 2r, cols + 2r) -> (N, classes, rows, cols) numpy scores"""
        self.r = model.patch_size // 2
        self._checked = False
        info = reader.info
        self.pad_mode = pad_mode(info.height, info.width, model.patch_size)

    @property
    def net(self):
        """The torch network (torch engine only)."""
        return self.scores.net

    def window_input(self, window):
        """The network input for one window: (features, h + 2r, w + 2r) with the halo, and the (h, w)
        validity mask of the window itself."""
        r0, c0, h, w = window
        info, r = self.reader.info, self.r
        rr0, cc0 = max(0, r0 - r), max(0, c0 - r)
        rr1, cc1 = min(info.height, r0 + h + r), min(info.width, c0 + w + r)
        block = self.reader.read((rr0, cc0, rr1 - rr0, cc1 - cc0), self.model.bands.indices)
        x, ok = preprocess_block(self.model, block, info.nodata)
        if not self._checked:
            self._check_values(block, valid_mask(block, info.nodata))
        pads = ((r - (r0 - rr0), r - (rr1 - r0 - h)), (r - (c0 - cc0), r - (cc1 - c0 - w)), (0, 0))
        x = np.pad(x, pads, mode=self.pad_mode)
        return np.ascontiguousarray(x.transpose(2, 0, 1)), ok[r0 - rr0:r0 - rr0 + h, c0 - cc0:c0 - cc0 + w]

    MISMATCH_WARN = 10.0
    MISMATCH_REFUSE = 100.0

    def _check_values(self, block, ok):
        """Once, on the first pixels with data: refuse input far outside the training data's values (a missing or
        different scale factor would otherwise be classified silently), warn when it is merely far."""
        if not ok.any():
            return
        self._checked = True
        pix = block[ok][:: max(1, int(ok.sum()) // 4096)]
        d = self.model.preprocessor.input_mismatch(pix)
        where = self.reader.info.path or "the raster"
        if d > self.MISMATCH_REFUSE:
            raise InputError(f"{where}: its values lie far outside those the model was trained on (median distance "
                             f"{d:.0f} training standard deviations): a missing or different scale factor (e.g. "
                             f"reflectance x 10000, ENVI 'reflectance scale factor', GDAL scale/offset)? Classify "
                             f"data on the scale of the training raster")
        if d > self.MISMATCH_WARN:
            warnings.warn(f"{where}: its values are far from those the model was trained on (median distance "
                          f"{d:.0f} training standard deviations); check its scale and units")

    def logits(self, window):
        """(K, h, w) output scores and the (h, w) validity mask for one window."""
        x, ok = self.window_input(window)
        return self.scores(x[None])[0], ok

    def logits_and_energy(self, window, energy_cfg=None):
        """As `logits`, plus the window's (h, w) maps of SNN energy (pJ, complete convention) and spikes:
        operations are counted on the torch network (core/energy/ops.py), so the energy map needs the torch engine."""
        if getattr(self.model, "engine", "torch") != "torch" or self.mode != "snn":
            raise InputError("an energy map counts the operations of the torch SNN: classify with the torch "
                             "engine in SNN mode to write one")
        import torch

        from ..energy.costs import pixel_energy_maps
        from ..energy.ops import window_op_maps
        x, ok = self.window_input(window)
        with torch.no_grad():
            out, tally = window_op_maps(self.net, torch.from_numpy(x)[None], (window[2], window[3]))
            e, s = pixel_energy_maps(self.net, tally, energy_cfg)
        return out[0].numpy(), ok, e, s


@dataclass(frozen=True)
class WindowJob:
    """What every window of one map computes, besides the model and the raster: small and picklable, so the
    same description reaches a Dask worker (workflows/distributed.py) as the local loop."""

    mode: str
    class_values: tuple
    dtype: str
    confidence: bool = False
    probabilities: bool = False
    energy: bool = False
    energy_cfg: object = None


@dataclass
class WindowResult:
    """One window's output pixels, ready to write: the class map (h, w), confidence (h, w), probabilities
    (h, w, K) and energy (h, w, 2) as they go into the files, plus the counts the summary needs."""

    window: tuple
    classes: np.ndarray
    confidence: Optional[np.ndarray]
    probabilities: Optional[np.ndarray]
    energy: Optional[np.ndarray]
    counts: np.ndarray
    """pixels per class index + 1 (index 0: not classified)"""
    energy_sum: float = 0.0
    spikes_sum: float = 0.0
    warnings: tuple = ()
    """the engine's warnings raised while computing it where no one could see them (a Dask worker)"""


WINDOW_TORCH_THREADS = 1
"""The torch engine computes every window with this many intra-op threads. Measured (Indian Pines model,
64-pixel windows, torch 2.13 CPU, oneDNN): logits with 1 thread differ from those with 2, 3 or 4 threads by up
to 7.6e-6 (2, 3 and 4 agree with each other), enough to move a confidence value by an ulp or flip a spike.
Fixing the count makes a map the same bytes whether it was computed in this process or on Dask workers
(whose processes start with OMP_NUM_THREADS=1); parallelism comes from windows on several workers instead.
ONNX Runtime gave the same logits with 1, 2 and 3 threads, so its sessions keep their own setting."""


@contextlib.contextmanager
def window_threads(model):
    """Run the torch engine with WINDOW_TORCH_THREADS intra-op threads inside the block (put back after);
    nothing for ONNX Runtime, and no torch import for it."""
    if getattr(model, "engine", "torch") != "torch":
        yield
        return
    import torch
    old = torch.get_num_threads()
    if old != WINDOW_TORCH_THREADS:
        torch.set_num_threads(WINDOW_TORCH_THREADS)
    try:
        yield
    finally:
        if old != WINDOW_TORCH_THREADS:
            torch.set_num_threads(old)


def compute_window(wc: WindowClassifier, job: WindowJob, window) -> WindowResult:
    """The one per-window computation of a map: read the window with its halo, preprocess, score, and turn the
    scores into the class, confidence, probability (and energy) arrays the writers take. The local loop and
    every Dask task call this, so both paths produce the same bytes."""
    values = np.asarray(job.class_values)
    e_sum = s_sum = 0.0
    energy = None
    with window_threads(wc.model):
        if job.energy:
            out, ok, e_map, s_map = wc.logits_and_energy(window, job.energy_cfg)
            e_sum, s_sum = float(e_map[ok].sum()), float(s_map[ok].sum())
            energy = np.where(ok[None], np.stack([e_map, s_map]), CONF_NODATA).transpose(1, 2, 0).astype(np.float32)
        else:
            out, ok = wc.logits(window)
    prob = softmax(out, 0)
    idx = prob.argmax(0)
    cls = np.where(ok, values[idx], 0).astype(job.dtype)
    counts = np.bincount(np.where(ok, idx + 1, 0).ravel(), minlength=len(values) + 1).astype(np.int64)
    conf = np.where(ok, prob.max(0), CONF_NODATA).astype(np.float32) if job.confidence else None
    probs = (np.where(ok[..., None], prob.transpose(1, 2, 0), CONF_NODATA).astype(np.float32)
             if job.probabilities else None)
    return WindowResult(tuple(int(v) for v in window), cls, conf, probs, energy, counts, e_sum, s_sum)


def local_windows(wc: WindowClassifier, job: WindowJob, windows, is_canceled):
    """The single-process runner: the windows in order, in this process (torch threads fixed once for the
    whole loop, so compute_window does not switch them per window)."""
    with window_threads(wc.model):
        for k, win in enumerate(windows):
            if is_canceled():
                raise Canceled(f"classification canceled at window {k + 1}/{len(windows)}")
            yield compute_window(wc, job, win)


def class_dtype(values) -> str:
    return "uint8" if np.max(values) < 255 else "uint16"


def classify_raster(model, reader: RasterReader, open_writer: Callable[[OutputSpec], object],
                    class_path: str, confidence_path: Optional[str] = None,
                    probabilities_path: Optional[str] = None, cfg: ClassifyConfig = None,
                    progress=None, is_canceled=None, energy_path: Optional[str] = None,
                    energy_cfg=None, runner=None) -> ClassifyResult:
    """Write the class map (and confidence / per-class probabilities / energy map); all or nothing.

    `runner(wc, job, windows, is_canceled)` yields one WindowResult per window (any order); the default,
    `local_windows`, computes them here; workflows/distributed.py computes them on a Dask cluster. Outputs
    are written here either way, so the files, their metadata and the all-or-nothing rule are one code path.

    The energy map (SNN only) has two float32 bands: the estimated SNN energy of each pixel in pJ under the
    complete convention (core/energy/costs.py) and the spikes the SNN fired for it over all layers and steps,
    both charged per map pixel as fully convolutional classification computes them (core/energy/ops.py)."""
    cfg = cfg or ClassifyConfig()
    progress = progress or (lambda f, m: None)
    is_canceled = is_canceled or (lambda: False)
    runner = runner or local_windows
    wc = WindowClassifier(model, reader, cfg.mode)
    info = reader.info
    values = np.array(model.class_values)
    names = {c["value"]: c["name"] for c in model.classes}
    colors = {c["value"]: tuple(c["color"]) for c in model.classes}
    dtype = class_dtype(values)
    if energy_path and cfg.mode != "snn":
        raise InputError("an energy map is made by the SNN: leave the classification mode at 'snn'")
    job = WindowJob(cfg.mode, tuple(int(v) for v in values), dtype, bool(confidence_path),
                    bool(probabilities_path), bool(energy_path), energy_cfg)
    writers = []
    results = None
    try:
        # each writer is in `writers` the moment it exists, so an interrupt at any point aborts it
        writers.append(open_writer(OutputSpec(class_path, info, 1, dtype, nodata=0, band_names=["class"],
                                              colors=colors, category_names=names)))
        cls_w = writers[-1]
        conf_w = prob_w = energy_w = None
        if confidence_path:
            writers.append(open_writer(OutputSpec(confidence_path, info, 1, "float32", nodata=CONF_NODATA,
                                                  band_names=["confidence"])))
            conf_w = writers[-1]
        if probabilities_path:
            writers.append(open_writer(OutputSpec(probabilities_path, info, len(values), "float32",
                                                  nodata=CONF_NODATA, band_names=[f"p({names[v]})" for v in values])))
            prob_w = writers[-1]
        if energy_path:
            writers.append(open_writer(OutputSpec(energy_path, info, 2, "float32", nodata=CONF_NODATA,
                                                  band_names=list(ENERGY_BANDS))))
            energy_w = writers[-1]
        e_sum = s_sum = 0.0
        t0 = time.perf_counter()
        windows = list(iter_windows(info.height, info.width, cfg.window))
        counts = np.zeros(len(values) + 1, np.int64)
        results = runner(wc, job, windows, is_canceled)
        done = 0
        for res in results:
            for text in res.warnings:
                warnings.warn(text)
            win = res.window
            cls_w.write(win, res.classes)
            if conf_w:
                conf_w.write(win, res.confidence)
            if prob_w:
                prob_w.write(win, res.probabilities)
            if energy_w:
                energy_w.write(win, res.energy)
            counts += res.counts
            e_sum += res.energy_sum
            s_sum += res.spikes_sum
            done += 1
            progress(done / len(windows), f"classified window {done}/{len(windows)}")
        if done != len(windows):  # a runner that lost windows must not produce a map with holes
            raise RuntimeError(f"classification produced {done} of {len(windows)} windows")
        seconds = time.perf_counter() - t0
        if not counts[1:].sum():  # every pixel nodata in some band the model reads: say which, write nothing
            raise InputError(empty_bands_message(reader, model.bands.indices, windows)
                             + "; nothing was classified and no output was written")
        for w in writers:
            w.close()
    except BaseException:
        if results is not None and hasattr(results, "close"):
            results.close()  # a Dask runner cancels its futures here
        for w in writers:
            try:
                w.abort()
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        raise
    valid = int(counts[1:].sum())
    energy = None
    if energy_path:
        energy = {"convention": "complete", "view": "per_map_pixel", "snn_mj": e_sum * 1e-9, "spikes": s_sum,
                  "pixels": valid, "snn_pj_per_pixel": e_sum / max(valid, 1),
                  "basis": "sum of the energy map over the classified pixels (window halo recomputation not included)"}
    return ClassifyResult(class_path, confidence_path, probabilities_path, info.width * info.height,
                          valid, seconds, {names[v]: int(n) for v, n in zip(values, counts[1:])},
                          energy_path, energy)
