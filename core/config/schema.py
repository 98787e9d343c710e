"""Every setting of the engine as typed dataclasses.

The CLI, the QGIS dialogs and the Processing algorithms all fill these same objects; a JSON config
file holds the same structure (`RunConfig.from_dict`).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import List, Optional

from ..errors import InputError
from .registry import Setting, build_settings


def opt(default=MISSING, *, factory=None, help: str = "", flag: Optional[str] = None, param: Optional[str] = None,
        lo=None, hi=None, above=None, choices=None, processing_choices=None, min_len=None, max_len=None,
        advanced: bool = False, cli: bool = True, processing: bool = True, dialog: bool = True,
        negate: bool = False, flag_help: str = "", stage: Optional[str] = None):
    """A setting and what the front ends need to offer it (core/config/settings.py turns these into CLI flags,
    Processing parameters and dialog fields). Each keyword is an item of core/config/registry.Setting, described
    there; `flag` defaults to --name-with-dashes and `param` to NAME. `stage` "snn": only the SNN stage reads it,
    so runs that differ in it share their CNN checkpoint (core/training/trainer.py); every other training setting
    is part of the CNN's fingerprint, so a new setting is safe by default: it can only cost a retrained CNN, never
    reuse a stale one."""
    meta = {"help": help, "flag": flag, "param": param, "lo": lo, "hi": hi, "above": above, "choices": choices,
            "processing_choices": processing_choices, "min_len": min_len, "max_len": max_len,
            "advanced": advanced, "cli": cli, "processing": processing, "dialog": dialog, "negate": negate,
            "flag_help": flag_help, "stage": stage}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class BandSelection:
    """Which bands feed the model. All criteria combine (intersection); empty means all bands."""

    indices: str = opt("", flag="--bands", param="BANDS", dialog=False,
                       help='1-based band ranges to use, e.g. "1-103,109-149" (empty = all)')
    wavelength_windows: str = opt("", flag="--wavelengths", param="WAVELENGTHS", dialog=False,
                                  help='wavelength windows to use, e.g. "400-1340nm,1450-1800nm" or "0.4-1.3um"')
    drop_bad_bands: bool = opt(True, flag="--keep-bad-bands", negate=True, param="DROP_BAD_BANDS", dialog=False,
                               help="drop bands flagged bad (ENVI/GDAL bbl = 0)",
                               flag_help="keep the bands flagged bad (ENVI/GDAL bbl = 0), which are dropped by default")
    drop_water_bands: bool = opt(False, flag="--drop-water-bands", param="DROP_WATER_BANDS", advanced=True,
                                 dialog=False,
                                 help="also drop the water-vapour absorption bands (1340-1450 nm and 1790-1960 nm) "
                                      "of rasters with wavelengths")


@dataclass
class SplitConfig:
    """How labelled pixels are divided into train, validation and test sets."""

    method: str = opt("cv", flag="--split", param="SPLIT", dialog=False,
                      choices=("auto", "random", "count", "blocks", "polygons", "given", "cv"),
                      processing_choices=("random", "count", "blocks", "polygons", "auto", "cv"),  # appended: indices stay
                      help="cv (map production, the default): the model trains on every label and grouped k-fold "
                           "cross-validation over spatial clusters of the labels gives the accuracy (k + 1 "
                           "trainings); hold-out splits for benchmarks: auto (whole polygons when the labels are "
                           "polygons, 2+ per class, else random), random (stratified fraction), count (N pixels per "
                           "class), blocks (spatially disjoint squares), polygons (whole polygons); given: a map (1 = "
                           "train, 2 = test) or independent validation polygons")
    folds: int = opt(3, param="FOLDS", lo=2, hi=10, advanced=True, dialog=False,
                     help="folds of the grouped cross-validation (split cv)")
    train_fraction: float = opt(0.1, param="TRAIN_FRACTION", lo=0.001, hi=0.999, dialog=False,
                                help="share of each class for training (auto, random, blocks, polygons)")
    train_count: int = opt(50, param="TRAIN_COUNT", lo=1, dialog=False,
                           help="training pixels per class (count; classes with fewer keep half for testing)")
    val_fraction: float = opt(0.1, param="VAL_FRACTION", lo=0.0, hi=0.9, advanced=True, dialog=False,
                              help="share of the training pixels held back for early stopping")
    block_size: int = opt(16, param="BLOCK_SIZE", lo=1, advanced=True, dialog=False,
                          help="block edge in pixels (blocks)")
    seed: int = opt(0, lo=0, cli=False, processing=False, dialog=False,
                    help="seed of the split; follows train.seed unless a settings file gives its own")
    leakage_guard: bool = opt(True, flag="--no-leakage-guard", negate=True, param="LEAKAGE_GUARD", advanced=True,
                              dialog=False,
                              help="leakage guard: drop test pixels that lie inside a training patch (blocks, "
                                   "polygons, given)",
                              flag_help="turn off the leakage guard, which drops test pixels that lie inside a "
                                        "training patch (blocks, polygons, given); off only to score a published "
                                        "split's every test pixel, as its protocol does")


@dataclass
class PreprocessConfig:
    standardize: bool = opt(True, flag="--no-standardize", negate=True, param="STANDARDIZE", advanced=True,
                            help="standardise each band on the training pixels",
                            flag_help="do not standardise the bands (by default each band is standardised on the "
                                      "training pixels)")
    pca_components: int = opt(-1, flag="--pca", param="PCA", lo=-1, dialog=False,
                              help="spectral features to keep: principal components fitted on the training pixels, "
                                   "or band bins with --spectral-reduction bins (-1 = auto: 30 with more than 64 "
                                   "bands, else none; 0 = none, use the bands)")
    spectral_reduction: str = opt("pca", param="SPECTRAL_REDUCTION", choices=("pca", "bins"), advanced=True,
                                  dialog=False,
                                  help="how the bands become --pca features: pca (principal components of the "
                                       "standardised training pixels) or bins (contiguous runs of bands averaged: "
                                       "no fitting, each feature keeps a wavelength range)")


@dataclass
class ModelConfig:
    arch: str = opt("hybrid", param="ARCH", choices=("hybrid", "3d"), dialog=False,
                    help="hybrid 3-D/2-D CNN or 3-D CNN")
    patch_size: int = opt(5, param="PATCH_SIZE", lo=1, hi=63, dialog=False,
                          help="odd patch edge in pixels. 5, chosen with weight averaging and context dropout on "
                               "grouped cross-validation over areas the model did not train on "
                               "(bench/generalise_screen.py); the Indian Pines benchmarks (demo, headline) use 11")
    conv3d_channels: List[int] = opt(factory=lambda: [8, 16], cli=False, processing=False, dialog=False,
                                     lo=1, hi=4096, min_len=1, max_len=16,
                                     help="channels of the 3-D convolutions, one number per layer")
    conv3d_spectral_kernels: List[int] = opt(factory=lambda: [7, 5], cli=False, processing=False, dialog=False,
                                             lo=1, hi=4096, min_len=1, max_len=16,
                                             help="spectral kernel of each 3-D convolution, one per "
                                                  "conv3d_channels layer")
    first_spatial_kernel: int = opt(
        1, flag="--first-kernel", param="FIRST_KERNEL", choices=(1, 3), advanced=True,
        help="spatial kernel of the first layer: 1 (per-pixel spectral filters, default) or 3 (3x3). The first "
             "layer reads analog input, so in the SNN it is the only one that multiplies; 1 cuts its MACs about 6x")
    conv2d_channels: List[int] = opt(factory=lambda: [32], cli=False, processing=False, dialog=False,
                                     lo=1, hi=4096, max_len=16, help="channels of the 2-D convolutions")
    dense: List[int] = opt(factory=lambda: [128], cli=False, processing=False, dialog=False,
                           lo=1, hi=4096, max_len=16, help="widths of the dense layers before the output")
    dropout: float = opt(0.2, cli=False, processing=False, lo=0.0, hi=0.9, dialog=False, help="dropout of dense layers")
    input_bits: int = opt(0, param="INPUT_BITS", lo=0, hi=16, advanced=True,
                          help="0: the first layer reads the preprocessed features as real numbers; 2..16: as k-bit "
                               "integers (per-feature scale from the training pixels), so its multiplies are "
                               "k-bit x weight-bit (cheaper; core/nn/quant.quantize_input)")


@dataclass
class TrainConfig:
    cnn_epochs: int = opt(30, param="CNN_EPOCHS", lo=0, dialog=False, help="CNN epochs")
    snn_epochs: int = opt(10, stage="snn", param="SNN_EPOCHS", lo=0, dialog=False, help="SNN epochs")
    batch_size: int = opt(64, param="BATCH_SIZE", lo=1, advanced=True, dialog=False, help="batch size")
    epoch_pixels: int = opt(1000, param="EPOCH_PIXELS", lo=0, advanced=True, dialog=False,
                            help="the epochs are counted for a training set of this many pixels: a larger set trains "
                                 "proportionally fewer epochs of each stage (every epoch sees more patches), so "
                                 "training time stops growing with the labels (0 = always the full epochs). 1000 keeps "
                                 "training at defaults within 5 minutes on 2 cores (bench/disjoint.py)")
    cnn_lr: float = opt(1e-3, param="CNN_LR", lo=1e-7, hi=1.0, advanced=True, help="CNN learning rate (Adam)")
    snn_lr: float = opt(5e-4, stage="snn", param="SNN_LR", lo=1e-7, hi=1.0, advanced=True,
                        help="SNN learning rate (Adam)")
    weight_decay: float = opt(0.0, cli=False, processing=False, lo=0.0, dialog=False, help="Adam weight decay")
    label_smoothing: float = opt(0.0, cli=False, processing=False, lo=0.0, hi=0.5, dialog=False,
                                 help="cross-entropy label smoothing (both stages): a regulariser screened for "
                                      "unseen regions (bench/grouped_screen.py)")
    mixup: float = opt(0.0, param="MIXUP", lo=0.0, hi=10.0, advanced=True, dialog=False,
                       help="mixup alpha (both stages): each batch is blended with a shuffled copy of itself, "
                            "weight ~ Beta(alpha, alpha), and so are the targets; 0 = off. 0.4 raised validation "
                            "OA on whole held-out regions, not on the random split (docs/results.md)")
    weight_averaging: float = opt(1.0, param="WEIGHT_AVERAGING", lo=0.0, hi=100.0, advanced=True, dialog=False,
                                  help="keep an exponential moving average of the weights with this time constant in "
                                       "epochs and use it as the trained network (both stages); 0 = off, the last or "
                                       "best epoch's weights. 1 was chosen on grouped cross-validation "
                                       "(bench/generalise_screen.py)")
    context_dropout: float = opt(0.5, param="CONTEXT_DROPOUT", lo=0.0, hi=1.0, advanced=True, dialog=False,
                                 help="share of training patches shown as their centre pixel's spectrum alone (the "
                                      "neighbourhood replaced by it), so the class must be learnt from its spectrum "
                                      "and not from the training fields' surroundings; 0 = off. 0.5 was chosen on "
                                      "grouped cross-validation (bench/generalise_screen.py)")
    illumination: float = opt(0.0, param="ILLUMINATION", lo=0.0, hi=0.9, advanced=True, dialog=False,
                              help="spectral augmentation: each training patch's reflectance is scaled by a factor "
                                   "drawn from 1 +/- this (illumination, slope and brightness differences between "
                                   "areas); 0 = off")
    spectral_noise: float = opt(0.0, param="SPECTRAL_NOISE", lo=0.0, hi=2.0, advanced=True, dialog=False,
                                help="spectral augmentation: Gaussian noise added to every feature of every training "
                                     "pixel, this share of the feature's standard deviation; 0 = off")
    distillation: float = opt(0.0, stage="snn", param="DISTILLATION", lo=0.0, hi=1.0, advanced=True, dialog=False,
                              help="weight of the CNN's softened outputs in the SNN stage's loss (knowledge "
                                   "distillation from the network the SNN was converted from; the rest is the labels' "
                                   "cross-entropy); 0 = off")
    time_steps: int = opt(5, stage="snn", param="TIME_STEPS", lo=1, hi=64, dialog=False,
                          help="SNN time steps T (more steps: finer rate code, more energy)")
    weight_bits: int = opt(6, flag="--bits", param="WEIGHT_BITS", lo=0, hi=16, dialog=False,
                           help="weight bits 2..16, or 0 for full precision")
    cnn_qat: bool = opt(True, cli=False, processing=False, dialog=False,
                        help="quantization-aware training of the CNN at weight_bits (the SNN starts from it)")
    class_weighting: str = opt("sqrt_inverse", param="CLASS_WEIGHTING", choices=("none", "sqrt_inverse", "inverse"),
                               advanced=True,
                               help="cross-entropy weights from training class frequencies (mean 1): lifts rare "
                                    "classes, i.e. the average accuracy")
    spike_penalty: float = opt(0.0, stage="snn", param="SPIKE_PENALTY", lo=0.0, hi=1e6, advanced=True,
                               help="weight of a spike-rate term in the SNN loss (the share of the later layers' work "
                                    "that spikes trigger): trades accuracy for energy; 0 = off")
    threshold_percentile: float = opt(99.7, stage="snn", lo=50.0, hi=100.0, cli=False, processing=False, dialog=False,
                                      help="largest activation percentile tried for each conversion threshold")
    leak_init: float = opt(1.0, stage="snn", lo=0.0, hi=1.0, cli=False, processing=False, dialog=False,
                           help="initial membrane leak")
    leak_mode: str = opt("trained", stage="snn", param="LEAK_MODE", choices=("trained", "pow2", "none"), advanced=True,
                         help="membrane leak: trained (any value in [0, 1]: a multiply per neuron and step), pow2 "
                              "(trained, applied as 1 - 2^-n: a shift and an add) or none (integrate-and-fire)")
    membrane_bits: int = opt(0, stage="snn", param="MEMBRANE_BITS", lo=0, hi=16, advanced=True,
                             help="0: real-valued membranes (costed at the energy model's accumulator width); 4..16: "
                                  "k-bit membranes with saturation, which training sees (core/nn/lif.py), so every "
                                  "accumulate, compare and reset of the SNN is costed k bits wide")
    surrogate_slope: float = opt(5.0, stage="snn", lo=0.01, cli=False, processing=False, dialog=False,
                                 help="slope of the fast-sigmoid surrogate gradient")
    patience: int = opt(8, param="PATIENCE", lo=0, advanced=True,
                        help="early stopping: epochs without validation improvement before a stage stops (0 = never)")
    val_smoothing: int = opt(1, param="VAL_SMOOTHING", lo=1, hi=50, advanced=True,
                             help="epochs averaged in the validation accuracy that picks the kept epoch and drives "
                                  "early stopping (1 = raw accuracy; 3-5 steadies a small validation set)")
    seed: int = opt(0, param="SEED", lo=0, dialog=False, help="fixes split, initialisation and training order")
    threads: int = opt(0, lo=0, processing=False, dialog=False, help="CPU threads for torch (0 = torch's default)")


@dataclass
class ClassifyConfig:
    window: int = opt(128, param="WINDOW", lo=1, hi=4096, advanced=True, dialog=False,
                      help="window edge in pixels: memory is bounded by the window plus the patch halo, not the image")
    mode: str = opt("snn", param="MODE", choices=("snn", "cnn"), advanced=True, dialog=False,
                    help="classify with the SNN or with the CNN it was converted from")
    engine: str = opt("auto", param="ENGINE", choices=("auto", "torch", "onnx"), advanced=True, dialog=False,
                      help="run the network with torch, or the SNN as an ONNX graph in ONNX Runtime (no torch needed; "
                           "no energy map or CNN mode); auto: torch where it imports, else ONNX Runtime")
    scheduler: str = opt("", param="SCHEDULER", advanced=True, dialog=False,
                         help="compute the windows as tasks on a Dask cluster: local or local:N (N worker processes "
                              "here) or tcp://HOST:PORT (a running scheduler whose workers see the same files); "
                              "the maps are the same bytes; empty: in this process (needs dask[distributed])")
    cog: bool = opt(False, flag="--cog", param="COG", advanced=True, dialog=False,
                    help="write Cloud-Optimized GeoTIFFs (internal overviews, tiled, COG layout) instead of plain "
                         "tiled GeoTIFFs; the colour table, class names and nodata are kept")


DEFAULT_WINDOW = ClassifyConfig().window
"""The one default window edge (classification, streaming during training, evaluation)."""


@dataclass
class EnergyConfig:
    """Per-operation energies in picojoules and the bit widths they are applied at (core/energy/costs.py).

    `table` names a published set in ENERGY_TABLES (its energies then apply; the widths stay the caller's);
    any other name uses the values given here. Energies: 45 nm CMOS, Horowitz, ISSCC 2014 (FP32 mult 3.7,
    add 0.9; INT32 mult 3.1, add 0.1). `full_precision` says what an unquantized operation is costed as.
    """

    table: str = opt("horowitz45", flag="--energy-table", param="ENERGY_TABLE",
                     processing_choices=("horowitz45", "horowitz45_int"),
                     help="per-operation energies: 45 nm CMOS with FP32 (horowitz45) or INT32 (horowitz45_int) full "
                          "precision; another name uses the energies given in the settings file")
    full_precision: str = opt("FP32", cli=False, processing=False, dialog=False, help="what full precision is costed as")
    full_mult_pj: float = opt(3.7, above=0.0, cli=False, processing=False, dialog=False,
                               help="full-precision multiply, pJ")
    full_add_pj: float = opt(0.9, above=0.0, cli=False, processing=False, dialog=False,
                              help="full-precision add, pJ")
    int32_mult_pj: float = opt(3.1, above=0.0, cli=False, processing=False, dialog=False,
                                help="32-bit integer multiply, pJ")
    int32_add_pj: float = opt(0.1, above=0.0, cli=False, processing=False, dialog=False,
                               help="32-bit integer add, pJ")
    accumulator_bits: int = opt(16, param="ACCUMULATOR_BITS", lo=1, hi=64, advanced=True, dialog=False,
                                help="width of accumulators and membrane potentials: every add, compare and reset")
    activation_bits: int = opt(16, param="ACTIVATION_BITS", lo=1, hi=64, advanced=True, dialog=False,
                               help="width at which real-valued operands are costed: CNN activations and an "
                                    "unquantized input")


# Published per-operation energy sets, fixed before any measurement (see core/energy/costs.py).
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
POINT_BUFFER_UNITS = ("pixels", "map units")
"""How a point label's buffer is measured (core/data/labels.buffer_points); here so front ends need no numpy to list it."""

PRESETS = {
    "default": {},
    "efficient": {"model.input_bits": 8, "train.leak_mode": "pow2", "train.membrane_bits": 8,
                  "train.spike_penalty": 0.5, "train.distillation": 0.5},
}
PRESET_NOTES = {
    "default": "the engine's defaults",
    "efficient": "8-bit input, power-of-two leak, 8-bit membranes, spike penalty 0.5, distillation 0.5 (T=5): of the "
                 "candidates within 0.5 points of the default's validation OA on held-out blocks of the training "
                 "side, the one with the highest validation energy ratio that also stays within 1 point of the "
                 "default on the standard disjoint split (bench/front_choice.py, docs/results.md)",
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
class BaselineConfig:
    """A per-pixel classifier trained beside the SNN, on the same split and the same preprocessed spectra, so that
    the report can say whether the SNN beats what analysts already use (core/training/baselines.py; needs scikit-learn)."""

    kind: str = opt("none", flag="--baseline", param="BASELINE", choices=("none", "svm", "rf", "both"),
                    help="also train an RBF SVM (C and gamma chosen on the validation pixels), a random forest "
                         "(200 trees) or both on the same split and features, and compare (scikit-learn)")
    equivalent_ann: bool = opt(False, flag="--equivalent-ann", param="EQUIVALENT_ANN", advanced=True, dialog=False,
                               help="also train the equivalent low-bit ANN (the same network as a CNN with "
                                    "ceil(log2(T + 1))-bit activations and the SNN's weight bits, QAT from the CNN "
                                    "for the SNN stage's epochs) and report its test accuracy beside the SNN's; "
                                    "every energy table costs it either way (core/nn/equivalent_ann.py)")


@dataclass
class RunConfig:
    """Every setting of a run, by section; each section's `title` heads its group of flags in --help."""
    bands: BandSelection = field(default_factory=BandSelection, metadata={"title": "bands"})
    split: SplitConfig = field(default_factory=SplitConfig, metadata={"title": "split (train / validation / test)"})
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig, metadata={"title": "preprocessing"})
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"title": "model"})
    train: TrainConfig = field(default_factory=TrainConfig, metadata={"title": "training"})
    classify: ClassifyConfig = field(default_factory=ClassifyConfig, metadata={"title": "classification"})
    energy: EnergyConfig = field(default_factory=EnergyConfig, metadata={"title": "energy costing"})
    baseline: BaselineConfig = field(default_factory=BaselineConfig, metadata={"title": "baseline for comparison"})

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
        """Every setting within its declared range and choices (core/config/settings.py), plus the rules that
        involve more than one number."""
        for st in SETTINGS:  # whole-number floats of a JSON file become ints here, before any run reads them
            st.set(self, st.check(st.get(self)))
        t, m = self.train, self.model
        if t.weight_bits == 1:
            raise InputError(f"{BY_KEY['train.weight_bits'].label}: weight_bits must be 0 (full precision) or "
                             f"2..16, got {t.weight_bits}")
        if m.input_bits == 1:
            raise InputError(f"{BY_KEY['model.input_bits'].label}: input_bits must be 0 (real-valued input) or "
                             f"2..16, got {m.input_bits}")
        if 0 < t.membrane_bits < 4:
            raise InputError(f"{BY_KEY['train.membrane_bits'].label}: membrane_bits must be 0 (real-valued "
                             f"membranes) or 4..16, got {t.membrane_bits}")
        if m.patch_size % 2 == 0:
            raise InputError(f"{BY_KEY['model.patch_size'].label} must be odd and positive, got {m.patch_size}")
        if len(m.conv3d_spectral_kernels) != len(m.conv3d_channels):
            n = len(m.conv3d_channels)
            raise InputError(
                f"model.conv3d_spectral_kernels needs one spectral kernel per 3-D convolution: model.conv3d_channels "
                f"{m.conv3d_channels} has {n} layer(s), so give {n} kernel(s), e.g. "
                f"{(m.conv3d_spectral_kernels + [3] * n)[:n]}; got {len(m.conv3d_spectral_kernels)}: "
                f"{m.conv3d_spectral_kernels}")
        return self

    def couple_seeds(self, file_split_seed: Optional[int] = None, seed_given: bool = False) -> "RunConfig":
        """The one seed rule (CLI, Processing, dialog): the split follows train.seed, unless a settings file gave
        the split a seed of its own (not the default) and the run did not set the seed itself."""
        own = file_split_seed is not None and file_split_seed != SplitConfig().seed and not seed_given
        self.split.seed = file_split_seed if own else self.train.seed
        return self


REMOVED = {"train": {"device": "training runs on the CPU"},
           "classify": {"batch_size": "classification runs by windows", "probabilities": "give an output path instead"}}
"""Settings that existed once and were never read: accepted in old settings files, with a warning."""


def _from_dict(cls, d, where):
    if not isinstance(d, dict):
        raise InputError(f"{where}: expected an object, got {type(d).__name__}")
    known = {f.name: f for f in fields(cls)}
    section = where.split(".")[-1]
    for gone in set(d) & set(REMOVED.get(section, {})):
        warnings.warn(f"{where}: setting {gone!r} is no longer used ({REMOVED[section][gone]}); ignored", stacklevel=3)
        d = {k: v for k, v in d.items() if k != gone}
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


SETTINGS: List[Setting] = build_settings(RunConfig)
"""The registry: every setting of RunConfig with its metadata (core/config/registry.py); front ends read it (core/config/settings.py
for the command line, plugin/algorithms/parameters.py, ui/settings_form.py) instead of listing settings."""
BY_KEY = {s.key: s for s in SETTINGS}
