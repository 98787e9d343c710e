"""Per-band standardisation and an optional spectral reduction (PCA, or contiguous band bins), fitted on
training pixels only.

Both reductions are one linear map after standardisation (`components`), so the model file, the classifier and
the ONNX graph apply them alike. PCA keeps the directions of most training variance; bins average runs of
neighbouring bands (a spectral binning, as sensors' own coarser products do), need no fitting beyond the
standardisation, and keep a wavelength range per feature.

Fitting on training pixels only keeps test statistics out of the model. The fitted state is plain
lists in `to_dict()` so it can live in the model file's JSON header and be applied unchanged at
classification time. `transform` works on any leading shape in bounded chunks, so a whole image
window never needs a float64 copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import InputError, ModelFileError

PCA_AUTO = -1
PCA_AUTO_MIN_BANDS = 64
PCA_AUTO_COMPONENTS = 30
"""`pca_components = -1` (the default): 30 components when more than 64 bands are selected, else none. Why: every
3-D convolution runs over the spectral positions, so a 224-band EnMAP scene without PCA trains many times slower
and costs ~10x the energy of a 30-feature one. 30 is the Indian Pines demo's setting (HybridSN's choice for that
scene), kept from earlier releases, not tuned on test data here."""

REDUCTIONS = ("pca", "bins")
FORMAT = "hypersnn.preprocess"
VERSION = 1
_CHUNK_BYTES = 32 * 2 ** 20


def resolve_pca(setting: int, n_bands: int, n_train: Optional[int] = None) -> int:
    """The number of components a run keeps: `setting` (0 = no PCA), or for `PCA_AUTO` 30 when more than 64 bands
    are selected (none otherwise), and never more than the training pixels can support."""
    k = int(setting)
    if k != PCA_AUTO:
        return k
    if n_bands <= PCA_AUTO_MIN_BANDS:
        return 0
    return min(PCA_AUTO_COMPONENTS, n_bands, n_train if n_train else n_bands)


@dataclass
class Preprocessor:
    """out = ((x - mean) / scale) @ components, or just the standardised bands without PCA."""

    standardize: bool = True
    pca_components: int = 0
    """Features after the spectral reduction; 0 keeps all bands (no reduction)."""
    reduction: str = "pca"
    """'pca' (principal components of the standardised training pixels) or 'bins' (the standardised bands
    averaged in `pca_components` contiguous runs of near-equal size)."""
    n_bands: int = 0
    mean: Optional[np.ndarray] = None
    scale: Optional[np.ndarray] = None
    components: Optional[np.ndarray] = None
    """(n_bands, pca_components), columns are unit principal axes, or None without PCA."""
    explained_variance_ratio: Optional[np.ndarray] = None
    """Share of the total (standardised) training variance per kept component; None without PCA."""
    band_mean: Optional[np.ndarray] = None
    band_std: Optional[np.ndarray] = None
    """Per-band mean and standard deviation of the raw training pixels, whatever the preprocessing: what the
    model expects its input to look like (`input_mismatch`)."""

    @classmethod
    def from_config(cls, cfg, n_bands: int, n_train: Optional[int] = None) -> "Preprocessor":
        """From a `config.PreprocessConfig`, with 'auto' resolved for `n_bands` selected bands (`resolve_pca`)."""
        return cls(standardize=bool(cfg.standardize), pca_components=resolve_pca(cfg.pca_components, n_bands, n_train),
                   reduction=getattr(cfg, "spectral_reduction", "pca"))

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    @property
    def n_out(self) -> int:
        if not self.fitted:
            raise InputError("Preprocessor is not fitted: call fit(training_pixels) first")
        return int(self.pca_components) if self.pca_components else int(self.n_bands)

    def fit(self, pixels) -> "Preprocessor":
        """Learn mean/std (std 0 -> 1) and the PCA axes from (N, B) finite training pixels."""
        x = np.asarray(pixels)
        if x.ndim != 2:
            raise InputError(f"Preprocessor.fit expects training pixels shaped (N, bands), got {x.shape}")
        n, b = x.shape
        if n == 0 or b == 0:
            raise InputError(f"Preprocessor.fit got {n} training pixels with {b} bands; need at least 1 of each")
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise InputError(f"Preprocessor.fit expects real numbers, got dtype {x.dtype}")
        k = int(self.pca_components)
        if k < 0:
            raise InputError(f"pca_components must be >= 0, got {k}")
        if k > b or (k > n and self.reduction == "pca"):
            raise InputError(f"pca_components ({k}) exceeds the number of bands ({b}) or of training pixels "
                             f"({n}); choose at most {min(b, n)}")
        bad = 0
        for s in _chunks(n, b):
            bad += int((~np.isfinite(x[s])).any(axis=1).sum())
        if bad:
            raise InputError(f"Preprocessor.fit got {bad} training pixel(s) with NaN/inf values; mask nodata "
                             "and non-finite pixels before fitting")

        total = np.zeros(b)
        for s in _chunks(n, b):
            total += x[s].sum(axis=0, dtype=np.float64)
        mean = total / n
        sq = np.zeros(b)
        for s in _chunks(n, b):
            sq += ((x[s].astype(np.float64) - mean) ** 2).sum(axis=0)
        std = np.sqrt(sq / n)
        self.band_mean, self.band_std = total / n, std
        scale = np.where(std > 0, std, 1.0) if self.standardize else np.ones(b)
        if not (self.standardize or k):
            mean = np.zeros(b)  # identity: nothing to centre for
        self.n_bands, self.mean, self.scale = b, mean, scale
        self.components = self.explained_variance_ratio = None
        if self.reduction not in REDUCTIONS:
            raise InputError(f"spectral reduction {self.reduction!r} is not one of {', '.join(REDUCTIONS)}")
        if k and self.reduction == "bins":
            self.components = bin_matrix(b, k)
        elif k:
            cov = np.zeros((b, b))
            for s in _chunks(n, b):
                z = (x[s].astype(np.float64) - mean) / scale
                cov += z.T @ z
            cov /= max(n - 1, 1)
            evals, evecs = np.linalg.eigh(cov)
            order = np.argsort(evals)[::-1]
            evals = np.clip(evals[order], 0.0, None)
            evecs = evecs[:, order[:k]]
            # Deterministic sign: the largest-magnitude loading of each axis is positive.
            flip = np.sign(evecs[np.argmax(np.abs(evecs), axis=0), np.arange(k)])
            evecs = evecs * np.where(flip == 0, 1.0, flip)
            tot = evals.sum()
            self.components = evecs
            self.explained_variance_ratio = evals[:k] / tot if tot > 0 else np.zeros(k)
        return self

    def transform(self, array) -> np.ndarray:
        """(..., B) -> float32 (..., n_out). Non-finite pixels stay non-finite (callers mask them)."""
        if not self.fitted:
            raise InputError("Preprocessor is not fitted: call fit(training_pixels) first")
        a = np.asarray(array)
        if a.ndim < 1 or a.shape[-1] != self.n_bands:
            raise InputError(f"Preprocessor was fitted on {self.n_bands} bands but got an array with "
                             f"{a.shape[-1] if a.ndim else 0} (shape {a.shape})")
        lead = a.shape[:-1]
        flat = a.reshape(-1, self.n_bands)
        out = np.empty((flat.shape[0], self.n_out), np.float32)
        for s in _chunks(flat.shape[0], max(self.n_bands, self.n_out)):
            z = (flat[s].astype(np.float64) - self.mean) / self.scale
            out[s] = z @ self.components if self.components is not None else z
        return out.reshape(lead + (self.n_out,))

    def illumination_offset(self) -> np.ndarray:
        """c such that the features of a pixel whose raw values are scaled by a are a * f + (a - 1) * c.

        Why: spectral augmentation (core/data/patches.SpectralAugment) varies the illumination of training patches
        in the raw reflectance space, where it is a plain scaling, but the network sees preprocessed features;
        the preprocessing is one affine map ((x - mean) / scale) @ components, so the scaling stays affine in
        feature space and needs no raw pixels: f(a x) = a f(x) + (a - 1) (mean / scale) @ components."""
        if not self.fitted:
            raise InputError("Preprocessor is not fitted: call fit(training_pixels) first")
        z = np.asarray(self.mean, np.float64) / np.asarray(self.scale, np.float64)
        return (z @ self.components if self.components is not None else z).astype(np.float32)

    def input_mismatch(self, pixels: np.ndarray) -> float:
        """How far (N, B) raw pixels lie from the training pixels: the median over bands of the median
        |x - mean| / std. About 1 or less for data like the training data; a raster without its scale factor
        (values 10,000x) gives thousands. NaN when the model holds no statistics (older files)."""
        if self.band_mean is None or self.band_std is None or not len(pixels):
            return float("nan")
        std = np.where(self.band_std > 0, self.band_std, np.where(self.band_mean != 0, abs(self.band_mean), 1.0))
        z = np.abs(np.asarray(pixels, np.float64) - self.band_mean) / std
        return float(np.median(np.median(z, axis=0)))

    def to_dict(self) -> dict:
        """JSON-friendly state (plain lists)."""
        if not self.fitted:
            raise InputError("Preprocessor is not fitted: nothing to save")
        return {
            "format": FORMAT, "version": VERSION, "standardize": bool(self.standardize),
            "pca_components": int(self.pca_components), "n_bands": int(self.n_bands),
            **({"reduction": self.reduction} if self.reduction != "pca" else {}),
            "mean": [float(v) for v in self.mean], "scale": [float(v) for v in self.scale],
            "components": None if self.components is None else self.components.tolist(),
            "explained_variance_ratio": None if self.explained_variance_ratio is None
            else [float(v) for v in self.explained_variance_ratio],
            "band_mean": None if self.band_mean is None else [float(v) for v in self.band_mean],
            "band_std": None if self.band_std is None else [float(v) for v in self.band_std],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocessor":
        """Rebuild from `to_dict()`; a malformed record is a corrupt model file (ModelFileError)."""
        if not isinstance(d, dict):
            raise ModelFileError("the preprocessing record is missing" if d is None else
                                 f"the preprocessing record is {type(d).__name__}, not an object")
        if d.get("format") != FORMAT:
            raise ModelFileError(f"the preprocessing record's 'format' is {d.get('format')!r}, expected {FORMAT!r}")
        try:
            if int(d.get("version", 0)) > VERSION:
                raise ModelFileError(f"the preprocessing record's version {d.get('version')} is newer than this "
                                     f"HyperSNN supports ({VERSION}); update the plugin")
            b, k = int(d["n_bands"]), int(d["pca_components"])
            p = cls(standardize=bool(d["standardize"]), pca_components=k, n_bands=b,
                    mean=np.asarray(d["mean"], float), scale=np.asarray(d["scale"], float),
                    reduction=str(d.get("reduction", "pca")))
            if p.reduction not in REDUCTIONS:
                raise ModelFileError(f"the preprocessing record names an unknown spectral reduction {p.reduction!r}")
            if d.get("components") is not None:
                p.components = np.asarray(d["components"], float).reshape(b, k)
                if p.reduction == "pca":
                    p.explained_variance_ratio = np.asarray(d["explained_variance_ratio"], float).reshape(k)
            if d.get("band_mean") is not None and d.get("band_std") is not None:  # files from before: none
                p.band_mean = np.asarray(d["band_mean"], float).reshape(b)
                p.band_std = np.asarray(d["band_std"], float).reshape(b)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"the preprocessing record is incomplete or malformed: {e!r}") from None
        if p.mean.shape != (b,) or p.scale.shape != (b,) or (k > 0) != (p.components is not None):
            raise ModelFileError(f"the preprocessing record is inconsistent: n_bands {b}, pca_components {k}, "
                                 f"mean {p.mean.shape}, scale {p.scale.shape}, "
                                 f"components {None if p.components is None else p.components.shape}")
        if not (np.isfinite(p.mean).all() and np.isfinite(p.scale).all() and (p.scale > 0).all()):
            raise ModelFileError("the preprocessing record has non-finite mean or non-positive scale values")
        return p


def bin_matrix(n_bands: int, k: int) -> np.ndarray:
    """(n_bands, k) averaging weights: column j averages the j-th of k contiguous runs of bands, whose sizes
    differ by at most one (numpy.array_split). Bands are taken in the order selected (wavelength order in
    sensor files); dropped bad bands leave no gap in a run."""
    w = np.zeros((n_bands, k))
    for j, run in enumerate(np.array_split(np.arange(n_bands), k)):
        w[run, j] = 1.0 / len(run)
    return w


def _chunks(n: int, width: int):
    """Row slices of about _CHUNK_BYTES of float64 each."""
    step = max(1, _CHUNK_BYTES // (8 * max(width, 1)))
    for i in range(0, n, step):
        yield slice(i, min(n, i + step))
