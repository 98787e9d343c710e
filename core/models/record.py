"""A model file read and checked without torch: what a classifier needs, and nothing executed.

The file is untrusted (core/models/modelfile.py reads it safely); this module checks that its records agree with
each other and with the architecture's layer shapes, and returns plain numpy weights. The torch network
(core/models/torch_model.HyperSNNModel) and the ONNX graph (core/models/onnx_graph.py) are both built from a ModelRecord, so a
machine without torch reads and checks a model exactly as one with torch does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import List, Optional

import numpy as np

from ..data.bands import index_ranges
from ..config.schema import ModelConfig
from ..errors import ModelFileError, ModelMismatchError
from .modelfile import META_NAME, load_model
from ..nn.codes import from_codes
from ..nn.specs import LEAK_MODES, MEMBRANE_BITS, LayerSpec, build_specs
from ..data.preprocess import VERSION as PRE_VERSION
from ..data.preprocess import Preprocessor
from ..io.raster import RasterInfo

WAVELENGTH_TOLERANCE_NM = 5.0


@dataclass
class BandContract:
    """The bands a model reads, as indices (0-based) into a raster with `source_count` bands."""

    source_count: int
    indices: list
    names: list
    wavelengths: Optional[list] = None

    def check(self, info: RasterInfo, where: str = "raster"):
        if info.count != self.source_count:
            raise ModelMismatchError(
                f"{where} {info.path or ''} has {info.count} bands but the model expects {self.source_count} "
                f"(it reads bands {_ranges(self.indices)} of a {self.source_count}-band raster).")
        if self.wavelengths and info.wavelengths:
            got = [info.wavelengths[i] for i in self.indices]
            bad = [(i + 1, e, g) for i, e, g in zip(self.indices, self.wavelengths, got)
                   if e is not None and g is not None and abs(e - g) > WAVELENGTH_TOLERANCE_NM]
            if bad:
                lines = "; ".join(f"band {b}: expected {e:.1f} nm, raster has {g:.1f} nm" for b, e, g in bad[:5])
                raise ModelMismatchError(
                    f"{where} {info.path or ''} wavelengths do not match the model's "
                    f"({len(bad)} bands differ by more than {WAVELENGTH_TOLERANCE_NM} nm): {lines}")


@dataclass
class ModelRecord:
    """Everything a model file says, checked: architecture, float32 weights as the network uses them, neuron
    parameters, the band contract, preprocessing, classes and the remaining metadata."""

    cfg: ModelConfig
    specs: List[LayerSpec]
    in_features: int
    n_classes: int
    weight_bits: int
    time_steps: int
    surrogate_slope: float
    leak_mode: str
    membrane_bits: int
    """0: real-valued membranes; 4..16: k-bit membranes with saturation (core/nn/lif.quantize_membrane_)"""
    input_scale: Optional[List[float]]
    weights: List[np.ndarray]
    """float32, dequantized from the stored k-bit codes (as the file stores them)"""
    biases: List[np.ndarray]
    neurons: List[dict]
    """per spiking layer: threshold, leak (1 where the leak mode is 'none')"""
    bands: BandContract
    preprocessor: Preprocessor
    classes: list
    meta: dict
    cnn_state: Optional[dict]
    train_mask: Optional[np.ndarray]

    @property
    def patch_size(self) -> int:
        return self.cfg.patch_size


def read_record(path) -> ModelRecord:
    """Read and check a model file. The file is untrusted: anything wrong with it ends in ModelFileError."""
    meta, tensors = load_model(path)
    try:
        return record_from(path, meta, tensors)
    except ModelFileError:
        raise
    except Exception as e:  # noqa: BLE001 - any inconsistency of an untrusted file is a bad model file
        raise ModelFileError(f"{path}: model file is incomplete or inconsistent ({type(e).__name__}: {e})") from None


def record_from(path, meta: dict, tensors: dict) -> ModelRecord:
    cfg = ModelConfig(**_checked_architecture(path, meta.get("architecture")))
    in_features, n_classes = _int(meta, "in_features", 1, 100_000, path), _int(meta, "n_classes", 1, 65_535, path)
    bits, steps = _int(meta, "weight_bits", 0, 16, path), _int(meta, "time_steps", 1, 64, path)
    specs = build_specs(cfg, in_features, n_classes)  # shapes only: nothing is allocated yet
    layers, neurons = meta.get("layers"), meta.get("neurons")
    if not isinstance(layers, list) or len(layers) != len(specs):
        raise ModelFileError(f"{path}: the file lists {len(layers) if isinstance(layers, list) else 'no'} layers, "
                             f"its architecture has {len(specs)}")
    if not isinstance(neurons, list) or len(neurons) != len(specs) - 1:
        raise ModelFileError(f"{path}: the file lists neuron parameters for "
                             f"{len(neurons) if isinstance(neurons, list) else 'no'} layers, expected {len(specs) - 1}")
    for i, sp in enumerate(specs):
        want_w, want_b = (sp.out_ch, sp.in_ch) + tuple(sp.kernel), (sp.out_ch,)
        for name, want in ((f"w{i}", want_w), (f"b{i}", want_b)):
            got = tensors.get(name)
            if got is None or tuple(got.shape) != want:
                raise ModelFileError(f"{path}: tensor {name} has shape {None if got is None else tuple(got.shape)}, "
                                     f"the architecture needs {want}")
        if not isinstance(layers[i], dict) or not _finite(layers[i].get("scale")):
            raise ModelFileError(f"{path}: layer {i} has no valid weight scale")
    for i, p in enumerate(neurons):
        if not isinstance(p, dict) or not (_finite(p.get("threshold")) and _finite(p.get("leak"))):
            raise ModelFileError(f"{path}: neuron parameters of layer {i} are missing or not finite numbers")
        if not 0.0 <= p["leak"] <= 1.0:
            raise ModelFileError(f"{path}: the leak of layer {i} is {p['leak']}, outside [0, 1]")
    leak_mode = meta.get("leak_mode", "trained")  # files from before leak modes: a leak clamped to [0, 1]
    if leak_mode not in LEAK_MODES:
        raise ModelFileError(f"{path}: leak_mode {leak_mode!r} is not one of {', '.join(LEAK_MODES)}")
    membrane_bits = meta.get("membrane_bits", 0)  # files from before k-bit membranes: real-valued
    if membrane_bits not in MEMBRANE_BITS:
        raise ModelFileError(f"{path}: membrane_bits {membrane_bits!r} is not 0 or 4..16")
    input_scale = None
    if cfg.input_bits:
        input_scale = meta.get("input_scale")
        if not isinstance(input_scale, list) or len(input_scale) != in_features or \
                not all(_finite(v) and v > 0 for v in input_scale):
            raise ModelFileError(f"{path}: the model reads {cfg.input_bits}-bit input but its input_scale is "
                                 f"missing or not {in_features} positive numbers")
    weights = [np.asarray(from_codes(tensors[f"w{i}"], float(layer["scale"])) if bits else tensors[f"w{i}"],
                          np.float32) for i, layer in enumerate(layers)]
    biases = [np.asarray(tensors[f"b{i}"], np.float32) for i in range(len(layers))]
    neurons = [{"threshold": float(p["threshold"]), "leak": 1.0 if leak_mode == "none" else float(p["leak"])}
               for p in neurons]
    b = meta.get("bands")
    if not isinstance(b, dict):
        raise ModelFileError(f"{path}: the band record is missing")
    bands = BandContract(**b)
    if not isinstance(bands.source_count, int) or not isinstance(bands.indices, list) or \
            not all(isinstance(i, int) and 0 <= i < bands.source_count for i in bands.indices) or \
            not isinstance(bands.names, list) or len(bands.names) != len(bands.indices) or \
            (bands.wavelengths is not None and (not isinstance(bands.wavelengths, list)
                                                or len(bands.wavelengths) != len(bands.indices)
                                                or not all(w is None or _finite(w) for w in bands.wavelengths))):
        raise ModelFileError(f"{path}: the band record is inconsistent (indices, names, wavelengths)")
    record = meta.get("preprocessing")
    try:
        pre = Preprocessor.from_dict(record)
    except ModelFileError as e:  # say which file, and that its metadata was changed after it was written
        newer = isinstance(record, dict) and isinstance(record.get("version"), int) and record["version"] > PRE_VERSION
        raise ModelFileError(f"{path}: {e}" if newer else
                             f"{path} is damaged: {e} (field 'preprocessing' of {META_NAME} inside the model file, "
                             f"edited or corrupted after training; restore the original file or train again)") from None
    if pre.n_bands != len(bands.indices) or pre.n_out != in_features:
        raise ModelFileError(f"{path}: preprocessing maps {pre.n_bands} bands to {pre.n_out} features, but the "
                             f"model reads {len(bands.indices)} bands and takes {in_features} features")
    classes = meta.get("classes")
    if not isinstance(classes, list) or len(classes) != n_classes or \
            not all(isinstance(c, dict) and isinstance(c.get("value"), int) and 1 <= c["value"] <= 65_535
                    for c in classes) or len({c["value"] for c in classes}) != len(classes):
        raise ModelFileError(f"{path}: the class table does not list {n_classes} distinct classes with "
                             f"values 1..65535")
    cnn = {k[4:]: v for k, v in tensors.items() if k.startswith("cnn/")} or None
    keep = {k: v for k, v in meta.items() if k not in ("layers", "neurons", "split_train_mask")}
    mask = tensors.get("split/train_mask")
    if mask is None and meta.get("split_train_mask") is not None:  # files from before: a JSON list
        mask = np.array(meta["split_train_mask"], np.uint8)
    return ModelRecord(cfg=cfg, specs=specs, in_features=in_features, n_classes=n_classes, weight_bits=bits,
                       time_steps=steps, surrogate_slope=float(meta.get("surrogate_slope", 5.0)), leak_mode=leak_mode,
                       membrane_bits=int(membrane_bits), input_scale=[float(v) for v in input_scale] if input_scale else None, weights=weights,
                       biases=biases, neurons=neurons, bands=bands, preprocessor=pre,
                       classes=[dict(c) for c in classes], meta=keep, cnn_state=cnn, train_mask=mask)


def unpack_training_mask(packed, meta: dict, shape):
    """The training + validation pixels as an (H, W) mask when the file holds them for a raster of this
    shape (so reports can leave them out), else None."""
    h, w = shape
    if packed is None or meta.get("split_masks", {}).get("shape") != [h, w]:
        return None
    bits = np.unpackbits(np.asarray(packed, np.uint8))
    if bits.size < h * w:
        raise ModelFileError(f"the training-pixel mask in this model file is shorter than its {h} x {w} grid")
    return bits[:h * w].reshape(h, w).astype(bool)


_ARCH_LISTS = ("conv3d_channels", "conv3d_spectral_kernels", "conv2d_channels", "dense")


def _checked_architecture(path, d) -> dict:
    """The file's architecture record, refused unless every field has a plausible type and size."""
    if not isinstance(d, dict):
        raise ModelFileError(f"{path}: the architecture record is missing")
    known = {f.name for f in fields(ModelConfig)}
    if set(d) - known:
        raise ModelFileError(f"{path}: unknown architecture field(s) {sorted(set(d) - known)}")
    for k in _ARCH_LISTS:
        v = d.get(k, [])
        if not isinstance(v, list) or len(v) > 16 or not all(
                isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 4096 for x in v):
            raise ModelFileError(f"{path}: architecture field {k!r} must be a short list of positive integers")
    ps = d.get("patch_size", 11)
    if not isinstance(ps, int) or isinstance(ps, bool) or not 1 <= ps <= 255:
        raise ModelFileError(f"{path}: architecture field 'patch_size' = {ps!r} is not a plausible patch size")
    if d.get("first_spatial_kernel", 3) not in (1, 3) or isinstance(d.get("first_spatial_kernel"), bool):
        raise ModelFileError(f"{path}: architecture field 'first_spatial_kernel' must be 1 or 3")
    ib = d.get("input_bits", 0)
    if not isinstance(ib, int) or isinstance(ib, bool) or not (ib == 0 or 2 <= ib <= 16):
        raise ModelFileError(f"{path}: architecture field 'input_bits' must be 0 or 2..16, got {ib!r}")
    if d.get("arch", "hybrid") not in ("hybrid", "3d"):
        raise ModelFileError(f"{path}: architecture {d.get('arch')!r} is unknown")
    if not _finite(d.get("dropout", 0.0)):
        raise ModelFileError(f"{path}: architecture field 'dropout' is not a number")
    # files written before the field existed all had a 3x3 first layer (the default has since changed)
    return {"first_spatial_kernel": 3, **d}


def _int(meta: dict, key: str, lo: int, hi: int, path) -> int:
    v = meta.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ModelFileError(f"{path}: field {key!r} = {v!r} must be an integer in {lo}..{hi}")
    return v


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _ranges(indices) -> str:
    return ", ".join(index_ranges([int(i) for i in indices]))


def _wl_range(w):
    w = [x for x in (w or []) if x is not None]
    return [min(w), max(w)] if w else None
