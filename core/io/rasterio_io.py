"""rasterio/fiona implementations of the reader/writer interfaces in `raster.py` (the CLI side).

QGIS uses its own GDAL-backed versions (`plugin/io_gdal.py`); this is the only module of `core`
allowed to import rasterio or fiona, so the engine stays importable inside QGIS.
"""
from __future__ import annotations

import json
import math
import os
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

# GDAL's block cache defaults to 5 % of RAM (1.2 GB on a 24 GB machine): reading a pixel-interleaved
# 200-band raster fills it, so peak memory would be set by the cache, not by the classification window.
# A 256 MB cache keeps every read tile-efficient; set GDAL_CACHEMAX yourself to override.
os.environ.setdefault("GDAL_CACHEMAX", "256")

import rasterio  # noqa: E402  (after the cache setting, which GDAL reads when it first caches a block)
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window as RioWindow

from ..errors import LabelError, OutputError, RasterError
from ..data.labels import PolygonFeature, checked_polygons, no_crs_warning
from .files import atomic_path, atomic_write
from .raster import (OutputSpec, RasterInfo, TemporaryOutput, Window, checked_block, checked_output, checked_read)
from .spectral_meta import envi_pair, read_envi_header, resolve_scaling, resolve_spectral_metadata, validate_envi

# --------------------------------------------------------------------------------------------------
# spectral metadata


def _spectral_metadata(src, hdr: Optional[dict], where: str):
    """Gather the band/dataset metadata rasterio sees and resolve it (core/io/spectral_meta.py)."""
    per_band = []
    for b in range(1, src.count + 1):
        tags = {}
        for ns in ("IMAGERY", "ENVI", None):
            try:
                t = src.tags(b, ns=ns) if ns else src.tags(b)
            except Exception:  # noqa: BLE001 - a domain the driver lacks
                t = {}
            tags.update({k.lower(): v for k, v in t.items()})
        per_band.append(tags)
    ds_tags = {}
    for ns in ("ENVI", None):
        try:
            ds_tags.update({k.lower(): v for k, v in (src.tags(ns=ns) if ns else src.tags()).items()})
        except Exception:  # noqa: BLE001
            pass
    return resolve_spectral_metadata(src.count, hdr, per_band, ds_tags, where)


# --------------------------------------------------------------------------------------------------
# reader


class RasterioReader:
    """A GeoTIFF/ENVI (or any GDAL raster) read through rasterio; see `open_raster`."""

    def __init__(self, path: str):
        self.path = path
        pair = envi_pair(path)
        hdr = None
        if pair is not None:
            data, hdr_path = pair
            hdr = read_envi_header(hdr_path)
            validate_envi(hdr, hdr_path, data)
            self.header_path = hdr_path
            path = data
        else:
            self.header_path = None
        self.data_path = path
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self._ds = rasterio.open(path)
        except RasterioError as e:
            raise RasterError(f"Cannot read raster {self.path}: {e}") from None
        try:
            self.info = self._make_info(hdr)
        except Exception:
            self._ds.close()
            raise

    def _make_info(self, hdr) -> RasterInfo:
        src = self._ds
        dtypes = set(src.dtypes)
        if len(dtypes) != 1:
            raise RasterError(f"Raster {self.path} mixes band data types {sorted(dtypes)}; convert it to one type")
        scales, offsets, nodata = resolve_scaling([float(s) for s in src.scales], [float(o) for o in src.offsets],
                                                  src.nodata, hdr, self.header_path or self.path)
        scaled = scales is not None
        wl, fw, bad, names = _spectral_metadata(src, hdr, self.header_path or self.path)
        if names is None:
            names = [d if d else f"Band {i + 1}" for i, d in enumerate(src.descriptions)]
        return RasterInfo(
            width=src.width, height=src.height, count=src.count,
            dtype="float32" if scaled else src.dtypes[0],
            transform=tuple(float(v) + 0.0 for v in src.transform.to_gdal()),  # + 0.0: no -0.0
            crs_wkt=src.crs.to_wkt() if src.crs else "",
            nodata=None if nodata is None else float(nodata),
            scales=scales, offsets=offsets,
            band_names=names, wavelengths=wl, fwhm=fw, bad_bands=bad, path=self.path,
        )

    def read(self, window: Optional[Window] = None, bands: Optional[Sequence[int]] = None) -> np.ndarray:
        """(rows, cols, bands) pixels; float32 with scale/offset applied when declared (nodata kept as is)."""
        info = self.info
        (r, c, h, w), idx = checked_read(info, self.path, window, bands)
        window = (r, c, h, w)
        try:
            a = self._ds.read(indexes=[b + 1 for b in idx], window=RioWindow(c, r, w, h))
        except RasterioError as e:
            raise RasterError(f"Cannot read pixels of raster {self.path} at window {window}: {e}") from None
        a = np.ascontiguousarray(np.moveaxis(a, 0, -1))
        if info.scales is not None:
            raw = a
            a = raw.astype(np.float32)
            sc = np.array([info.scales[b] for b in idx], np.float32)
            of = np.array([info.offsets[b] for b in idx], np.float32)
            a *= sc
            a += of
            if info.nodata is not None:
                nd = np.isnan(raw) if math.isnan(info.nodata) else raw == info.nodata
                a[nd] = info.nodata
        return a

    def close(self) -> None:
        self._ds.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_raster(path) -> RasterioReader:
    """Open a GeoTIFF or ENVI raster (the data file or its .hdr) and describe it as a RasterInfo."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise RasterError(f"Raster not found: {path}")
    if os.path.isdir(path):
        raise RasterError(f"Raster path is a folder, not a file: {path}")
    if not os.access(path, os.R_OK):
        raise RasterError(f"Raster is not readable (permission denied): {path}")
    return RasterioReader(path)


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    """rasterio's CRS equality (GDAL's IsSame): an ENVI `map info` UTM zone and the EPSG code of the same zone
    are one CRS."""
    return CRS.from_wkt(wkt_a) == CRS.from_wkt(wkt_b)


def read_class_metadata(path) -> Tuple[Dict[int, str], Dict[int, tuple]]:
    """(names, colours) by class value embedded in a class raster (as `RasterioWriter` writes them):
    the `class_names` JSON tag and the colour table of band 1. Empty dicts when absent."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise RasterError(f"Raster not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                tags = ds.tags(1)
                try:
                    cmap = ds.colormap(1)
                except ValueError:  # no colour table
                    cmap = {}
    except RasterioError as e:
        raise RasterError(f"Cannot read raster {path}: {e}") from None
    names: Dict[int, str] = {}
    raw = tags.get("class_names")
    if raw:
        try:
            names = {int(k): str(v) for k, v in json.loads(raw).items()}
        except (ValueError, AttributeError, TypeError):
            warnings.warn(f"Raster {path}: band 1 tag 'class_names' is not a JSON object of value -> name; ignored")
    if names:
        colors = {v: tuple(cmap[v][:3]) for v in names if v in cmap}
    else:  # unnamed table: keep the entries that were actually set
        colors = {int(v): tuple(c[:3]) for v, c in cmap.items() if v >= 1 and tuple(c) not in ((0, 0, 0, 0), (0, 0, 0, 255))}
    return names, colors


