"""Full-scene classification by windows, fully convolutional, with bounded memory.

Each window is read with a halo of half a patch, preprocessed, reflect-padded at image borders exactly as
the training patches were, and passed through the network once: every convolution is evaluated once over
the window instead of once per pixel's patch. Memory depends on the window size, not the image size.
The network is the torch SNN or CNN, or the SNN as an ONNX graph in ONNX Runtime (core/inference.py): the
map path is the same, and torch is imported only by the torch engine and the energy map.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .config import ClassifyConfig
from .errors import Canceled, InputError
from .inference import scorer, softmax
from .raster import OutputSpec, RasterReader, iter_windows, pad_mode

CONF_NODATA = -1.0
ENERGY_BANDS = ("snn_energy_pj", "spikes")


@dataclass
class ClassifyResult:
    class_path: str
    confidence_path: Optional[str]
    probabilities_path: Optional[str]
    pixels: int
    valid_pixels: int
    seconds: float
    class_counts: dict
    energy_path: Optional[str] = None
    energy: Optional[dict] = None
    """With an energy map: the scene's SNN energy (complete convention) summed from it, and its spikes."""

    @property
    def pixels_per_second(self) -> float:
        return self.pixels / max(self.seconds, 1e-9)


def valid_mask(block: np.ndarray, nodata) -> np.ndarray:
    """True where every band is finite and differs from nodata (nodata/NaN pixels are never classified)."""
    ok = np.isfinite(block).all(axis=-1) if block.dtype.kind == "f" else np.ones(block.shape[:2], bool)
    if nodata is not None and np.isfinite(nodata):
        ok &= ~(block == nodata).any(axis=-1)
    return ok


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
        operations are counted on the torch network (core/ops.py), so the energy map needs the torch engine."""
        if getattr(self.model, "engine", "torch") != "torch" or self.mode != "snn":
            raise InputError("an energy map counts the operations of the torch SNN: classify with the torch "
                             "engine in SNN mode to write one")
        import torch

        from .energy import pixel_energy_maps
        from .ops import window_op_maps
        x, ok = self.window_input(window)
        with torch.no_grad():
            out, tally = window_op_maps(self.net, torch.from_numpy(x)[None], (window[2], window[3]))
            e, s = pixel_energy_maps(self.net, tally, energy_cfg)
        return out[0].numpy(), ok, e, s


def classify_raster(model, reader: RasterReader, open_writer: Callable[[OutputSpec], object],
                    class_path: str, confidence_path: Optional[str] = None,
                    probabilities_path: Optional[str] = None, cfg: ClassifyConfig = None,
                    progress=None, is_canceled=None, energy_path: Optional[str] = None,
                    energy_cfg=None) -> ClassifyResult:
    """Write the class map (and confidence / per-class probabilities / energy map); all or nothing.

    The energy map (SNN only) has two float32 bands: the estimated SNN energy of each pixel in pJ under the
    complete convention (core/energy.py) and the spikes the SNN fired for it over all layers and steps,
    both charged per map pixel as fully convolutional classification computes them (core/ops.py)."""
    cfg = cfg or ClassifyConfig()
    progress = progress or (lambda f, m: None)
    is_canceled = is_canceled or (lambda: False)
    wc = WindowClassifier(model, reader, cfg.mode)
    info = reader.info
    values = np.array(model.class_values)
    names = {c["value"]: c["name"] for c in model.classes}
    colors = {c["value"]: tuple(c["color"]) for c in model.classes}
    dtype = "uint8" if values.max() < 255 else "uint16"
    writers = []
    try:
        # each writer is in `writers` the moment it exists, so an interrupt at any point aborts it
        writers.append(open_writer(OutputSpec(class_path, info, 1, dtype, nodata=0, band_names=["class"],
                                              colors=colors, category_names=names)))
        cls_w = writers[-1]
        conf_w = prob_w = None
        if confidence_path:
            writers.append(open_writer(OutputSpec(confidence_path, info, 1, "float32", nodata=CONF_NODATA,
                                                  band_names=["confidence"])))
            conf_w = writers[-1]
        if probabilities_path:
            writers.append(open_writer(OutputSpec(probabilities_path, info, len(values), "float32",
                                                  nodata=CONF_NODATA, band_names=[f"p({names[v]})" for v in values])))
            prob_w = writers[-1]
        energy_w = None
        if energy_path:
            if cfg.mode != "snn":
                raise InputError("an energy map is made by the SNN: leave the classification mode at 'snn'")
            writers.append(open_writer(OutputSpec(energy_path, info, 2, "float32", nodata=CONF_NODATA,
                                                  band_names=list(ENERGY_BANDS))))
            energy_w = writers[-1]
        e_sum = s_sum = 0.0
        t0 = time.perf_counter()
        windows = list(iter_windows(info.height, info.width, cfg.window))
        counts = np.zeros(len(values) + 1, np.int64)
        for k, win in enumerate(windows):
            if is_canceled():
                raise Canceled(f"classification canceled at window {k + 1}/{len(windows)}")
            if energy_w:
                out, ok, e_map, s_map = wc.logits_and_energy(win, energy_cfg)
                e_sum += float(e_map[ok].sum())
                s_sum += float(s_map[ok].sum())
                energy_w.write(win, np.where(ok[None], np.stack([e_map, s_map]), CONF_NODATA)
                               .transpose(1, 2, 0).astype(np.float32))
            else:
                out, ok = wc.logits(win)
            prob = softmax(out, 0)
            idx = prob.argmax(0)
            cls = np.where(ok, values[idx], 0).astype(dtype)
            counts += np.bincount(np.where(ok, idx + 1, 0).ravel(), minlength=len(values) + 1)
            cls_w.write(win, cls)
            if conf_w:
                conf_w.write(win, np.where(ok, prob.max(0), CONF_NODATA).astype(np.float32))
            if prob_w:
                p = prob.transpose(1, 2, 0)
                prob_w.write(win, np.where(ok[..., None], p, CONF_NODATA).astype(np.float32))
            progress((k + 1) / len(windows), f"classified window {k + 1}/{len(windows)}")
        seconds = time.perf_counter() - t0
        if not counts[1:].sum():  # every pixel nodata in some band the model reads: say which, write nothing
            from .prepare import empty_bands_message
            raise InputError(empty_bands_message(reader, model.bands.indices, windows)
                             + "; nothing was classified and no output was written")
        for w in writers:
            w.close()
    except BaseException:
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


def predict_padded(net, padded: np.ndarray, patch_size: int, window: int = 64, is_canceled=None) -> np.ndarray:
    """Class probabilities (H, W, K) for every pixel of an already padded (B, H+2r, W+2r) cube,
    fully convolutionally with the torch network `net` (the trainer's cube: used to assess on all test
    pixels at once)."""
    import torch
    with torch.no_grad():
        return _predict_padded(net, padded, patch_size, window, is_canceled, torch)


def _predict_padded(net, padded, patch_size, window, is_canceled, torch):
    net.eval()
    r = patch_size // 2
    b, hp, wp = padded.shape
    h, w = hp - 2 * r, wp - 2 * r
    out = np.zeros((h, w, net.n_classes), np.float32)
    t = torch.from_numpy(padded)
    for r0, c0, hh, ww in iter_windows(h, w, window):
        if is_canceled and is_canceled():
            raise Canceled("assessment canceled")
        x = t[:, r0:r0 + hh + 2 * r, c0:c0 + ww + 2 * r][None]
        out[r0:r0 + hh, c0:c0 + ww] = torch.softmax(net(x)[0], 0).permute(1, 2, 0).numpy()
    return out
