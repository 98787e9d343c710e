"""The plugin's I/O backend for the workflows (`GdalBackend`): GDAL/OGR and QGIS only. The command line reads
through its own library, which bundles a second GDAL; loaded inside QGIS that would crash it.

This module reads rasters (`GdalReader`, `open_raster`, `raster_info`, QGIS layers' GDAL paths), class metadata of
class maps and compares CRSs; maps are written by gdal_writer.py, vectors read, rasterized and written by
ogr_vectors.py, and GDAL's errors collected by gdal_errors.py. What does not depend on the library (ENVI headers,
wavelengths in nanometres, bad bands, scale/offset, band and class names, the class-field lookup) is written once
in core/io/backend_common.py, so both backends read a raster the same way (tests/test_backends.py).
"""
from __future__ import annotations

import os
from typing import Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal

from ..core.errors import RasterError
from ..core.io.backend_common import band_last, check_one_data_type, class_names_item, describe_raster, envi_source
from ..core.io.raster import RasterInfo, Window, checked_read
from ..workflows.backend import FunctionBackend
from .gdal_errors import GdalErrors
from .gdal_writer import GdalWriter
from .ogr_vectors import rasterize_gdal, read_polygons_ogr, write_points_ogr

_GDAL_TO_NP = {
    gdal.GDT_Byte: "uint8", gdal.GDT_UInt16: "uint16", gdal.GDT_Int16: "int16", gdal.GDT_UInt32: "uint32",
    gdal.GDT_Int32: "int32", gdal.GDT_Float32: "float32", gdal.GDT_Float64: "float64",
    gdal.GDT_CInt16: "complex64", gdal.GDT_CInt32: "complex64", gdal.GDT_CFloat32: "complex64",
    gdal.GDT_CFloat64: "complex128",
}
for _name in ("GDT_Int8", "GDT_Int64", "GDT_UInt64"):  # GDAL >= 3.5 / 3.7
    if hasattr(gdal, _name):
        _GDAL_TO_NP[getattr(gdal, _name)] = _name[4:].lower()


# --------------------------------------------------------------------------------------------------
# reader


