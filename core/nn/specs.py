"""Layer shapes of the iso-architecture networks, without torch.

The model file loader validates an untrusted file against these shapes before anything is allocated, and
the ONNX graph (core/models/onnx_graph.py) is laid out from them, both on machines that may have no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

from ..config.schema import ModelConfig
from ..errors import InputError

LEAK_MODES = ("trained", "pow2", "none")
"""How a layer's leak is learned and applied (core/nn/lif.LIF)."""
MEMBRANE_BITS = (0,) + tuple(range(4, 17))
"""0: a real-valued membrane (costed at energy.accumulator_bits); 4..16: a k-bit membrane with saturation
(core/nn/lif.quantize_membrane_)."""


@dataclass
class LayerSpec:
    name: str
    kind: str  # conv3d | conv2d
    in_ch: int
    out_ch: int
    kernel: tuple
    role: str  # conv | dense | output
    fold_before: bool = False  # (N, C, D, H, W) -> (N, C*D, H, W) before this layer
    squeeze_after: bool = False  # drop the unit spectral axis after this layer

    @property
    def fan_in(self) -> int:
        n = self.in_ch
        for k in self.kernel:
            n *= k
        return n


def build_specs(cfg: ModelConfig, in_bands: int, n_classes: int) -> List[LayerSpec]:
    f0 = cfg.first_spatial_kernel
    n_spatial = len(cfg.conv3d_channels) + len(cfg.conv2d_channels) - (1 if f0 == 1 else 0)
    s = cfg.patch_size - 2 * n_spatial
    if s < 1:
        raise InputError(
            f"patch_size {cfg.patch_size} is too small for {n_spatial} 3x3 convolutions: "
            f"use at least {2 * n_spatial + 1}")
    if len(cfg.conv3d_spectral_kernels) != len(cfg.conv3d_channels):
        raise InputError("conv3d_spectral_kernels needs one kernel per conv3d layer")
    specs: List[LayerSpec] = []
    depth, ch = in_bands, 1
    for i, (c, k) in enumerate(zip(cfg.conv3d_channels, cfg.conv3d_spectral_kernels)):
        f = f0 if i == 0 else 3
        specs.append(LayerSpec(f"conv3d_{i + 1}", "conv3d", ch, c, (k, f, f), "conv"))
        depth, ch = depth - (k - 1), c
    if cfg.arch == "3d":
        for i, c in enumerate(cfg.conv2d_channels):
            k = 3 if depth >= 3 else 1
            specs.append(LayerSpec(f"conv3d_{len(cfg.conv3d_channels) + i + 1}", "conv3d", ch, c, (k, 3, 3), "conv"))
            depth, ch = depth - (k - 1), c
    if depth < 1:
        need = in_bands - depth + 1
        raise InputError(
            f"{in_bands} input bands (after band selection/PCA) are too few for the spectral kernels "
            f"{cfg.conv3d_spectral_kernels}: need at least {need}")
    if cfg.arch == "hybrid":
        ch, fold = ch * depth, True
        for i, c in enumerate(cfg.conv2d_channels):
            specs.append(LayerSpec(f"conv2d_{i + 1}", "conv2d", ch, c, (3, 3), "conv", fold_before=fold))
            ch, fold = c, False
        first_dense = LayerSpec("dense_1", "conv2d", ch, 0, (s, s), "dense", fold_before=fold)
    else:
        first_dense = LayerSpec("dense_1", "conv3d", ch, 0, (depth, s, s), "dense", squeeze_after=True)
    widths = list(cfg.dense) + [n_classes]
    first_dense.out_ch = widths[0]
    if len(widths) == 1:
        first_dense.role, first_dense.name = "output", "output"
    specs.append(first_dense)
    ch = widths[0]
    for j, w in enumerate(widths[1:]):
        last = j == len(widths) - 2
        specs.append(LayerSpec("output" if last else f"dense_{j + 2}", "conv2d", ch, w, (1, 1),
                               "output" if last else "dense"))
        ch = w
    return specs
