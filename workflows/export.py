"""Export a model file's SNN as a standalone ONNX graph (for ONNX runtimes outside HyperSNN)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..core.io.files import atomic_write, check_output_file, check_outputs


@dataclass
class ExportOutcome:
    onnx: str
    nodes: int
    bytes: int
    opset: int
    metadata_keys: list


def run_export(model_path, onnx_path) -> ExportOutcome:
    """Write `onnx_path` atomically: the graph of core/models/onnx_graph.py, with the band contract, preprocessing
    and classes in its metadata (`hypersnn` property, JSON). Needs the onnx package; torch is not used."""
    from ..core.models.engines import resolve_engine
    from ..core.models.record import read_record
    from ..core.models.onnx_graph import OPSET, snn_onnx

    out = check_output_file(onnx_path, "ONNX file")
    check_outputs([(out, "ONNX file")], [(os.fspath(model_path), "model file")])
    resolve_engine("onnx")  # a clear message when onnx / onnxruntime are missing
    graph = snn_onnx(read_record(model_path))
    blob = graph.SerializeToString()
    atomic_write(out, lambda fh: fh.write(blob), what="ONNX file")
    return ExportOutcome(str(out), len(graph.graph.node), len(blob), OPSET,
                         [p.key for p in graph.metadata_props])
