"""A trained classifier with everything needed to apply it: the network plus its data contract.

Saved as one model file (core/models/modelfile.py): weights (k-bit codes), thresholds, leaks, time steps,
architecture, the bands it reads (indices into the source raster, with names and wavelengths),
preprocessing, classes, and provenance/metrics.
"""
from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np
import torch

from .. import __version__
from ..errors import ModelFileError
from .record import (  # noqa: F401 - BandContract and the tolerance are re-exported
    WAVELENGTH_TOLERANCE_NM, BandContract, ModelRecord, record_from, unpack_training_mask)
from .modelfile import load_model, save_model
from ..nn.models import HSINet
from ..nn.quant import to_codes
from ..data.preprocess import Preprocessor


@dataclass
class HyperSNNModel:
    net: HSINet
    bands: BandContract
    preprocessor: Preprocessor
    classes: list  # [{value, name, color}]
    meta: dict = field(default_factory=dict)  # config, split protocol, metrics, provenance
    cnn_state: Optional[dict] = None  # the CNN the SNN was converted from, for comparisons
    train_mask: Optional[np.ndarray] = None
    """The training + validation pixels of the run, bit-packed (np.packbits) over meta['split_masks']['shape'];
    stored in the file's tensors whatever the raster's size, so reports on any scene can leave them out."""

    engine = "torch"
    """How core/models/engines.py runs it (core/models/engines.OnnxModel is the torch-free one)."""

    @property
    def patch_size(self) -> int:
        return self.net.cfg.patch_size

    @property
    def class_values(self):
        return [c["value"] for c in self.classes]

    def summary(self) -> dict:
        """core/models/summary.model_summary of this network (its trained thresholds and leaks)."""
        from .summary import model_summary

        n = self.net
        return model_summary(arch=n.cfg.arch, patch_size=n.cfg.patch_size, time_steps=n.time_steps,
                             weight_bits=n.bits, bands=self.bands, in_features=n.in_bands, classes=self.classes, layers=n.layer_table(),
                             neurons=n.neuron_params(), leak_mode=n.leak_mode, input_bits=n.input_bits, engine="torch",
                             membrane_bits=n.membrane_bits)

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
        if self.train_mask is not None:
            tensors["split/train_mask"] = np.asarray(self.train_mask, np.uint8)
        meta = dict(self.meta)
        meta.update({
            "hypersnn_version": __version__,
            "architecture": asdict(self.net.cfg),
            "in_features": self.net.in_bands,
            "n_classes": self.net.n_classes,
            "time_steps": self.net.time_steps,
            "weight_bits": self.net.bits,
            "surrogate_slope": self.net.neurons[0].slope if len(self.net.neurons) else 5.0,
            "leak_mode": self.net.leak_mode,
            "membrane_bits": self.net.membrane_bits,
            "input_scale": [float(v) for v in self.net.input_scale.tolist()] if self.net.input_bits else None,
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
        """Load a model file. The file is untrusted: anything wrong with it ends in ModelFileError."""
        meta, tensors = load_model(path)
        try:
            return cls._build(path, meta, tensors)
        except ModelFileError:
            raise
        except Exception as e:  # noqa: BLE001 - any inconsistency of an untrusted file is a bad model file
            raise ModelFileError(f"{path}: model file is incomplete or inconsistent ({type(e).__name__}: {e})") from None

    @classmethod
    def _build(cls, path, meta: dict, tensors: dict) -> "HyperSNNModel":
        return cls.from_record(record_from(path, meta, tensors))

    @classmethod
    def from_record(cls, rec: ModelRecord) -> "HyperSNNModel":
        """The torch network of a checked model file (core/models/record.py)."""
        net = HSINet(rec.cfg, rec.in_features, rec.n_classes, bits=rec.weight_bits, time_steps=rec.time_steps,
                     slope=rec.surrogate_slope, leak_mode=rec.leak_mode, init=False, membrane_bits=rec.membrane_bits)
        with torch.no_grad():
            if rec.input_scale:
                net.input_scale.copy_(torch.tensor(rec.input_scale, dtype=torch.float32))
            for i, (w, b) in enumerate(zip(rec.weights, rec.biases)):
                net.weights[i].copy_(torch.from_numpy(w))
                net.biases[i].copy_(torch.from_numpy(b))
            for n, p in zip(net.neurons, rec.neurons):
                n.threshold.fill_(p["threshold"])
                n.leak.fill_(p["leak"])
        net.spiking = True
        net.eval()
        return cls(net=net, bands=rec.bands, preprocessor=rec.preprocessor, classes=rec.classes, meta=rec.meta,
                   cnn_state=rec.cnn_state, train_mask=rec.train_mask)

    def training_mask(self, shape):
        """The training + validation pixels as an (H, W) mask for a raster of this shape, or None."""
        return unpack_training_mask(self.train_mask, self.meta, shape)

    def cnn_net(self) -> HSINet:
        """The CNN this SNN was converted from (same architecture), when the file holds it."""
        if not self.cnn_state:
            raise ModelFileError("this model file holds no CNN weights")
        try:
            net = HSINet(self.net.cfg, self.net.in_bands, self.net.n_classes,
                         bits=int(self.meta.get("cnn_bits", self.net.bits)), time_steps=self.net.time_steps,
                         leak_mode=self.net.leak_mode, init=False)
            state = {k: torch.from_numpy(np.asarray(v)) for k, v in self.cnn_state.items()}
            state.setdefault("input_scale", self.net.input_scale.clone())  # files from before k-bit input
            net.load_state_dict(state)
        except (TypeError, ValueError, RuntimeError, KeyError) as e:
            raise ModelFileError(f"the CNN weights in this model file do not fit its architecture ({e})") from None
        net.spiking = False
        net.eval()
        return net
