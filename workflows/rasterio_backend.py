"""The command line's I/O backend: rasterio and fiona. Never imported by the QGIS plugin: rasterio brings its own
GDAL, and two GDALs in one process crash (tests/test_layers.py keeps these modules out of plugin/ and ui/).

The library calls are in rasterio_reader.py (rasters, class metadata, CRS equality), rasterio_writer.py (GeoTIFF
and COG maps) and rasterio_vectors.py (polygons, rasterizing, points); the rules both backends share are in
core/io/backend_common.py.
"""
from __future__ import annotations

from .backend import FunctionBackend
from .rasterio_reader import open_raster, read_class_metadata, same_crs
from .rasterio_vectors import rasterize, read_polygons, write_points
from .rasterio_writer import RasterioWriter


class RasterioBackend(FunctionBackend):
    """The command line's I/O backend for the workflows (workflows/backend.IOBackend): rasterio and fiona."""

    def __init__(self):
        super().__init__("rasterio", open_raster=open_raster, writer=RasterioWriter, read_polygons=read_polygons,
                         rasterize=rasterize, read_class_metadata=read_class_metadata, same_crs=same_crs,
                         write_points=write_points)
