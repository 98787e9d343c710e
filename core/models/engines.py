"""Which engine turns a window's features into class scores: the torch network, or ONNX Runtime without torch.

`classify` needs only the model file's band contract, preprocessing, classes and the SNN's forward pass.
With `engine="onnx"` (or `auto` where torch does not import) the SNN runs as the ONNX graph of
core/models/onnx_graph.py in ONNX Runtime, and nothing here imports torch: QGIS installs and Dask workers can
classify with numpy, onnx and onnxruntime only. Training, the CNN mode and energy maps (operation counting
on the torch network) still need torch, and say so.
"""
from __future__ import annotations

import importlib
import os
from typing import Callable

import numpy as np

from ..errors import InputError

ENGINES = ("auto", "torch", "onnx")


def importable(module: str) -> bool:
    """Whether `module` imports here (a package can be installed and still fail to import)."""
    try:
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - any failure (missing, ABI mismatch, DLL error) means "not usable"
        return False
    return True


def resolve_engine(engine: str) -> str:
    """'torch' or 'onnx' for a requested engine; `auto` takes torch where it imports, else ONNX Runtime."""
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "auto":
        engine = "torch" if importable("torch") else "onnx"
    if engine == "onnx":
        missing = [m for m in ("onnx", "onnxruntime") if not importable(m)]
        if missing:
            raise InputError(f"classification with the ONNX engine needs the Python package(s) {', '.join(missing)} "
                             f"(pip install onnx onnxruntime){'' if importable('torch') else ', or torch'}")
    elif not importable("torch"):
        raise InputError("the torch engine needs the Python package torch; without torch, classify with "
                         "the ONNX engine (engine 'onnx' or 'auto', with onnx and onnxruntime installed)")
    return engine


class OnnxModel:
    """A model file whose SNN runs in ONNX Runtime: the same band contract, preprocessing and classes as
    core/models/torch_model.HyperSNNModel (both read core/models/record.ModelRecord), without torch."""

    engine = "onnx"

    def __init__(self, rec, threads: int = 0):
        import onnxruntime as ort

        from .onnx_graph import INPUT, snn_onnx

        self.record = rec
        self.bands, self.preprocessor, self.classes, self.meta = rec.bands, rec.preprocessor, rec.classes, rec.meta
        self.train_mask = rec.train_mask
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(os.cpu_count() or 1, 8)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._input = INPUT
        self.session = ort.InferenceSession(snn_onnx(rec).SerializeToString(), opts,
                                            providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, path, threads: int = 0) -> "OnnxModel":
        from .record import read_record
        return cls(read_record(path), threads)

    @property
    def patch_size(self) -> int:
        return self.record.patch_size

    @property
    def class_values(self):
        return [c["value"] for c in self.classes]

    def summary(self) -> dict:
        """core/models/summary.model_summary of the record (the same keys as the torch model's)."""
        from .summary import model_summary

        r = self.record
        return model_summary(arch=r.cfg.arch, patch_size=r.patch_size, time_steps=r.time_steps,
                             weight_bits=r.weight_bits, bands=r.bands, in_features=r.in_features, classes=r.classes,
                             layers=[{"name": sp.name, "kind": sp.kind, "in": sp.in_ch, "out": sp.out_ch,
                                      "kernel": list(sp.kernel), "role": sp.role} for sp in r.specs],
                             neurons=[dict(n, leak_mode=r.leak_mode) for n in r.neurons], leak_mode=r.leak_mode,
                             input_bits=r.cfg.input_bits, engine="onnx (ONNX Runtime)", membrane_bits=r.membrane_bits)

    def training_mask(self, shape):
        from .record import unpack_training_mask
        return unpack_training_mask(self.train_mask, self.meta, shape)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """(N, features, rows + 2r, cols + 2r) float32 -> (N, classes, rows, cols) output scores."""
        return self.session.run(None, {self._input: np.ascontiguousarray(x, np.float32)})[0]


def load_classifier(model, engine: str = "auto", threads: int = 0):
    """The model to classify with: a loaded model is used as it is (a HyperSNNModel with the torch engine);
    a path is read for the engine that `engine` resolves to."""
    if not isinstance(model, (str, os.PathLike)):
        if engine == "onnx" and getattr(model, "engine", "torch") != "onnx":
            return OnnxModel(_record_of(model), threads)
        return model
    if resolve_engine(engine) == "onnx":
        return OnnxModel.load(model, threads)
    from .torch_model import HyperSNNModel
    return HyperSNNModel.load(model)


def _record_of(model):
    """The checked record of a loaded torch model, read back from its file form (one way to read a model)."""
    import tempfile

    from .record import read_record
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.hsnn")
        model.save(path)
        return read_record(path)


def scorer(model, mode: str = "snn") -> Callable[[np.ndarray], np.ndarray]:
    """(N, features, rows + 2r, cols + 2r) -> (N, classes, rows, cols) scores of `model` in `mode`."""
    if mode not in ("snn", "cnn"):
        raise InputError(f"classification mode must be 'snn' or 'cnn', got {mode!r}")
    if getattr(model, "engine", "torch") == "onnx":
        if mode != "snn":
            raise InputError("the ONNX engine runs the SNN only: classify in CNN mode with the torch engine")
        return model.scores
    import torch

    net = model.net if mode == "snn" else model.cnn_net()
    net.eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()
    run.net = net
    return run


def softmax(scores: np.ndarray, axis: int = 0) -> np.ndarray:
    e = np.exp(scores - scores.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)

