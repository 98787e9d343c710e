"""GeoTIFF maps written through osgeo.gdal (QGIS's backend, io_gdal.GdalBackend): to a hidden temporary file,
moved into place when complete, optionally as a Cloud-Optimized GeoTIFF; class maps carry a colour table, GDAL
category names and the `class_names` item, as the command line's writer writes them.
"""
from __future__ import annotations

import os

import numpy as np
from osgeo import gdal

from ..core.errors import OutputError
from ..core.io.backend_common import class_names_json, colour_table, replace_by_cog
from ..core.io.raster import OutputSpec, TemporaryOutput, Window, checked_block, checked_output
from .gdal_errors import GdalErrors

_NP_TO_GDAL = {
    "uint8": gdal.GDT_Byte, "int8": gdal.GDT_Int16, "uint16": gdal.GDT_UInt16, "int16": gdal.GDT_Int16,
    "uint32": gdal.GDT_UInt32, "int32": gdal.GDT_Int32, "float32": gdal.GDT_Float32,
    "float64": gdal.GDT_Float64,
}


class GdalWriter(TemporaryOutput):
    """Tiled, DEFLATE GeoTIFF on the grid of `spec.like`, written to a hidden temporary file in the
    output folder and moved into place on `close()`; `abort()` deletes it, so a failed or canceled run
    never leaves a half-written map (nor destroys the previous one). Class maps get a colour table,
    GDAL category names and a `class_names` JSON metadata item (as the CLI's writer)."""

    def __init__(self, spec: OutputSpec, cog: bool = False):
        self.spec, self.cog = spec, cog
        """cog: on close, copy the finished file into a Cloud-Optimized GeoTIFF (see `_to_cog`) before the rename"""
        path, tmp = checked_output(spec)
        self.path, self.tmp_path = path, tmp
        self._ds = None
        self._done = False
        if os.path.splitext(path)[1].lower() not in (".tif", ".tiff"):
            raise OutputError(f"Output {path}: HyperSNN writes GeoTIFF; give the file a .tif extension")
        dt = np.dtype(spec.dtype)
        if dt.name not in _NP_TO_GDAL:
            raise OutputError(f"Output {path}: data type {dt.name} cannot be written to GeoTIFF")
        like = spec.like
        opts = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE",
                f"PREDICTOR={3 if dt.kind == 'f' else 2}", "BIGTIFF=IF_SAFER"]
        drv = gdal.GetDriverByName("GTiff")
        try:
            with GdalErrors() as err:
                ds = err.call(drv.Create, tmp, like.width, like.height, spec.count, _NP_TO_GDAL[dt.name], opts)
        except BaseException:  # interrupted while the file is being created: leave nothing behind
            self._cleanup()
            raise
        if ds is None:
            self._cleanup()
            raise OutputError(f"Cannot create output {path}: {err.text()}")
        self._ds = ds
        self._describe_or_abort()

    def _describe(self):
        spec, ds = self.spec, self._ds
        ds.SetGeoTransform(list(spec.like.transform))
        if spec.like.crs_wkt:
            ds.SetProjection(spec.like.crs_wkt)
        for i in range(1, spec.count + 1):
            band = ds.GetRasterBand(i)
            if spec.nodata is not None:
                band.SetNoDataValue(float(spec.nodata))
            if spec.band_names and i <= len(spec.band_names):
                band.SetDescription(str(spec.band_names[i - 1]))
        band = ds.GetRasterBand(1)
        palette = colour_table(spec, self.path)
        if palette:
            ct = gdal.ColorTable()
            for v in range(max(palette) + 1):
                ct.SetColorEntry(v, (0, 0, 0, 0))
            for v, rgb in palette.items():
                ct.SetColorEntry(v, rgb + (255,))
            band.SetRasterColorTable(ct)
            band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
        if spec.category_names:
            names = {int(v): str(n) for v, n in spec.category_names.items()}
            cats = [""] * (max(names) + 1)
            for v, n in names.items():
                if v >= 0:
                    cats[v] = n
            band.SetCategoryNames(cats)
            band.SetMetadataItem("class_names", class_names_json(spec.category_names))

    def write(self, window: Window, array: np.ndarray) -> None:
        if self._done:
            raise OutputError(f"Output {self.path} is already closed")
        (r, c, h, w), a = checked_block(self.spec, self.path, window, array)
        a = a.astype(self.spec.dtype, copy=False)
        with GdalErrors() as err:
            for i in range(self.spec.count):
                if err.call(self._ds.GetRasterBand(i + 1).WriteArray, np.ascontiguousarray(a[:, :, i]), c, r) != 0:
                    raise OutputError(f"Cannot write output {self.path}: {err.text()}")

    def close(self) -> None:
        """Finish the temporary file and atomically replace the destination with it."""
        if self._done:
            return
        self._done = True
        try:
            with GdalErrors() as err:
                err.call(self._ds.FlushCache)
                self._ds = None
            if err.messages:
                raise OutputError(f"Cannot write output {self.path}: {err.text()}")
            if self.cog:
                self._to_cog()
            aux_tmp, aux = self.tmp_path + ".aux.xml", self.path + ".aux.xml"
            if os.path.exists(aux_tmp):
                os.replace(aux_tmp, aux)  # category names live in the PAM sidecar
            elif os.path.exists(aux):
                os.remove(aux)  # a stale sidecar would override the new file's metadata
            os.replace(self.tmp_path, self.path)
        except OSError as e:
            self._cleanup()
            raise OutputError(f"Cannot write output {self.path}: {e.strerror or e} (if the file is open in "
                              f"QGIS or another program, close it or choose another name)") from None
        except Exception:
            self._cleanup()
            raise

    def _to_cog(self) -> None:
        """Replace the finished temporary GeoTIFF by a Cloud-Optimized copy, as the command line's writer does
        (core/io/backend_common.replace_by_cog); the category names live in the PAM sidecar, which follows the copy."""
        def convert(src, dst, options):
            with GdalErrors() as err:
                out = err.call(gdal.Translate, dst, src, format="COG",
                               creationOptions=[f"{k}={v}" for k, v in options.items()])
                ok = out is not None
                out = None  # close: flush the file and its sidecar
            if not ok:
                raise OutputError(f"Cannot write output {self.path} as a Cloud-Optimized GeoTIFF: {err.text()}")

        replace_by_cog(self.tmp_path, self.spec, convert)

    def abort(self) -> None:
        """Drop the temporary file; whatever the destination held before stays."""
        self._done = True
        self._ds = None
        self._cleanup()
