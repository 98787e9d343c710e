"""A trained classifier with everything needed to apply it: the network plus its data contract.

Saved as one model file (core/modelfile.py): weights (k-bit codes), thresholds, leaks, time steps,
architecture, the bands it reads (indices into the source raster, with names and wavelengths),
preprocessing, classes, and provenance/metrics.
"""
from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np
import torch

from . import __version__
from .config import ModelConfig
from .errors import ModelFileError, ModelMismatchError
from .modelfile import load_model, save_model
from .nn.models import HSINet
from .nn.quant import from_codes, to_codes
from .preprocess import Preprocessor
from .raster import RasterInfo

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
class HyperSNNModel:
    net: HSINet
    bands: BandContract
    preprocessor: Preprocessor
    classes: list  # [{value, name, color}]
    meta: dict = field(default_factory=dict)  # config, split protocol, metrics, provenance
    cnn_state: Optional[dict] = None  # the CNN the SNN was converted from, for comparisons

    @property
    def class_values(self):
        return [c["value"] for c in self.classes]

    def summary(self) -> dict:
        n = self.net
        return {
            "architecture": n.cfg.arch, "patch_size": n.cfg.patch_size, "time_steps": n.time_steps,
            "weight_bits": n.bits or "full precision", "input_bands": self.bands.source_count,
            "bands_used": len(self.bands.indices), "band_ranges": _ranges(self.bands.indices),
            "wavelength_range_nm": _wl_range(self.bands.wavelengths),
            "features_after_preprocessing": n.in_bands,
            "classes": [f"{c['value']}: {c['name']}" for c in self.classes],
            "layers": n.layer_table(), "neurons": n.neuron_params(),
        }

    # -- file I/O -------------------------------------------------------------------------------
    def save(self, path):
        tensors, layers = {}, []
        for i, (w, b) in enumerate(zip(self.net.weights, self.net.biases)):
            codes, scale = to_codes(w.detach().numpy(), self.net.bits)
            tensors[f"w{i}"] = codes
            tensors[f"b{i}"] = b.detach().numpy().astype(np.float32)
            layers.append({"scale": scale})
        if self.cnn_state:
            for k, v in self.cnn_state.items():
                tensors[f"cnn/{k}"] = v
        meta = dict(self.meta)
        meta.update({
            "hypersnn_version": __version__,
            "architecture": asdict(self.net.cfg),
            "in_features": self.net.in_bands,
            "n_classes": self.net.n_classes,
            "time_steps": self.net.time_steps,
            "weight_bits": self.net.bits,
            "surrogate_slope": self.net.neurons[0].slope if len(self.net.neurons) else 5.0,
            "layers": [dict(l, **t) for l, t in zip(self.net.layer_table(), layers)],
            "neurons": self.net.neuron_params(),
            "bands": asdict(self.bands),
            "preprocessing": self.preprocessor.to_dict(),
            "classes": self.classes,
        })
        meta.setdefault("provenance", {}).update(
            {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__})
        save_model(path, meta, tensors)

    @classmethod
    def load(cls, path) -> "HyperSNNModel":
        meta, tensors = load_model(path)
        try:
            cfg = ModelConfig(**meta["architecture"])
            net = HSINet(cfg, int(meta["in_features"]), int(meta["n_classes"]), bits=int(meta["weight_bits"]),
                         time_steps=int(meta["time_steps"]), slope=float(meta.get("surrogate_slope", 5.0)))
            with torch.no_grad():
                for i, layer in enumerate(meta["layers"]):
                    w = from_codes(tensors[f"w{i}"], layer["scale"]) if net.bits else tensors[f"w{i}"]
                    if tuple(w.shape) != tuple(net.weights[i].shape):
                        raise ModelFileError(f"{path}: layer {i} weights have shape {w.shape}, "
                                             f"expected {tuple(net.weights[i].shape)}")
                    net.weights[i].copy_(torch.from_numpy(np.asarray(w, np.float32)))
                    net.biases[i].copy_(torch.from_numpy(tensors[f"b{i}"]))
                for n, p in zip(net.neurons, meta["neurons"]):
                    n.threshold.fill_(float(p["threshold"]))
                    n.leak.fill_(float(p["leak"]))
            bands = BandContract(**meta["bands"])
            pre = Preprocessor.from_dict(meta["preprocessing"])
            classes = [dict(c) for c in meta["classes"]]
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as e:
            raise ModelFileError(f"{path}: model file is incomplete or inconsistent ({type(e).__name__}: {e})") from None
        net.spiking = True
        net.eval()
        cnn = {k[4:]: v for k, v in tensors.items() if k.startswith("cnn/")} or None
        keep = {k: v for k, v in meta.items() if k not in ("layers", "neurons")}
        return cls(net=net, bands=bands, preprocessor=pre, classes=classes, meta=keep, cnn_state=cnn)

    def cnn_net(self) -> HSINet:
        """The CNN this SNN was converted from (same architecture), when the file holds it."""
        if not self.cnn_state:
            raise ModelFileError("this model file holds no CNN weights")
        net = HSINet(self.net.cfg, self.net.in_bands, self.net.n_classes,
                     bits=int(self.meta.get("cnn_bits", self.net.bits)), time_steps=self.net.time_steps)
        net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.cnn_state.items()})
        net.spiking = False
        net.eval()
        return net


def _ranges(indices) -> str:
    """0-based indices -> "1-103, 109-149" (1-based, as analysts count bands)."""
    out, idx = [], sorted(int(i) for i in indices)
    i = 0
    while i < len(idx):
        j = i
        while j + 1 < len(idx) and idx[j + 1] == idx[j] + 1:
            j += 1
        out.append(f"{idx[i] + 1}" if i == j else f"{idx[i] + 1}-{idx[j] + 1}")
        i = j + 1
    return ", ".join(out)


def _wl_range(w):
    w = [x for x in (w or []) if x is not None]
    return [min(w), max(w)] if w else None
