"""Every setting of the engine as typed dataclasses.

The CLI, the QGIS dialogs and the Processing algorithms all fill these same objects; a JSON config
file holds the same structure (`RunConfig.from_dict`).
"""
from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import List

from .errors import InputError


@dataclass
class BandSelection:
    """Which bands feed the model. All criteria combine (intersection); empty means all bands."""

    indices: str = ""
    """1-based index ranges, e.g. "1-100,120-150,160"."""
    wavelength_windows: str = ""
    """Windows with units, e.g. "400-1340nm,1450-1800nm" or "0.4-1.34um"."""
    drop_bad_bands: bool = True
    """Drop bands flagged bad (ENVI `bbl`/GDAL `bbl` == 0)."""


@dataclass
class SplitConfig:
    """How labelled pixels are divided into train, validation and test sets."""

    method: str = "random"
    """random (stratified fraction) | count (per class) | blocks (spatially disjoint) |
    polygons (whole polygons to one side) | given (a user map: 1 = train, 2 = test)."""
    train_fraction: float = 0.1
    train_count: int = 50
    """Pixels per class for method=count (classes with fewer pixels keep half for testing)."""
    val_fraction: float = 0.1
    """Share of the training pixels held back for early stopping."""
    block_size: int = 16
    """Block edge in pixels for method=blocks."""
    seed: int = 0


@dataclass
class PreprocessConfig:
    standardize: bool = True
    pca_components: int = 0
    """0 keeps all selected bands."""


@dataclass
class ModelConfig:
    arch: str = "hybrid"
    """hybrid (3-D then 2-D convolutions) | 3d (3-D convolutions only)."""
    patch_size: int = 11
    conv3d_channels: List[int] = field(default_factory=lambda: [8, 16])
    conv3d_spectral_kernels: List[int] = field(default_factory=lambda: [7, 5])
    first_spatial_kernel: int = 1
    """Spatial kernel of the first layer: 1 (a per-pixel spectral filter bank, default) or 3 (3x3). The first
    layer sees analog input, so in the SNN it is the only layer that multiplies; 1 cuts its MACs about 6x and
    the later layers (cheap accumulates) cover the patch instead (docs/results.md, accuracy-energy front)."""
    conv2d_channels: List[int] = field(default_factory=lambda: [32])
    dense: List[int] = field(default_factory=lambda: [128])
    dropout: float = 0.2
    input_bits: int = 0
    """0: the first layer reads the preprocessed features as real numbers. 2..16: it reads them as k-bit
    integers (per-feature scale from the training pixels), so its multiplies are k-bit x weight-bit
    (core/nn/quant.quantize_input; costed so in core/energy.py)."""


@dataclass
class TrainConfig:
    cnn_epochs: int = 30
    snn_epochs: int = 10
    batch_size: int = 64
    cnn_lr: float = 1e-3
    snn_lr: float = 5e-4
    weight_decay: float = 0.0
    time_steps: int = 5
    weight_bits: int = 6
    """2..16, or 0 for full precision."""
    cnn_qat: bool = True
    """Quantization-aware training of the CNN at `weight_bits` (the converted SNN starts from it)."""
    class_weighting: str = "sqrt_inverse"
    """none | sqrt_inverse | inverse: cross-entropy weights from training class frequencies (mean 1);
    lifts rare classes, i.e. the average accuracy (AA)."""
    spike_penalty: float = 0.0
    """Weight of a spike-rate term in the SNN loss: sum over spiking layers of (spike rate x the next layer's
    dense MACs) / all later layers' dense MACs, i.e. the fraction of the later layers' work that spikes
    trigger. Trades accuracy for energy; 0 = plain cross-entropy (default; see docs/results.md, front)."""
    threshold_percentile: float = 99.7
    leak_init: float = 1.0
    leak_mode: str = "trained"
    """trained: one leak per layer learned in [0, 1] | pow2: learned, but applied as the nearest 1 - 2^-n (a
    shift and an add in hardware, no multiply) | none: fixed at 1 (integrate-and-fire). See core/nn/lif.py."""
    surrogate_slope: float = 5.0
    patience: int = 8
    """Early stopping: epochs without validation improvement before a stage stops (0 = never)."""
    seed: int = 0
    threads: int = 0
    """torch CPU threads (0 = leave torch's default)."""
    device: str = "cpu"


@dataclass
class ClassifyConfig:
    window: int = 128
    """Window edge in pixels; memory is bounded by the window plus the patch halo (peak RSS of a 200-band
    classification: about 1.1 GB at 128 px, 2 GB at 256 px, with the same pixels/s: docs/results.md)."""
    batch_size: int = 1024
    probabilities: bool = False
    """Also write one band of class probability per class."""
    mode: str = "snn"
    """snn | cnn (the converted-from CNN, for comparison)."""


