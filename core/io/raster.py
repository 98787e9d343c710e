"""Raster description and the small reader/writer interfaces the engine works through.

The engine never opens files itself: the CLI supplies rasterio-backed readers (`workflows/rasterio_reader.py`), QGIS
supplies GDAL-backed ones (`plugin/io_gdal.py`), tests may use `ArrayReader`. Windows are
(row_off, col_off, height, width) in pixels; arrays are (rows, cols, bands).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Protocol, Sequence, Tuple

import os

import numpy as np

from ..errors import OutputError, RasterError
from .files import check_output_folder, same_file

Window = Tuple[int, int, int, int]  # row_off, col_off, height, width


@dataclass
class RasterInfo:
    """Everything the engine needs to know about a raster, independent of the library that read it."""

    width: int
    height: int
    count: int
    dtype: str
    transform: Tuple[float, float, float, float, float, float] = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    """GDAL geotransform order: (x0, dx, rx, y0, ry, dy)."""
    crs_wkt: str = ""
    nodata: Optional[float] = None
    scales: Optional[list] = None
    offsets: Optional[list] = None
    band_names: list = field(default_factory=list)
    wavelengths: Optional[list] = None
    """Band centres in nanometres (converted on read), or None when unknown."""
    fwhm: Optional[list] = None
    bad_bands: Optional[list] = None
    """Per band: True where the band is flagged bad (ENVI `bbl` == 0)."""
    path: str = ""

    def __post_init__(self):
        if not self.band_names:
            self.band_names = [f"Band {i + 1}" for i in range(self.count)]

    @property
    def shape(self) -> Tuple[int, int]:
        return self.height, self.width

    def subset(self, bands: Sequence[int]) -> "RasterInfo":
        """Info for a band subset (0-based indices)."""
        pick = lambda seq: None if seq is None else [seq[i] for i in bands]  # noqa: E731
        return replace(
            self, count=len(bands), band_names=[self.band_names[i] for i in bands],
            wavelengths=pick(self.wavelengths), fwhm=pick(self.fwhm), bad_bands=pick(self.bad_bands),
            scales=pick(self.scales), offsets=pick(self.offsets),
        )

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["transform"] = list(self.transform)
        return d


class RasterReader(Protocol):
    info: RasterInfo

    def read(self, window: Optional[Window] = None, bands: Optional[Sequence[int]] = None) -> np.ndarray:
        """Pixels of `window` (all when None) and `bands` (0-based; all when None) as (rows, cols, bands),
        with scale/offset applied when the raster declares them."""

    def close(self) -> None: ...


class RasterWriter(Protocol):
    def write(self, window: Window, array: np.ndarray) -> None:
        """Write (rows, cols, bands) or (rows, cols) pixels at `window`."""

    def close(self) -> None:
        """Finish the file (atomically moved into place by the implementation)."""

    def abort(self) -> None:
        """Discard everything written; the destination keeps whatever it held before."""


@dataclass
class OutputSpec:
    """What a writer must create: the grid of `like` with these bands."""

    path: str
    """Where the finished file goes (the writer fills a temporary file beside it and renames it at the end)."""
    like: RasterInfo
    """The grid to copy: size, transform and CRS of the input raster."""
    count: int
    """Bands to write."""
    dtype: str
    """numpy name of the pixel type ("uint8", "float32", ...)."""
    nodata: Optional[float] = None
    """The value marking pixels without data (the class map's 0); None writes none."""
    band_names: Optional[list] = None
    """One description per band (the class map's "class", the probability bands' class names)."""
    colors: Optional[dict] = None
    """class value -> (r, g, b) for a paletted (class) raster."""
    category_names: Optional[dict] = None
    """class value -> name, embedded as the raster attribute/category table."""


class ArrayReader:
    """An in-memory raster: benchmark scenes, tests, and data already in memory."""

    def __init__(self, array: np.ndarray, info: Optional[RasterInfo] = None):
        if array.ndim == 2:
            array = array[:, :, None]
        self.array = array
        h, w, b = array.shape
        self.info = info or RasterInfo(width=w, height=h, count=b, dtype=str(array.dtype))

    def read(self, window=None, bands=None):
        a = self.array
        if window is not None:
            r, c, h, w = window
            a = a[r:r + h, c:c + w]
        if bands is not None:
            a = a[:, :, list(bands)]
        return np.asarray(a)

    def close(self):
        pass


class ArrayWriter:
    """Collects output in memory (tests, and callers that want arrays back)."""

    def __init__(self, spec: OutputSpec):
        self.spec = spec
        shape = (spec.like.height, spec.like.width, spec.count)
        fill = spec.nodata if spec.nodata is not None else 0
        self.array = np.full(shape, fill, dtype=spec.dtype)
        self.closed = False

    def write(self, window, array):
        r, c, h, w = window
        if array.ndim == 2:
            array = array[:, :, None]
        self.array[r:r + h, c:c + w] = array

    def close(self):
        self.closed = True

    def abort(self):
        self.array = None


def pad_mode(height: int, width: int, patch_size: int) -> str:
    """The one border rule (training patches, the patch bank and the windowed classifier): reflect, or repeat
    the edge when the image is too small to reflect half a patch."""
    return "reflect" if min(height, width) > patch_size // 2 else "edge"


def iter_windows(height: int, width: int, size: int):
    """Row-major square tiles of `size` covering the grid."""
    for r in range(0, height, size):
        for c in range(0, width, size):
            yield (r, c, min(size, height - r), min(size, width - c))


def checked_output(spec: OutputSpec) -> Tuple[str, str]:
    """(absolute output path, a fresh hidden temporary path beside it) for a GeoTIFF writer, or OutputError
    naming the path and what is wrong with it. Writers fill the temporary file and rename it over the
    output on close, so a failed or canceled run never leaves a half-written map or loses the old one."""
    import secrets

    from .spectral_meta import envi_pair

    path = os.path.abspath(os.fspath(spec.path))
    folder = os.path.dirname(path)
    check_output_folder(folder, f"for {path}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"Output folder is not writable: {folder} (for {path})")
    if os.path.isdir(path):
        raise OutputError(f"Output path is a folder: {path}")
    like_paths = [spec.like.path] if spec.like.path else []
    if spec.like.path and os.path.exists(spec.like.path):
        try:
            like_paths += list(envi_pair(spec.like.path) or ())
        except RasterError:
            pass
    if any(same_file(path, p) for p in like_paths):
        raise OutputError(f"Output {path} is the input raster; choose another output file")
    if spec.count < 1:
        raise OutputError(f"Output {path}: needs at least one band, got {spec.count}")
    name = os.path.basename(path)
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.tmp-{secrets.token_hex(4)}.tif")
        if not os.path.exists(tmp):
            return path, tmp
    raise OutputError(f"Output {path}: no free temporary file name in {folder}")


class TemporaryOutput:
    """Context-manager half of a writer that fills `tmp_path` and renames it over `path` on close():
    leaving the block normally closes, an exception aborts (the temporary file goes, the old output stays)."""

    tmp_path: str

    def close(self) -> None:  # pragma: no cover - every writer defines it
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - every writer defines it
        raise NotImplementedError

    def _describe(self) -> None:  # pragma: no cover - every writer defines it
        raise NotImplementedError

    def _describe_or_abort(self) -> None:
        """Write the new file's georeferencing, band names, colours and categories (the writer's `_describe`);
        anything raised there, Ctrl+C included, aborts: the temporary file goes, the old output stays."""
        try:
            self._describe()
        except BaseException:
            self.abort()
            raise

    def _cleanup(self):
        for p in (self.tmp_path, self.tmp_path + ".aux.xml"):
            try:
                os.remove(p)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def checked_block(spec: OutputSpec, path: str, window: Window, array: np.ndarray):
    """A writer's input as ((row, col, height, width), (h, w, bands) array), or OutputError saying why not."""
    r, c, h, w = (int(v) for v in window)
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.shape != (h, w, spec.count):
        raise OutputError(f"Output {path}: array of shape {a.shape} does not fit window {window} "
                          f"with {spec.count} band(s)")
    if r < 0 or c < 0 or r + h > spec.like.height or c + w > spec.like.width:
        raise OutputError(f"Output {path}: window {window} lies outside the "
                          f"{spec.like.height}x{spec.like.width} grid")
    return (r, c, h, w), a


def checked_read(info: RasterInfo, path: str, window: Optional[Window], bands: Optional[Sequence[int]]):
    """A reader's request as ((row, col, height, width), 0-based band list), or RasterError saying why not."""
    if window is None:
        window = (0, 0, info.height, info.width)
    r, c, h, w = (int(v) for v in window)
    if r < 0 or c < 0 or h < 1 or w < 1 or r + h > info.height or c + w > info.width:
        raise RasterError(f"Window {window} lies outside raster {path} ({info.height} rows x {info.width} cols)")
    idx = list(range(info.count)) if bands is None else [int(b) for b in bands]
    for b in idx:
        if not 0 <= b < info.count:
            raise RasterError(f"Band {b + 1} does not exist in raster {path} (it has {info.count} bands)")
    return (r, c, h, w), idx