class GdalReader:
    """A raster read through osgeo.gdal; implements `core.raster.RasterReader`."""

    def __init__(self, path: str):
        path = os.fspath(path)
        self.path = path
        hdr = None
        self.header_path = None
        data_path = path
        if os.path.exists(path):
            data_path, self.header_path, hdr = envi_source(path)
        elif not _looks_like_gdal_uri(path):
            raise RasterError(f"Raster not found: {path}")
        if os.path.isdir(data_path):
            raise RasterError(f"Raster path is a folder, not a file: {path}")
        self.data_path = data_path
        with GdalErrors() as err:
            ds = err.call(gdal.OpenEx, data_path, gdal.OF_RASTER | gdal.OF_READONLY)
        if ds is None:
            raise RasterError(f"Cannot read raster {path}: {err.text('GDAL cannot open it as a raster')}")
        if ds.RasterCount < 1:
            raise RasterError(f"Raster {path} has no bands")
        self._ds = ds
        self.info = self._make_info(hdr)

    def _make_info(self, hdr) -> RasterInfo:
        ds = self._ds
        n = ds.RasterCount
        bands = [ds.GetRasterBand(i + 1) for i in range(n)]
        types = {b.DataType for b in bands}
        check_one_data_type(self.path, (gdal.GetDataTypeName(t) for t in types))
        gtype = types.pop()
        if gtype not in _GDAL_TO_NP:
            raise RasterError(f"Raster {self.path} has an unsupported data type {gdal.GetDataTypeName(gtype)}")
        return describe_raster(
            path=self.path, header_path=self.header_path, hdr=hdr, width=ds.RasterXSize, height=ds.RasterYSize,
            dtype=_GDAL_TO_NP[gtype],
            transform=ds.GetGeoTransform(can_return_null=True) or (0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
            crs_wkt=ds.GetProjection() or "",
            scales=[float(b.GetScale()) if b.GetScale() is not None else 1.0 for b in bands],
            offsets=[float(b.GetOffset()) if b.GetOffset() is not None else 0.0 for b in bands],
            nodata=bands[0].GetNoDataValue(), descriptions=[b.GetDescription() for b in bands],
            band_metadata=lambda b, dom: _metadata(bands[b - 1], dom),
            dataset_metadata=lambda dom: _metadata(ds, dom))

    def read(self, window: Optional[Window] = None, bands: Optional[Sequence[int]] = None) -> np.ndarray:
        """(rows, cols, bands) pixels; float32 with scale/offset applied when declared (nodata kept)."""
        info = self.info
        (r, c, h, w), idx = checked_read(info, self.path, window, bands)
        window = (r, c, h, w)
        with GdalErrors() as err:
            a = err.call(self._ds.ReadAsArray, xoff=c, yoff=r, xsize=w, ysize=h, band_list=[b + 1 for b in idx])
        if a is None:
            raise RasterError(f"Cannot read pixels of raster {self.path} at window {window}: {err.text()}")
        return band_last(a[None] if a.ndim == 2 else a, info, idx)

    def close(self) -> None:
        self._ds = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _metadata(obj, domain: Optional[str]) -> Optional[dict]:
    """A dataset's or band's metadata in `domain` (None: the default domain)."""
    return obj.GetMetadata_Dict(domain) if domain else obj.GetMetadata_Dict()


def _looks_like_gdal_uri(path: str) -> bool:
    """GDAL connection strings QGIS may hand over (subdatasets, /vsi paths)."""
    return path.startswith("/vsi") or (":" in path and not os.path.splitdrive(path)[0] and
                                       path.split(":", 1)[0].isupper())


def open_raster(path) -> GdalReader:
    """Open a raster (GeoTIFF, ENVI data file or .hdr, any GDAL format) for the engine."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path) and not os.access(path, os.R_OK):
        raise RasterError(f"Raster is not readable (permission denied): {path}")
    return GdalReader(path)


def raster_info(path) -> RasterInfo:
    """Only the description of a raster (opens and closes it)."""
    r = open_raster(path)
    try:
        return r.info
    finally:
        r.close()


def layer_raster_path(layer) -> str:
    """The GDAL path of a QGIS raster layer, or a clear error for layers GDAL cannot read as a file."""
    if layer is None:
        raise RasterError("No raster layer selected")
    if layer.providerType() != "gdal":
        raise RasterError(f"Layer {layer.name()!r} comes from the {layer.providerType()!r} provider; HyperSNN "
                          f"reads rasters through GDAL: save it as a GeoTIFF first (Export > Save As)")
    src = layer.source()
    if "|" in src:
        src = src.split("|", 1)[0]
    return src


# --------------------------------------------------------------------------------------------------
# class metadata and CRSs


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    """GDAL's IsSame: an ENVI `map info` UTM zone and the EPSG code of the same zone are one CRS (axis order
    ignored: rasters are x, y)."""
    from osgeo import osr

    srs = []
    for wkt in (wkt_a, wkt_b):
        s = osr.SpatialReference()
        if s.ImportFromWkt(wkt) != 0:
            return False
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        srs.append(s)
    return bool(srs[0].IsSame(srs[1], ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"]))


def read_class_metadata(path) -> Tuple[dict, dict]:
    """({value: name}, {value: (r, g, b)}) of a class raster: GDAL category names or our `class_names`
    JSON item, and the colour table."""
    names: dict = {}
    colors: dict = {}
    if not os.path.exists(os.fspath(path)):  # as the command line's backend says it
        raise RasterError(f"Raster not found: {os.fspath(path)}")
    with GdalErrors() as err:
        ds = err.call(gdal.OpenEx, os.fspath(path), gdal.OF_RASTER | gdal.OF_READONLY)
    if ds is None:
        return names, colors
    band = ds.GetRasterBand(1)
    names.update(class_names_item(band.GetMetadataItem("class_names"), os.fspath(path)))
    cats = band.GetCategoryNames() or []
    for v, n in enumerate(cats):
        if n and v not in names:
            names[v] = str(n)
    ct = band.GetRasterColorTable()
    if ct is not None:
        for v in range(ct.GetCount()):
            e = ct.GetColorEntry(v)
            if e and (len(e) < 4 or e[3] > 0):
                colors[v] = tuple(int(x) for x in e[:3])
    ds = None
    return names, colors


class GdalBackend(FunctionBackend):
    """The plugin's I/O backend for the workflows (workflows/backend.IOBackend): GDAL/OGR and QGIS only."""

    def __init__(self):
        super().__init__("gdal", open_raster=open_raster, writer=GdalWriter, read_polygons=read_polygons_ogr,
                         rasterize=rasterize_gdal, read_class_metadata=read_class_metadata, same_crs=same_crs,
                         write_points=write_points_ogr)
