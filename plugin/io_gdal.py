"""GDAL/OGR and QGIS implementations of the engine's reader/writer interfaces (the QGIS side).

The command line reads through its own library, which bundles a second GDAL; loaded inside QGIS that
would crash it, so everything here goes through `osgeo.gdal`/`osgeo.ogr` (the GDAL QGIS itself uses)
and the QGIS API. Behaviour mirrors the command-line reader: wavelength metadata from ENVI headers
or GDAL band metadata converted to nanometres, bad-band lists, scale/offset, and outputs written to a
hidden temporary file that replaces the destination only when complete.
"""
from __future__ import annotations

import json
import math
import os
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal, ogr

from ..core.errors import LabelError, OutputError, RasterError
from ..core.data.labels import PolygonFeature, checked_polygons, no_crs_warning
from ..core.io.raster import (OutputSpec, RasterInfo, TemporaryOutput, Window, checked_block, checked_output,
                           checked_read)
from ..core.io.spectral_meta import envi_pair, read_envi_header, resolve_scaling, resolve_spectral_metadata, validate_envi


_NP_TO_GDAL = {
    "uint8": gdal.GDT_Byte, "int8": gdal.GDT_Int16, "uint16": gdal.GDT_UInt16, "int16": gdal.GDT_Int16,
    "uint32": gdal.GDT_UInt32, "int32": gdal.GDT_Int32, "float32": gdal.GDT_Float32,
    "float64": gdal.GDT_Float64,
}
_GDAL_TO_NP = {
    gdal.GDT_Byte: "uint8", gdal.GDT_UInt16: "uint16", gdal.GDT_Int16: "int16", gdal.GDT_UInt32: "uint32",
    gdal.GDT_Int32: "int32", gdal.GDT_Float32: "float32", gdal.GDT_Float64: "float64",
    gdal.GDT_CInt16: "complex64", gdal.GDT_CInt32: "complex64", gdal.GDT_CFloat32: "complex64",
    gdal.GDT_CFloat64: "complex128",
}
for _name in ("GDT_Int8", "GDT_Int64", "GDT_UInt64"):  # GDAL >= 3.5 / 3.7
    if hasattr(gdal, _name):
        _GDAL_TO_NP[getattr(gdal, _name)] = _name[4:].lower()


class _GdalErrors:
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


# --------------------------------------------------------------------------------------------------
# spectral metadata (core/io/spectral_meta.py holds the rules, shared with the command-line reader)


def _md(obj, domain: Optional[str]) -> dict:
    try:
        d = obj.GetMetadata_Dict(domain) if domain else obj.GetMetadata_Dict()
    except Exception:  # noqa: BLE001 - a domain the driver lacks
        d = {}
    return {str(k).lower(): v for k, v in (d or {}).items()}


