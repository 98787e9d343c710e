"""The command line's I/O backend: rasterio and fiona (core/io/rasterio_io.py). Never imported by the QGIS plugin:
rasterio brings its own GDAL, and two GDALs in one process crash."""
from __future__ import annotations

from ..core.io import rasterio_io as io


class RasterioBackend:
    name = "rasterio"

    def open_raster(self, path):
        return io.open_raster(path)

    def open_writer(self, spec):
        return io.RasterioWriter(spec)

    def open_cog_writer(self, spec):
        """A Cloud-Optimized GeoTIFF writer (classify --cog): converted with GDAL's COG driver before the rename."""
        return io.RasterioWriter(spec, cog=True)

    def read_polygons(self, path, class_field, target_crs_wkt, layer=None):
        return io.read_polygons(path, class_field, target_crs_wkt, layer=layer)

    def rasterize(self, shapes, info):
        return io.rasterize(shapes, info)

    def read_class_metadata(self, path):
        return io.read_class_metadata(path)

    def same_crs(self, wkt_a, wkt_b):
        return io.same_crs(wkt_a, wkt_b)

    def write_points(self, path, crs_wkt, xs, ys, fields, layer):
        return io.write_points(path, crs_wkt, xs, ys, fields, layer)