# --------------------------------------------------------------------------------------------------
# writer


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
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self._ds = rasterio.open(tmp, "w", **profile)
        except (RasterioError, ValueError, TypeError) as e:
            self._cleanup()
            raise OutputError(f"Cannot create output {path}: {e}") from None
        except BaseException:  # Ctrl-C or SIGTERM while the file is being created: leave nothing behind
            self._cleanup()
            raise
        self._done = False
        try:
            self._describe()
        except BaseException:
            self.abort()
            raise

    def _describe(self):
        spec, ds = self.spec, self._ds
        if spec.band_names:
            for i, n in enumerate(spec.band_names[:spec.count], start=1):
                ds.set_band_description(i, str(n))
        if spec.colors:
            if np.dtype(spec.dtype).name not in ("uint8", "uint16"):
                warnings.warn(f"Output {self.path}: a colour table needs uint8 or uint16 data, not {spec.dtype}; "
                              f"colours not embedded")
            else:
                cmap = {int(v): tuple(int(x) for x in tuple(c)[:3]) + (255,) for v, c in spec.colors.items()}
                ds.write_colormap(1, cmap)
        if spec.category_names:
            names = {str(int(v)): str(n) for v, n in sorted(spec.category_names.items(), key=lambda kv: int(kv[0]))}
            ds.update_tags(1, class_names=json.dumps(names, ensure_ascii=False))

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
        """Replace the finished temporary GeoTIFF by a Cloud-Optimized copy (GDAL's COG driver: 256-pixel tiles,
        overviews down to one tile, IFDs and overviews before the full-resolution data), still a temporary file:
        the rename into place stays the one moment the output changes. Class maps (paletted) get MODE overviews,
        so an overview pixel is a class that occurs under it, never an average of class values."""
        from rasterio.shutil import copy as rio_copy

        categorical = bool(self.spec.colors or self.spec.category_names)
        cog_tmp = self.tmp_path[:-len(".tif")] + ".cog.tif"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                rio_copy(self.tmp_path, cog_tmp, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=256,
                         PREDICTOR="YES",
                         RESAMPLING="MODE" if categorical else "AVERAGE", OVERVIEWS="AUTO", BIGTIFF="IF_SAFER")
            os.replace(cog_tmp, self.tmp_path)
        except BaseException:
            for p in (cog_tmp, cog_tmp + ".aux.xml"):
                if os.path.exists(p):
                    os.remove(p)
            raise

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



# --------------------------------------------------------------------------------------------------
# vectors


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
    if not os.path.exists(path):
        raise LabelError(f"Training vector not found: {path}")
    try:
        layers = fiona.listlayers(path)
    except Exception as e:  # noqa: BLE001 - fiona raises several driver errors
        raise LabelError(f"Cannot read training vector {path}: {e}") from None
    if layer is not None and str(layer) not in layers and not (isinstance(layer, int) and 0 <= layer < len(layers)):
        raise LabelError(f"Layer {layer!r} not found in {path}; layers: {', '.join(layers)}")
    if layer is None and len(layers) > 1:
        warnings.warn(f"{path} has {len(layers)} layers; using the first, {layers[0]!r} (available: {', '.join(layers)})")
    where = f"{path}" + (f" (layer {layer})" if layer is not None else "")
    try:
        src = fiona.open(path, layer=layer) if layer is not None else fiona.open(path)
    except Exception as e:  # noqa: BLE001
        raise LabelError(f"Cannot read training vector {where}: {e}") from None
    with src:
        fields = list(src.schema.get("properties", {}).keys())
        field = class_field
        if field not in fields:
            ci = [f for f in fields if f.lower() == str(class_field).lower()]
            if len(ci) != 1:
                raise LabelError(f"Class field {class_field!r} not found in {where}; available fields: "
                                 f"{', '.join(fields) if fields else '(none)'}")
            field = ci[0]
        if len(src) == 0:
            raise LabelError(f"Training vector {where} has no features")
        vec_wkt = src.crs.to_wkt() if src.crs else ""
        reproject = False
        no_crs_warning(where, bool(vec_wkt), bool(target_crs_wkt))
        if vec_wkt and target_crs_wkt:
            try:
                reproject = CRS.from_wkt(vec_wkt) != CRS.from_wkt(target_crs_wkt)
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
