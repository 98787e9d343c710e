"""GeoTIFF maps written through rasterio (the command line's backend, workflows/rasterio_backend.py): to a hidden
temporary file, moved into place when complete, optionally as a Cloud-Optimized GeoTIFF.

Never imported in QGIS (its GDAL writer is plugin/gdal_writer.py): rasterio brings its own GDAL.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .rasterio_reader import quiet_open  # first: sets GDAL_CACHEMAX before rasterio loads

from affine import Affine  # noqa: E402
from rasterio.crs import CRS  # noqa: E402
from rasterio.errors import NotGeoreferencedWarning, RasterioError  # noqa: E402
from rasterio.windows import Window as RioWindow  # noqa: E402

from ..core.errors import OutputError  # noqa: E402
from ..core.io.backend_common import class_names_json, colour_table, replace_by_cog  # noqa: E402
from ..core.io.files import atomic_write  # noqa: E402
from ..core.io.raster import OutputSpec, TemporaryOutput, Window, checked_block, checked_output  # noqa: E402


class RasterioWriter(TemporaryOutput):
    """Tiled, DEFLATE GeoTIFF on the grid of `spec.like`, written to a hidden temporary file in the
    output folder and moved into place on `close()`, so a failed or canceled run never leaves a
    half-written map (or destroys the previous one)."""

    def __init__(self, spec: OutputSpec, cog: bool = False):
        self.spec, self.cog = spec, cog
        """cog: on close, copy the finished file into a Cloud-Optimized GeoTIFF (see `_to_cog`) before the rename"""
        path, tmp = checked_output(spec)
        self.path, self.tmp_path = path, tmp
        like = spec.like
        dt = np.dtype(spec.dtype)
        profile = dict(
            driver="GTiff", width=like.width, height=like.height, count=spec.count, dtype=dt.name,
            transform=Affine.from_gdal(*like.transform),
            crs=CRS.from_wkt(like.crs_wkt) if like.crs_wkt else None,
            nodata=spec.nodata, tiled=True, blockxsize=256, blockysize=256, compress="deflate",
            predictor=3 if dt.kind == "f" else 2, BIGTIFF="IF_SAFER",
        )
        try:
            self._ds = quiet_open(tmp, "w", **profile)
        except (RasterioError, ValueError, TypeError) as e:
            self._cleanup()
            raise OutputError(f"Cannot create output {path}: {e}") from None
        except BaseException:  # Ctrl-C or SIGTERM while the file is being created: leave nothing behind
            self._cleanup()
            raise
        self._done = False
        self._describe_or_abort()

    def _describe(self):
        spec, ds = self.spec, self._ds
        if spec.band_names:
            for i, n in enumerate(spec.band_names[:spec.count], start=1):
                ds.set_band_description(i, str(n))
        palette = colour_table(spec, self.path)
        if palette:
            ds.write_colormap(1, {v: rgb + (255,) for v, rgb in palette.items()})
        if spec.category_names:
            ds.update_tags(1, class_names=class_names_json(spec.category_names))

    def write(self, window: Window, array: np.ndarray) -> None:
        """Write (rows, cols, bands) or (rows, cols) pixels at `window` (row_off, col_off, height, width)."""
        if self._done:
            raise OutputError(f"Output {self.path} is already closed")
        (r, c, h, w), a = checked_block(self.spec, self.path, window, array)
        try:
            self._ds.write(np.moveaxis(a.astype(self.spec.dtype, copy=False), -1, 0), window=RioWindow(c, r, w, h))
        except (OSError, RasterioError) as e:  # disk full, file system gone read-only, ...
            raise OutputError(f"Cannot write output {self.path} at window {window}: {e}") from None

    def close(self) -> None:
        """Finish the temporary file and atomically replace the destination with it."""
        if self._done:
            return
        self._done = True
        try:
            self._ds.close()
            if self.cog:
                self._to_cog()
            stale = self.path + ".aux.xml"  # would override the new file's metadata in GDAL/QGIS
            if os.path.exists(stale):
                os.remove(stale)
            os.replace(self.tmp_path, self.path)
            if self.spec.category_names:
                _write_category_names(self.path, self.spec.category_names)
        except (OSError, RasterioError) as e:
            self._cleanup()
            raise OutputError(f"Cannot write output {self.path}: {e}") from None
        finally:
            aux = self.tmp_path + ".aux.xml"
            if os.path.exists(aux):
                os.remove(aux)

    def _to_cog(self) -> None:
        """Replace the finished temporary GeoTIFF by a Cloud-Optimized copy (core/io/backend_common.replace_by_cog)."""
        from rasterio.shutil import copy as rio_copy

        def convert(src, dst, options):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                rio_copy(src, dst, driver="COG", **options)

        replace_by_cog(self.tmp_path, self.spec, convert)

    def abort(self) -> None:
        """Drop the temporary file; whatever the destination held before stays."""
        if getattr(self, "_done", True) and not os.path.exists(self.tmp_path):
            return
        self._done = True
        try:
            self._ds.close()
        except Exception:  # noqa: BLE001 - already failing; just clean up
            pass
        self._cleanup()


def _write_category_names(path: str, names: dict) -> None:
    """GDAL keeps GeoTIFF category names in a PAM sidecar (`.aux.xml`); rasterio cannot write them, so
    write the sidecar GDAL would (QGIS and gdalinfo then show class names), atomically."""
    from xml.sax.saxutils import escape

    top = max(int(v) for v in names)
    cats = [escape(str(names.get(v, names.get(str(v), "")))) for v in range(top + 1)]
    xml = ("<PAMDataset>\n  <PAMRasterBand band=\"1\">\n    <CategoryNames>\n"
           + "".join(f"      <Category>{c}</Category>\n" for c in cats)
           + "    </CategoryNames>\n  </PAMRasterBand>\n</PAMDataset>\n")
    atomic_write(f"{path}.aux.xml", xml, what="category-name sidecar")
