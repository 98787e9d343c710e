"""What a run needs from an I/O library, and where its labels come from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Protocol, Tuple

import numpy as np

from ..core.io.raster import OutputSpec, RasterInfo, RasterReader, RasterWriter


class IOBackend(Protocol):
    """Raster and vector I/O. Implementations: workflows/rasterio_backend.py (CLI) and plugin/io_gdal.py
    (QGIS: GDAL/OGR, never rasterio, whose own GDAL would crash the QGIS process)."""

    name: str

    def open_raster(self, path) -> RasterReader:
        """A reader for a raster file (GeoTIFF, ENVI, ...); RasterError naming the file when it cannot be read."""

    def open_writer(self, spec: OutputSpec) -> RasterWriter:
        """A GeoTIFF writer that fills a temporary file and renames it into place on close."""

    def open_cog_writer(self, spec: OutputSpec) -> RasterWriter:
        """The same as a Cloud-Optimized GeoTIFF (tiled, with overviews; GDAL's COG driver before the rename)."""

    def read_polygons(self, path: str, class_field: str, target_crs_wkt: str, layer: Optional[str] = None) -> list:
        """core.labels.PolygonFeature list from a vector file, reprojected to `target_crs_wkt`."""

    def rasterize(self, shapes: list, info: RasterInfo) -> np.ndarray:
        """Burn (geometry, value) pairs onto the grid of `info` (pixel centres)."""

    def read_class_metadata(self, path) -> Tuple[dict, dict]:
        """(names, colours) by class value stored in a class raster."""

    def same_crs(self, wkt_a: str, wkt_b: str) -> bool:
        """Whether two CRS WKTs describe the same CRS though written differently (core/io/grids.crs_equal)."""

    def write_points(self, path: str, crs_wkt: str, xs, ys, fields: List[PointField], layer: str) -> None:
        """A GeoPackage of points (one layer), written to a temporary file and renamed into place."""


class FunctionBackend:
    """An IOBackend made of one library's functions. Both backends are the same eight calls on different libraries,
    so the adapter is written once here and each backend only names its functions (workflows/rasterio_backend.py,
    plugin/io_gdal.py); a call added to IOBackend is then added to both or to neither."""

    def __init__(self, name: str, *, open_raster: Callable, writer: Callable, read_polygons: Callable,
                 rasterize: Callable, read_class_metadata: Callable, same_crs: Callable, write_points: Callable):
        self.name = name
        self.open_raster = open_raster
        self._writer = writer
        self.read_polygons = read_polygons
        self.rasterize = rasterize
        self.read_class_metadata = read_class_metadata
        self.same_crs = same_crs
        self.write_points = write_points

    def open_writer(self, spec: OutputSpec) -> RasterWriter:
        return self._writer(spec)

    def open_cog_writer(self, spec: OutputSpec) -> RasterWriter:
        """The writer's COG mode: converted with GDAL's COG driver before the rename (the COG setting)."""
        return self._writer(spec, cog=True)


@dataclass
class PointField:
    """One attribute column of a point layer: `kind` "int", "float" or "str"; None values are written as NULL."""

    name: str
    kind: str
    values: list


@dataclass
class LabelSource:
    """Training or reference labels: a label raster, a vector file with a class field, or features already
    read (the plugin reads QGIS layers on the main thread, in the raster's CRS)."""

    path: Optional[str] = None
    class_field: Optional[str] = None
    layer: Optional[str] = None
    features: Optional[List] = None
    class_table: Optional[str] = None
    """JSON class table [{value, name, color}] for names and colours."""
    description: str = ""
    point_buffer: float = 0.0
    """Grow point labels into areas (core/data/labels.buffer_points): 0 labels only the pixel a point falls in."""
    point_buffer_unit: str = "pixels"
    """'pixels' ((2n + 1)^2 pixels around the point's pixel) or 'map units' (a radius in the raster's CRS)."""

    @property
    def kind(self) -> str:
        if self.features is not None:
            return "features"
        if self.class_field:
            return "vector"
        return "raster"

    @property
    def name(self) -> str:
        return self.description or self.path or ""

    def input_files(self) -> list:
        """(path, what) of the files this source reads, for the output checks."""
        return [(self.path, "labels"), (self.class_table, "class table")]
