"""The command line's I/O backend: rasterio and fiona. Never imported by the QGIS plugin: rasterio brings its own
GDAL, and two GDALs in one process crash (tests/test_layers.py keeps these modules out of plugin/ and ui/).

The library calls are in rasterio_reader.py (rasters, class metadata, CRS equality), rasterio_writer.py (GeoTIFF
and COG maps) and rasterio_vectors.py (polygons, rasterizing, points); the rules both backends share are in
core/io/backend_common.py.
"""
from __future__ import annotations

from .rasterio_reader import open_raster, read_class_metadata, same_crs
from .rasterio_vectors import rasterize, read_polygons, write_points
from .rasterio_writer import RasterioWriter


class RasterioBackend:
    name = "rasterio"

    def open_raster(self, path):
        return open_raster(path)

    def open_writer(self, spec):
        return RasterioWriter(spec)

    def open_cog_writer(self, spec):
        """A Cloud-Optimized GeoTIFF writer (classify --cog): converted with GDAL's COG driver before the rename."""
        return RasterioWriter(spec, cog=True)

    def read_polygons(self, path, class_field, target_crs_wkt, layer=None):
        return read_polygons(path, class_field, target_crs_wkt, layer=layer)

    def rasterize(self, shapes, info):
        return rasterize(shapes, info)

    def read_class_metadata(self, path):
        return read_class_metadata(path)

    def same_crs(self, wkt_a, wkt_b):
        return same_crs(wkt_a, wkt_b)

    def write_points(self, path, crs_wkt, xs, ys, fields, layer):
        return write_points(path, crs_wkt, xs, ys, fields, layer)
