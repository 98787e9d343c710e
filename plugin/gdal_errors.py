"""GDAL's error messages collected instead of printed, the same way whether GDAL's exception mode is on or off.

Every GDAL/OGR call of the plugin's backend (io_gdal.py, gdal_writer.py, ogr_vectors.py) goes through this, so a
failure becomes the engine's error with GDAL's own words: QGIS 3.40+ turns the exception mode on as soon as its
Processing GDAL provider loads, where GDAL 3.6 under QGIS 3.22 returns None and reports through the handler.
"""
from __future__ import annotations

from typing import List

from osgeo import gdal


class GdalErrors:
    """Collect GDAL error messages instead of printing them (the exception mode is left alone:
    it is global to the process and other plugins rely on its setting)."""

    def __init__(self):
        self.messages: List[str] = []

    def handler(self, cls, num, msg):
        if cls >= gdal.CE_Failure:
            self.messages.append(str(msg).strip())

    def __enter__(self):
        gdal.PushErrorHandler(self.handler)
        return self

    def __exit__(self, *exc):
        gdal.PopErrorHandler()

    def call(self, fn, *args, **kwargs):
        """fn(...), or None with GDAL's message kept when GDAL raises: QGIS 3.40+ turns GDAL's exception mode on
        as soon as its Processing GDAL provider loads, where GDAL 3.6 under QGIS 3.22 returns None."""
        try:
            return fn(*args, **kwargs)
        except RuntimeError as e:
            self.messages.append(str(e).strip())
            return None

    def text(self, default: str = "unknown GDAL error") -> str:
        return "; ".join(m for m in self.messages if m) or default