@dataclass
class EnergyConfig:
    """Per-operation energies in picojoules and the bit widths they are applied at (core/energy.py).

    `table` names a published set in ENERGY_TABLES (its energies then apply; the widths stay the caller's);
    any other name uses the values given here. Energies: 45 nm CMOS, Horowitz, ISSCC 2014 (FP32 mult 3.7,
    add 0.9; INT32 mult 3.1, add 0.1). `full_precision` says what an unquantized operation is costed as.
    """

    table: str = "horowitz45"
    full_precision: str = "FP32"
    full_mult_pj: float = 3.7
    full_add_pj: float = 0.9
    int32_mult_pj: float = 3.1
    int32_add_pj: float = 0.1
    accumulator_bits: int = 16
    """Width of accumulators and membrane potentials: every add, compare and reset of either network."""
    activation_bits: int = 16
    """Width at which real-valued operands are costed: the CNN's activations and an unquantized input."""


# Published per-operation energy sets, fixed before any measurement (see core/energy.py).
ENERGY_TABLES = {
    "horowitz45": EnergyConfig(),
    "horowitz45_int": EnergyConfig(table="horowitz45_int", full_precision="INT32", full_mult_pj=3.1, full_add_pj=0.1),
}
ENERGY_TABLE_TITLES = {
    "horowitz45": "45 nm CMOS (Horowitz 2014), full precision = FP32",
    "horowitz45_int": "45 nm CMOS (Horowitz 2014), full precision = INT32",
}

# Named bundles of settings (`--preset`, the dialogs' and Processing's preset choice), set on top of the
# defaults and under any explicit setting. How each was chosen is written beside it.
PRESETS = {
    "default": {},
}
PRESET_NOTES = {
    "default": "the engine's defaults",
}


def apply_preset(cfg: "RunConfig", name: str) -> "RunConfig":
    """Set the preset's values ("section.field": value) on `cfg` and return it."""
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    for key, value in PRESETS[name].items():
        section, field_name = key.split(".")
        setattr(getattr(cfg, section), field_name, value)
    return cfg


@dataclass
class RunConfig:
    bands: BandSelection = field(default_factory=BandSelection)
    split: SplitConfig = field(default_factory=SplitConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    energy: EnergyConfig = field(default_factory=EnergyConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        return _from_dict(cls, d, "config")

    @classmethod
    def load(cls, path) -> "RunConfig":
        p = Path(path)
        try:
            d = json.loads(p.read_text())
        except FileNotFoundError:
            raise InputError(f"Config file not found: {p}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"Config file {p} is not valid JSON: {e}") from None
        return cls.from_dict(d)

    def validate(self) -> "RunConfig":
        t, m, p = self.train, self.model, self.preprocess
        if t.weight_bits != 0 and not 2 <= t.weight_bits <= 16:
            raise InputError(f"weight_bits must be 0 (full precision) or 2..16, got {t.weight_bits}")
        if not 1 <= t.time_steps <= 64:
            raise InputError(f"time_steps must be 1..64, got {t.time_steps}")
        if m.patch_size < 1 or m.patch_size % 2 == 0:
            raise InputError(f"patch_size must be odd and positive, got {m.patch_size}")
        if m.arch not in ("hybrid", "3d"):
            raise InputError(f"arch must be 'hybrid' or '3d', got {m.arch!r}")
        if p.pca_components < 0:
            raise InputError(f"pca_components must be >= 0, got {p.pca_components}")
        if not 0 < self.split.train_fraction < 1:
            raise InputError(f"train_fraction must be in (0, 1), got {self.split.train_fraction}")
        if not 0 <= self.split.val_fraction < 1:
            raise InputError(f"val_fraction must be in [0, 1), got {self.split.val_fraction}")
        if not 50 <= t.threshold_percentile <= 100:
            raise InputError(f"threshold_percentile must be in [50, 100], got {t.threshold_percentile}")
        if m.first_spatial_kernel not in (1, 3):
            raise InputError(f"first_spatial_kernel must be 1 or 3, got {m.first_spatial_kernel}")
        if t.class_weighting not in ("none", "sqrt_inverse", "inverse"):
            raise InputError(f"class_weighting must be none, sqrt_inverse or inverse, got {t.class_weighting!r}")
        if not (t.spike_penalty >= 0 and math.isfinite(t.spike_penalty)):
            raise InputError(f"spike_penalty must be a finite number >= 0, got {t.spike_penalty}")
        if t.leak_mode not in ("trained", "pow2", "none"):
            raise InputError(f"leak_mode must be trained, pow2 or none, got {t.leak_mode!r}")
        if m.input_bits != 0 and not 2 <= m.input_bits <= 16:
            raise InputError(f"input_bits must be 0 (real-valued input) or 2..16, got {m.input_bits}")
        e = self.energy
        if not (1 <= e.accumulator_bits <= 64 and 1 <= e.activation_bits <= 64):
            raise InputError(f"energy accumulator_bits and activation_bits must be 1..64, got "
                             f"{e.accumulator_bits} and {e.activation_bits}")
        if t.cnn_epochs < 0 or t.snn_epochs < 0 or t.batch_size < 1:
            raise InputError("epochs must be >= 0 and batch_size >= 1")
        return self


def _from_dict(cls, d, where):
    if not isinstance(d, dict):
        raise InputError(f"{where}: expected an object, got {type(d).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = set(d) - set(known)
    if unknown:
        raise InputError(f"{where}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    kwargs = {}
    for name, value in d.items():
        f = known[name]
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if is_dataclass(default):
            kwargs[name] = _from_dict(type(default), value, f"{where}.{name}")
        else:
            kwargs[name] = value
    return cls(**kwargs)
