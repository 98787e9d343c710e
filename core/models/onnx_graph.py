"""The SNN of a model file as an ONNX graph, for classification without torch (ONNX Runtime).

Built from the checked model record (core/models/record.py), not traced from torch: a machine without torch
builds the same graph, and the graph holds exactly the numbers the torch network uses (the weights
re-quantized as `quant.fake_quant` does, the trained thresholds and leaks, the input quantization).

The graph is the fully convolutional network that `classify` runs over a window: input `features`
(batch, features, rows + 2r, cols + 2r) of preprocessed pixels (core/data/preprocess.py: the model file's
preprocessing record travels in the graph's metadata), output `scores` (batch, classes, rows, cols), the
output layer's membrane averaged over the T steps (softmax gives the class probabilities). Batch, rows and
cols are dynamic. The T-step loop is unrolled with standard operators (Conv, Add, Mul, Greater, Cast, Sub,
Sum, Reshape, Squeeze; Round and Clip for k-bit membranes; opset 17), so any ONNX runtime runs it:

    u = v_th / 2;  for t in 1..T:  v = I_t + leak * u;  [v = clip(round(v * 2^(k-2) / v_th)) * v_th / 2^(k-2)];
    s_t = (v > v_th) * v_th;  u = v - s_t

the LIF of core/nn/lif.lif_inference, with the first layer's current computed once (direct analog input).
"""
from __future__ import annotations

import json

import numpy as np

from .record import ModelRecord
from ..nn.codes import qmax, requantize

OPSET = 17
IR_VERSION = 8
"""ONNX IR 8 / opset 17: read by every ONNX Runtime since 1.13 and by onnx >= 1.12."""
INPUT, OUTPUT = "features", "scores"
FORMAT = "hypersnn-snn-onnx"


def metadata(rec: ModelRecord) -> dict:
    """What a consumer of the graph needs besides it: the band contract, preprocessing and classes."""
    from dataclasses import asdict
    return {"format": FORMAT, "patch_size": rec.patch_size, "time_steps": rec.time_steps,
            "weight_bits": rec.weight_bits, "input_bits": rec.cfg.input_bits, "leak_mode": rec.leak_mode,
            "membrane_bits": rec.membrane_bits,
            "architecture": rec.cfg.arch, "bands": asdict(rec.bands), "preprocessing": rec.preprocessor.to_dict(),
            "classes": rec.classes,
            "input": f"{INPUT}: (batch, features, rows + {rec.patch_size - 1}, cols + {rec.patch_size - 1}) float32 "
                     f"preprocessed pixels (reflect-padded by {rec.patch_size // 2} at image borders)",
            "output": f"{OUTPUT}: (batch, classes, rows, cols) mean output-layer score over the time steps; "
                      f"softmax gives the class probabilities, classes in the order of 'classes'"}


def snn_onnx(rec: ModelRecord):
    """An onnx.ModelProto of the record's SNN (needs the `onnx` package, not torch)."""
    from onnx import TensorProto, checker, helper, numpy_helper

    nodes, inits = [], []
    names = iter(range(1 << 30))

    def const(value, name=None, dtype=np.float32):
        name = name or f"c{next(names)}"
        inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def node(op, inputs, **attrs):
        out = f"t{next(names)}"
        nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out

    x = INPUT
    if rec.cfg.input_bits:  # quantize_input: round(clip(x / s, -1, 1) * q) * (s / q), per feature
        q = np.float32(qmax(rec.cfg.input_bits))
        s = np.asarray(rec.input_scale, np.float32).reshape(1, -1, 1, 1)
        x = node("Div", [x, const(s)])
        x = node("Clip", [x, const(-1.0), const(1.0)])
        x = node("Round", [node("Mul", [x, const(q)])])
        x = node("Mul", [x, const(s / q)])
    x = node("Unsqueeze", [x, const([1], dtype=np.int64)])  # the channel axis of the 3-D convolutions

    def layer(i, t):
        sp = rec.specs[i]
        if sp.fold_before:  # (N, C, D, H, W) -> (N, C * D, H, W) with dynamic N, H, W
            shape = node("Shape", [t])
            target = node("Concat", [node("Slice", [shape, const([0], dtype=np.int64), const([1], dtype=np.int64)]),
                                     const([sp.in_ch], dtype=np.int64),
                                     node("Slice", [shape, const([3], dtype=np.int64), const([5], dtype=np.int64)])],
                          axis=0)
            t = node("Reshape", [t, target])
        y = node("Conv", [t, w_names[i], b_names[i]])
        if sp.squeeze_after:
            y = node("Squeeze", [y, const([2], dtype=np.int64)])
        return y

    w_names = [const(requantize(w, rec.weight_bits), f"w{i}") for i, w in enumerate(rec.weights)]
    b_names = [const(b, f"b{i}") for i, b in enumerate(rec.biases)]

    def lif(i, currents):
        p = rec.neurons[i]
        vth = np.float32(p["threshold"])
        leak, th = const(np.float32(p["leak"])), const(vth)
        u = const(np.float32(0.5) * vth)
        k = rec.membrane_bits
        if k:  # the float32 arithmetic of lif.quantize_membrane_: levels / vth, round half to even, clip, * step
            levels = np.float32(2 ** (k - 2))
            inv, step = const(levels / vth), const(vth / levels)
            lo, hi = const(np.float32(-2.0) * levels), const(np.float32(2.0) * levels - np.float32(1.0))
        out = []
        for cur in currents:
            v = node("Add", [cur, node("Mul", [u, leak])])
            if k:
                v = node("Mul", [node("Clip", [node("Round", [node("Mul", [v, inv])]), lo, hi]), step])
            s = node("Mul", [node("Cast", [node("Greater", [v, th])], to=TensorProto.FLOAT), th])
            u = node("Sub", [v, s])
            out.append(s)
        return out

    T = rec.time_steps
    first = layer(0, x)
    spikes = lif(0, [first] * T)
    for i in range(1, len(rec.specs)):
        if rec.specs[i].role == "output":
            mean = node("Div", [node("Sum", spikes) if T > 1 else spikes[0], const(np.float32(T))])
            y = layer(i, mean)
            nodes.append(helper.make_node("Identity", [y], [OUTPUT]))
            break
        spikes = lif(i, [layer(i, s) for s in spikes])
    else:
        raise AssertionError("network has no output layer")

    graph = helper.make_graph(
        nodes, "hypersnn_snn",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", rec.in_features, "rows", "cols"])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", rec.n_classes, "out_rows", "out_cols"])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="hypersnn",
                              doc_string=__doc__.split("\n\n")[0])
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {"hypersnn": json.dumps(metadata(rec), sort_keys=True)})
    checker.check_model(model)
    return model
