"""Vectors through OGR and the QGIS API (QGIS's backend, io_gdal.GdalBackend): training polygons of a QGIS layer or
a vector file, read and reprojected; geometries burnt onto a raster's grid; sample points written to a GeoPackage.

The command line has its own versions (workflows/). The layer, class-field and polygon checks are
written once for both: core/io/backend_common.py and core/data/labels.py.
"""
from __future__ import annotations

import json
import os
import warnings
from typing import List

import numpy as np
from osgeo import gdal, ogr

from ..core.data.labels import PolygonFeature, checked_polygons, no_crs_warning
from ..core.errors import Canceled, LabelError, OutputError
from ..core.io.backend_common import check_vector_path, find_class_field, layer_not_found, no_features, vector_where
from ..core.io.files import atomic_path
from ..core.io.raster import RasterInfo
from .gdal_errors import GdalErrors


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
    field = find_class_field(class_field, [f.name() for f in layer.fields()], where)
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
    check_vector_path(path)
    with GdalErrors() as err:
        ds = err.call(ogr.Open, path)
    if ds is None:
        raise LabelError(f"Cannot read training vector {path}: {err.text('OGR cannot open it')}")
    layers = [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())]
    lyr = ds.GetLayerByName(str(layer)) if isinstance(layer, str) else ds.GetLayer(layer or 0)
    if lyr is None:
        raise layer_not_found(path, layer, layers)
    where = vector_where(path, layer, layers)
    defn = lyr.GetLayerDefn()
    field = find_class_field(class_field, [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())],
                             where)
    if lyr.GetFeatureCount() == 0:
        raise no_features(where)
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
            with GdalErrors() as err:  # None, not a crash later, when no transformation exists (a local CRS)
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
    with GdalErrors() as err:
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

    srs = None
    if crs_wkt:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(crs_wkt)
    with atomic_path(path, suffix=".gpkg", what="point file") as tmp:
        os.unlink(tmp)  # the GeoPackage driver creates the file itself
        with GdalErrors() as err:
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
