"""Vectors through fiona and rasterio (the command line's backend, workflows/rasterio_backend.py): training polygons
read and reprojected, geometries burnt onto a raster's grid, sample points written to a GeoPackage.

Never imported in QGIS (its OGR versions are plugin/ogr_vectors.py). The layer, class-field and polygon checks are
written once for both: core/io/backend_common.py and core/data/labels.py.
"""
from __future__ import annotations

import os
from typing import List

import numpy as np

from .rasterio_reader import same_crs  # first: sets GDAL_CACHEMAX before rasterio loads

from affine import Affine  # noqa: E402
from rasterio.errors import RasterioError  # noqa: E402

from ..core.data.labels import PolygonFeature, checked_polygons, no_crs_warning  # noqa: E402
from ..core.errors import LabelError, OutputError  # noqa: E402
from ..core.io.backend_common import (check_vector_path, find_class_field, layer_not_found,  # noqa: E402
                                      no_features, vector_where)
from ..core.io.files import atomic_path  # noqa: E402
from ..core.io.raster import RasterInfo  # noqa: E402


def _fid(feat, i: int):
    fid = getattr(feat, "id", None)
    try:
        return int(fid)
    except (TypeError, ValueError):
        return fid if fid is not None else i


def read_polygons(path, class_field: str, target_crs_wkt: str, layer=None) -> List[PolygonFeature]:
    """Training polygons with their raw class values, reprojected to the raster CRS when needed."""
    import fiona
    from rasterio.warp import transform_geom

    path = os.fspath(path)
    check_vector_path(path)
    try:
        layers = fiona.listlayers(path)
    except Exception as e:  # noqa: BLE001 - fiona raises several driver errors
        raise LabelError(f"Cannot read training vector {path}: {e}") from None
    if layer is not None and str(layer) not in layers and not (isinstance(layer, int) and 0 <= layer < len(layers)):
        raise layer_not_found(path, layer, layers)
    where = vector_where(path, layer, layers)
    try:
        src = fiona.open(path, layer=layer) if layer is not None else fiona.open(path)
    except Exception as e:  # noqa: BLE001
        raise LabelError(f"Cannot read training vector {where}: {e}") from None
    with src:
        field = find_class_field(class_field, list(src.schema.get("properties", {}).keys()), where)
        if len(src) == 0:
            raise no_features(where)
        vec_wkt = src.crs.to_wkt() if src.crs else ""
        reproject = False
        no_crs_warning(where, bool(vec_wkt), bool(target_crs_wkt))
        if vec_wkt and target_crs_wkt:
            try:
                reproject = not same_crs(vec_wkt, target_crs_wkt)
            except RasterioError as e:
                raise LabelError(f"{where}: cannot compare coordinate systems: {e}") from None
        out, null_geom = [], 0
        for i, feat in enumerate(src):
            fid = _fid(feat, i)
            geom = feat.geometry
            if geom is None:
                null_geom += 1
                continue
            g = geom.__geo_interface__ if hasattr(geom, "__geo_interface__") else dict(geom)
            if reproject:
                try:
                    g = transform_geom(vec_wkt, target_crs_wkt, g)
                except Exception as e:  # noqa: BLE001
                    raise LabelError(f"{where}: feature {fid} cannot be reprojected to the raster CRS: {e}") from None
            g = {"type": g["type"], **({"geometries": g["geometries"]} if "geometries" in g
                                       else {"coordinates": g["coordinates"]})}
            out.append(PolygonFeature(geometry=g, value=feat.properties.get(field), fid=fid))
    return checked_polygons(out, null_geom, field, where)


def rasterize(shapes: list, info: RasterInfo) -> np.ndarray:
    """Burn [(GeoJSON geometry, int value)] onto `info`'s grid: int32, 0 background, pixel centres only."""
    from rasterio.features import rasterize as rio_rasterize

    shapes = [(g, int(v)) for g, v in shapes if g]
    if not shapes:
        return np.zeros((info.height, info.width), np.int32)
    try:
        return rio_rasterize(shapes, out_shape=(info.height, info.width), transform=Affine.from_gdal(*info.transform),
                             fill=0, all_touched=False, dtype="int32")
    except ValueError as e:
        raise LabelError(f"Cannot rasterize training geometries on raster {info.path or '(in memory)'}: {e}") from None


def write_points(path, crs_wkt: str, xs, ys, fields, layer: str) -> None:
    """A one-layer GeoPackage of points with typed attribute columns (`fields`: objects with name, kind in
    int/float/str, values), written to a temporary file and renamed into place."""
    import fiona

    schema = {"geometry": "Point", "properties": {f.name: f.kind for f in fields}}
    recs = [{"geometry": {"type": "Point", "coordinates": (float(x), float(y))},
             "properties": {f.name: _plain_value(f.values[i]) for f in fields}} for i, (x, y) in enumerate(zip(xs, ys))]
    with atomic_path(path, suffix=".gpkg", what="point file") as tmp:
        os.unlink(tmp)  # the GeoPackage driver creates the file itself
        try:
            with fiona.open(tmp, "w", driver="GPKG", schema=schema, crs_wkt=crs_wkt or None, layer=layer) as dst:
                dst.writerecords(recs)
        except Exception as e:  # noqa: BLE001 - fiona/GDAL driver errors
            raise OutputError(f"Cannot write the point file {path}: {e}") from None


def _plain_value(v):
    return v.item() if isinstance(v, np.generic) else v