def spectral_metadata(ds, hdr: Optional[dict], where: str):
    """Gather the band/dataset metadata GDAL sees and resolve it with the engine's rules."""
    per_band = []
    for b in range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(b)
        tags: dict = {}
        for dom in ("IMAGERY", "ENVI", None):
            tags.update(_md(band, dom))
        per_band.append(tags)
    ds_tags: dict = {}
    for dom in ("ENVI", None):
        ds_tags.update(_md(ds, dom))
    return resolve_spectral_metadata(ds.RasterCount, hdr, per_band, ds_tags, where)


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
            pair = envi_pair(path)
            if pair is not None:
                data_path, self.header_path = pair
                hdr = read_envi_header(self.header_path)
                validate_envi(hdr, self.header_path, data_path)
        elif not _looks_like_gdal_uri(path):
            raise RasterError(f"Raster not found: {path}")
        if os.path.isdir(data_path):
            raise RasterError(f"Raster path is a folder, not a file: {path}")
        self.data_path = data_path
        with _GdalErrors() as err:
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
        if len(types) != 1:
            raise RasterError(f"Raster {self.path} mixes band data types "
                              f"{sorted(gdal.GetDataTypeName(t) for t in types)}; convert it to one type")
        gtype = types.pop()
        if gtype not in _GDAL_TO_NP:
            raise RasterError(f"Raster {self.path} has an unsupported data type {gdal.GetDataTypeName(gtype)}")
        scales, offsets, nodata = resolve_scaling(
            [float(b.GetScale()) if b.GetScale() is not None else 1.0 for b in bands],
            [float(b.GetOffset()) if b.GetOffset() is not None else 0.0 for b in bands],
            bands[0].GetNoDataValue(), hdr, self.header_path or self.path)
        scaled = scales is not None
        wl, fw, bad, names = spectral_metadata(ds, hdr, self.header_path or self.path)
        if names is None:
            names = [b.GetDescription() or f"Band {i + 1}" for i, b in enumerate(bands)]
        gt = ds.GetGeoTransform(can_return_null=True) or (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
        return RasterInfo(
            width=ds.RasterXSize, height=ds.RasterYSize, count=n,
            dtype="float32" if scaled else _GDAL_TO_NP[gtype],
            transform=tuple(float(v) + 0.0 for v in gt),
            crs_wkt=ds.GetProjection() or "",
            nodata=None if nodata is None else float(nodata),
            scales=scales, offsets=offsets,
            band_names=names, wavelengths=wl, fwhm=fw, bad_bands=bad, path=self.path,
        )

    def read(self, window: Optional[Window] = None, bands: Optional[Sequence[int]] = None) -> np.ndarray:
        """(rows, cols, bands) pixels; float32 with scale/offset applied when declared (nodata kept)."""
        info = self.info
        (r, c, h, w), idx = checked_read(info, self.path, window, bands)
        window = (r, c, h, w)
        with _GdalErrors() as err:
            a = err.call(self._ds.ReadAsArray, xoff=c, yoff=r, xsize=w, ysize=h, band_list=[b + 1 for b in idx])
        if a is None:
            raise RasterError(f"Cannot read pixels of raster {self.path} at window {window}: {err.text()}")
        if a.ndim == 2:
            a = a[None]
        a = np.ascontiguousarray(np.moveaxis(a, 0, -1))
        if info.scales is not None:
            raw = a
            a = raw.astype(np.float32)
            a *= np.array([info.scales[b] for b in idx], np.float32)
            a += np.array([info.offsets[b] for b in idx], np.float32)
            if info.nodata is not None:
                nd = np.isnan(raw) if math.isnan(info.nodata) else raw == info.nodata
                a[nd] = info.nodata
        return a

    def close(self) -> None:
        self._ds = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


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
# writer


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
            with _GdalErrors() as err:
                ds = err.call(drv.Create, tmp, like.width, like.height, spec.count, _NP_TO_GDAL[dt.name], opts)
        except BaseException:  # interrupted while the file is being created: leave nothing behind
            self._cleanup()
            raise
        if ds is None:
            self._cleanup()
            raise OutputError(f"Cannot create output {path}: {err.text()}")
        self._ds = ds
        try:
            ds.SetGeoTransform(list(like.transform))
            if like.crs_wkt:
                ds.SetProjection(like.crs_wkt)
            self._describe()
        except BaseException:
            self.abort()
            raise

    def _describe(self):
        spec, ds = self.spec, self._ds
        for i in range(1, spec.count + 1):
            band = ds.GetRasterBand(i)
            if spec.nodata is not None:
                band.SetNoDataValue(float(spec.nodata))
            if spec.band_names and i <= len(spec.band_names):
                band.SetDescription(str(spec.band_names[i - 1]))
        band = ds.GetRasterBand(1)
        if spec.colors:
            if np.dtype(spec.dtype).name not in ("uint8", "uint16"):
                warnings.warn(f"Output {self.path}: a colour table needs uint8 or uint16 data, not {spec.dtype}; "
                              f"colours not embedded")
            else:
                ct = gdal.ColorTable()
                top = max(int(v) for v in spec.colors)
                for v in range(top + 1):
                    ct.SetColorEntry(v, (0, 0, 0, 0))
                for v, c in spec.colors.items():
                    rgb = tuple(int(x) for x in tuple(c)[:3])
                    ct.SetColorEntry(int(v), rgb + (255,))
                band.SetRasterColorTable(ct)
                band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
        if spec.category_names:
            names = {int(v): str(n) for v, n in spec.category_names.items()}
            cats = [""] * (max(names) + 1)
            for v, n in names.items():
                if v >= 0:
                    cats[v] = n
            band.SetCategoryNames(cats)
            band.SetMetadataItem("class_names", json.dumps({str(v): n for v, n in sorted(names.items())},
                                                           ensure_ascii=False))

    def write(self, window: Window, array: np.ndarray) -> None:
        if self._done:
            raise OutputError(f"Output {self.path} is already closed")
        (r, c, h, w), a = checked_block(self.spec, self.path, window, array)
        a = a.astype(self.spec.dtype, copy=False)
        with _GdalErrors() as err:
            for i in range(self.spec.count):
                if err.call(self._ds.GetRasterBand(i + 1).WriteArray, np.ascontiguousarray(a[:, :, i]), c, r) != 0:
                    raise OutputError(f"Cannot write output {self.path}: {err.text()}")

    def close(self) -> None:
        """Finish the temporary file and atomically replace the destination with it."""
        if self._done:
            return
        self._done = True
        try:
            with _GdalErrors() as err:
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
        (GDAL's COG driver, 256-pixel tiles, overviews down to one tile, MODE overviews for class maps), still a
        temporary file: the rename stays the one moment the output changes. The category names live in the PAM
        sidecar, which follows the copy."""
        categorical = bool(self.spec.colors or self.spec.category_names)
        cog_tmp = self.tmp_path[:-len(".tif")] + ".cog.tif"
        opts = ["COMPRESS=DEFLATE", "BLOCKSIZE=256", "PREDICTOR=YES", "OVERVIEWS=AUTO", "BIGTIFF=IF_SAFER",
                f"RESAMPLING={'MODE' if categorical else 'AVERAGE'}"]
        try:
            with _GdalErrors() as err:
                out = err.call(gdal.Translate, cog_tmp, self.tmp_path, format="COG", creationOptions=opts)
                ok = out is not None
                out = None  # close: flush the file and its sidecar
            if not ok:
                raise OutputError(f"Cannot write output {self.path} as a Cloud-Optimized GeoTIFF: {err.text()}")
            os.replace(cog_tmp, self.tmp_path)
            if os.path.exists(cog_tmp + ".aux.xml"):
                os.replace(cog_tmp + ".aux.xml", self.tmp_path + ".aux.xml")
        except BaseException:
            for p in (cog_tmp, cog_tmp + ".aux.xml"):
                if os.path.exists(p):
                    os.remove(p)
            raise

    def abort(self) -> None:
        """Drop the temporary file; whatever the destination held before stays."""
        self._done = True
        self._ds = None
        self._cleanup()



# --------------------------------------------------------------------------------------------------
# class metadata and label rasters


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
    with _GdalErrors() as err:
        ds = err.call(gdal.OpenEx, os.fspath(path), gdal.OF_RASTER | gdal.OF_READONLY)
    if ds is None:
        return names, colors
    band = ds.GetRasterBand(1)
    item = band.GetMetadataItem("class_names")
    if item:
        try:
            names.update({int(k): str(v) for k, v in json.loads(item).items()})
        except (ValueError, TypeError, AttributeError):
            pass
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


# --------------------------------------------------------------------------------------------------
# vectors


def read_polygons_qgis(layer, class_field: str, target_crs=None, transform_context=None,
                       is_canceled=None) -> List[PolygonFeature]:
    """Training polygons of a QGIS vector layer (or any QgsFeatureSource) with their raw class values,
    reprojected to `target_crs` (a QgsCoordinateReferenceSystem) when the CRSs differ."""
    from qgis.core import (QgsCoordinateTransform, QgsCoordinateTransformContext, QgsCsException,
                           QgsFeatureRequest, QgsGeometry, QgsProject, QgsWkbTypes)

    if layer is None:
        raise LabelError("No polygon layer selected")
    where = layer.name() if hasattr(layer, "name") else getattr(layer, "sourceName", lambda: "layer")()
    where = f"layer {where!r}"
    fields = [f.name() for f in layer.fields()]
    field = class_field
    if field not in fields:
        ci = [f for f in fields if f.lower() == str(class_field).lower()]
        if len(ci) != 1:
            raise LabelError(f"Class field {class_field!r} not found in {where}; available fields: "
                             f"{', '.join(fields) if fields else '(none)'}")
        field = ci[0]
    if hasattr(layer, "geometryType") and layer.geometryType() != QgsWkbTypes.GeometryType.PolygonGeometry:
        raise LabelError(f"{where} holds {QgsWkbTypes.geometryDisplayString(layer.geometryType())} "
                         f"geometries; training areas must be polygons")
    src_crs = layer.sourceCrs() if hasattr(layer, "sourceCrs") else layer.crs()
    xform = None
    if target_crs is None or not target_crs.isValid() or not src_crs.isValid():
        if target_crs is not None:
            warnings.warn(f"{where}: {'the layer' if not src_crs.isValid() else 'the raster'} has no CRS; "
                          f"assuming the polygons and the raster use the same coordinates")
    elif src_crs != target_crs:
        ctx = transform_context or QgsProject.instance().transformContext() or QgsCoordinateTransformContext()
        xform = QgsCoordinateTransform(src_crs, target_crs, ctx)
    idx = layer.fields().indexOf(field)
    req = QgsFeatureRequest().setSubsetOfAttributes([idx])
    out, null_geom = [], 0
    for feat in layer.getFeatures(req):
        if is_canceled is not None and is_canceled():
            from ..core.errors import Canceled
            raise Canceled("reading polygons canceled")
        g = feat.geometry()
        if g is None or g.isNull() or g.isEmpty():
            null_geom += 1
            continue
        g = QgsGeometry(g)
        if QgsWkbTypes.isCurvedType(g.wkbType()):
            g = QgsGeometry(g.constGet().segmentize())
        if xform is not None:
            try:
                g.transform(xform)
            except QgsCsException as e:
                raise LabelError(f"{where}: feature {feat.id()} cannot be reprojected to the raster CRS: "
                                 f"{e}") from None
        gj = json.loads(g.asJson())
        if not gj:
            null_geom += 1
            continue
        value = feat.attribute(idx)
        if value is not None and hasattr(value, "isNull") and value.isNull():
            value = None
        out.append(PolygonFeature(geometry=gj, value=_plain(value), fid=feat.id()))
    return checked_polygons(out, null_geom, field, where)


def _plain(v):
    """QVariant-ish values -> plain Python (NULL -> None)."""
    try:
        from qgis.PyQt.QtCore import QVariant

        if isinstance(v, QVariant):
            return None if v.isNull() else v.value()
    except ImportError:  # pragma: no cover
        pass
    return v


def read_polygons_ogr(path, class_field: str, target_crs_wkt: str, layer=None) -> List[PolygonFeature]:
    """The same as `read_polygons_qgis` for a vector file read with OGR (no QGIS needed)."""
    from osgeo import osr

    path = os.fspath(path)
    if not os.path.exists(path):
        raise LabelError(f"Training vector not found: {path}")
    with _GdalErrors() as err:
        ds = err.call(ogr.Open, path)
    if ds is None:
        raise LabelError(f"Cannot read training vector {path}: {err.text('OGR cannot open it')}")
    layers = [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())]
    lyr = ds.GetLayerByName(str(layer)) if isinstance(layer, str) else ds.GetLayer(layer or 0)
    if lyr is None:
        raise LabelError(f"Layer {layer!r} not found in {path}; layers: {', '.join(layers)}")
    if layer is None and len(layers) > 1:
        warnings.warn(f"{path} has {len(layers)} layers; using the first, {layers[0]!r} (available: {', '.join(layers)})")
    where = f"{path}" + (f" (layer {layer})" if layer is not None else "")
    defn = lyr.GetLayerDefn()
    fields = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    field = class_field
    if field not in fields:
        ci = [f for f in fields if f.lower() == str(class_field).lower()]
        if len(ci) != 1:
            raise LabelError(f"Class field {class_field!r} not found in {where}; available fields: "
                             f"{', '.join(fields) if fields else '(none)'}")
        field = ci[0]
    if lyr.GetFeatureCount() == 0:
        raise LabelError(f"Training vector {where} has no features")
    src = lyr.GetSpatialRef()
    if src is not None and src.IsLocal() and "undefined" in (src.GetName() or "").lower():
        src = None  # a GeoPackage's "Undefined SRS": no CRS, as the command line's reader sees it
    ct = None
    no_crs_warning(where, src is not None, bool(target_crs_wkt))
    if src is not None and target_crs_wkt:
        dst = osr.SpatialReference()
        dst.ImportFromWkt(target_crs_wkt)
        for s in (src, dst):
            s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        if not src.IsSame(dst):
            with _GdalErrors() as err:  # None, not a crash later, when no transformation exists (a local CRS)
                ct = err.call(osr.CreateCoordinateTransformation, src, dst)
            if ct is None:
                raise LabelError(f"{where}: its CRS ({src.GetName()}) cannot be transformed to the raster's CRS: "
                                 f"{err.text('no coordinate operation')}; reproject the vector or assign its CRS")
    out, null_geom = [], 0
    for feat in lyr:
        g = feat.GetGeometryRef()
        if g is None or g.IsEmpty():
            null_geom += 1
            continue
        g = g.Clone()
        if ct is not None and g.Transform(ct) != 0:
            raise LabelError(f"{where}: feature {feat.GetFID()} cannot be reprojected to the raster CRS")
        out.append(PolygonFeature(geometry=json.loads(g.ExportToJson()), value=feat.GetField(field),
                                  fid=feat.GetFID()))
    return checked_polygons(out, null_geom, field, where)


def rasterize_gdal(shapes: list, info: RasterInfo) -> np.ndarray:
    """Burn [(GeoJSON geometry, int value)] onto `info`'s grid: int32, 0 background, pixel centres only
    (all_touched False); later shapes overwrite earlier ones."""
    shapes = [(g, int(v)) for g, v in shapes if g]
    out_shape = (info.height, info.width)
    if not shapes:
        return np.zeros(out_shape, np.int32)
    mem = gdal.GetDriverByName("MEM").Create("", info.width, info.height, 1, gdal.GDT_Int32)
    mem.SetGeoTransform(list(info.transform))
    mem.GetRasterBand(1).Fill(0)
    vds = ogr.GetDriverByName("Memory").CreateDataSource("shapes")
    lyr = vds.CreateLayer("shapes", None, ogr.wkbUnknown)
    lyr.CreateField(ogr.FieldDefn("v", ogr.OFTInteger))
    defn = lyr.GetLayerDefn()
    with _GdalErrors() as err:
        for g, v in shapes:
            geom = ogr.CreateGeometryFromJson(json.dumps(g))
            if geom is None:
                raise LabelError(f"Cannot rasterize a training geometry on raster {info.path or '(in memory)'}: "
                                 f"{err.text('invalid geometry')}")
            f = ogr.Feature(defn)
            f.SetField("v", v)
            f.SetGeometry(geom)
            lyr.CreateFeature(f)
        rc = gdal.RasterizeLayer(mem, [1], lyr, options=["ATTRIBUTE=v", "ALL_TOUCHED=FALSE"])
    if rc != 0:
        raise LabelError(f"Cannot rasterize training geometries on raster {info.path or '(in memory)'}: "
                         f"{err.text()}")
    return mem.GetRasterBand(1).ReadAsArray().astype(np.int32)


_OGR_TYPES = {"int": ogr.OFTInteger64, "float": ogr.OFTReal, "str": ogr.OFTString}


def write_points_ogr(path, crs_wkt: str, xs, ys, fields, layer: str) -> None:
    """A one-layer GeoPackage of points with typed attribute columns, written with OGR to a temporary file and
    renamed into place (the command line writes the same file with its own library)."""
    from osgeo import osr

    from ..core.io.files import atomic_path

    srs = None
    if crs_wkt:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(crs_wkt)
    with atomic_path(path, suffix=".gpkg", what="point file") as tmp:
        os.unlink(tmp)  # the GeoPackage driver creates the file itself
        with _GdalErrors() as err:
            ds = err.call(ogr.GetDriverByName("GPKG").CreateDataSource, tmp)
            lyr = err.call(ds.CreateLayer, layer, srs, ogr.wkbPoint) if ds is not None else None
        if lyr is None:
            raise OutputError(f"Cannot write the point file {path}: {err.text('OGR cannot create it')}")
        for f in fields:
            lyr.CreateField(ogr.FieldDefn(f.name, _OGR_TYPES[f.kind]))
        defn = lyr.GetLayerDefn()
        lyr.StartTransaction()
        for i, (x, y) in enumerate(zip(xs, ys)):
            feat = ogr.Feature(defn)
            for f in fields:
                v = f.values[i]
                if v is None:
                    feat.SetFieldNull(f.name)
                else:
                    feat.SetField(f.name, v.item() if isinstance(v, np.generic) else v)
            g = ogr.Geometry(ogr.wkbPoint)
            g.AddPoint_2D(float(x), float(y))
            feat.SetGeometry(g)
            lyr.CreateFeature(feat)
        lyr.CommitTransaction()
        ds = None  # close (flush) before the rename


class GdalBackend:
    """The plugin's I/O backend for the workflows (workflows/backend.IOBackend): GDAL/OGR and QGIS only."""

    name = "gdal"

    def open_raster(self, path):
        return open_raster(path)

    def open_writer(self, spec):
        return GdalWriter(spec)

    def open_cog_writer(self, spec):
        """A Cloud-Optimized GeoTIFF writer (the COG setting): converted with GDAL's COG driver before the rename."""
        return GdalWriter(spec, cog=True)

    def read_polygons(self, path, class_field, target_crs_wkt, layer=None):
        return read_polygons_ogr(path, class_field, target_crs_wkt, layer=layer)

    def rasterize(self, shapes, info):
        return rasterize_gdal(shapes, info)

    def read_class_metadata(self, path):
        return read_class_metadata(path)

    def same_crs(self, wkt_a, wkt_b):
        return same_crs(wkt_a, wkt_b)

    def write_points(self, path, crs_wkt, xs, ys, fields, layer):
        return write_points_ogr(path, crs_wkt, xs, ys, fields, layer)
