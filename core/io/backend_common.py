"""What the two raster/vector backends do the same way, written once: the library-free half of a backend.

The command line reads through rasterio and fiona (workflows/rasterio_*.py), QGIS through osgeo.gdal and OGR
(plugin/io_gdal.py and its siblings). Each backend only asks its library for the raw facts (sizes, data types,
metadata dictionaries, field names, the `class_names` item); the rules that turn them into a `RasterInfo`,
pixels, a class field or class names live here, so the two cannot drift apart. The polygon checks made after
reading features are in core/data/labels.py (`checked_polygons`, `no_crs_warning`).
"""
from __future__ import annotations

import json
import math
import os
import warnings
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import LabelError, RasterError
from .raster import OutputSpec, RasterInfo
from .spectral_meta import envi_pair, read_envi_header, resolve_scaling, resolve_spectral_metadata, validate_envi

# metadata domains both backends read, in this order (a later domain overrides an earlier one's item)
BAND_DOMAINS = ("IMAGERY", "ENVI", None)
DATASET_DOMAINS = ("ENVI", None)

# --------------------------------------------------------------------------------------------------
# rasters


def envi_source(path: str) -> Tuple[str, Optional[str], Optional[dict]]:
    """(data path, header path, header) of a raster: for ENVI (the data file or its .hdr given) the header is read
    and checked against the data file; for anything else (path, None, None)."""
    pair = envi_pair(path)
    if pair is None:
        return path, None, None
    data, hdr_path = pair
    hdr = read_envi_header(hdr_path)
    validate_envi(hdr, hdr_path, data)
    return data, hdr_path, hdr


def check_one_data_type(path: str, type_names: Iterable[str]) -> None:
    """A raster whose bands mix data types is refused (the engine reads all bands as one array)."""
    names = set(type_names)
    if len(names) != 1:
        raise RasterError(f"Raster {path} mixes band data types {sorted(names)}; convert it to one type")


def _domain(get: Callable[[], Optional[dict]]) -> dict:
    """One metadata domain as a dict with lower-case keys; a domain the driver lacks is empty."""
    try:
        d = get()
    except Exception:  # noqa: BLE001 - a domain the driver lacks
        d = {}
    return {str(k).lower(): v for k, v in (d or {}).items()}


def describe_raster(*, path: str, header_path: Optional[str], hdr: Optional[dict], width: int, height: int,
                    dtype: str, transform: Sequence[float], crs_wkt: str, scales: List[float], offsets: List[float],
                    nodata, descriptions: Sequence[Optional[str]],
                    band_metadata: Callable[[int, Optional[str]], Optional[dict]],
                    dataset_metadata: Callable[[Optional[str]], Optional[dict]]) -> RasterInfo:
    """The RasterInfo of an opened raster from what its library reports: `transform` in GDAL order, `scales` /
    `offsets` per band (1.0 / 0.0 when undeclared), `descriptions` per band, and the metadata of band b (from 1) or
    of the dataset in a domain (None: the default one). Scale/offset, wavelengths, FWHM, bad bands and band names
    come from the ENVI header or the metadata by core/io/spectral_meta.py's rules; scaled rasters read as float32."""
    where = header_path or path
    count = len(descriptions)
    scales, offsets, nodata = resolve_scaling(scales, offsets, nodata, hdr, where)
    per_band = []
    for b in range(1, count + 1):
        tags: dict = {}
        for dom in BAND_DOMAINS:
            tags.update(_domain(lambda: band_metadata(b, dom)))
        per_band.append(tags)
    ds_tags: dict = {}
    for dom in DATASET_DOMAINS:
        ds_tags.update(_domain(lambda: dataset_metadata(dom)))
    wl, fw, bad, names = resolve_spectral_metadata(count, hdr, per_band, ds_tags, where)
    if names is None:
        names = [d if d else f"Band {i + 1}" for i, d in enumerate(descriptions)]
    return RasterInfo(
        width=width, height=height, count=count,
        dtype="float32" if scales is not None else dtype,
        transform=tuple(float(v) + 0.0 for v in transform),  # + 0.0: no -0.0
        crs_wkt=crs_wkt or "",
        nodata=None if nodata is None else float(nodata),
        scales=scales, offsets=offsets,
        band_names=names, wavelengths=wl, fwhm=fw, bad_bands=bad, path=path,
    )


def band_last(a: np.ndarray, info: RasterInfo, idx: Sequence[int]) -> np.ndarray:
    """(bands, rows, cols) pixels as read by a library -> (rows, cols, bands), float32 with scale/offset applied when
    the raster declares them (`idx`: the 0-based bands read); nodata pixels keep the nodata value."""
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


def class_names_item(raw: Optional[str], path: str) -> Dict[int, str]:
    """{value: name} from band 1's `class_names` item (a JSON object, as both writers embed it); empty when
    absent, and empty with a warning when it is not such an object."""
    if not raw:
        return {}
    try:
        return {int(k): str(v) for k, v in json.loads(raw).items()}
    except (ValueError, AttributeError, TypeError):
        warnings.warn(f"Raster {path}: band 1 tag 'class_names' is not a JSON object of value -> name; ignored")
        return {}


# --------------------------------------------------------------------------------------------------
# maps written


def colour_table(spec: OutputSpec, path: str) -> Optional[Dict[int, Tuple[int, int, int]]]:
    """{value: (r, g, b)} a map embeds as band 1's colour table: None when no colours are given, or (with a
    warning) when the data type cannot hold a colour table."""
    if not spec.colors:
        return None
    if np.dtype(spec.dtype).name not in ("uint8", "uint16"):
        warnings.warn(f"Output {path}: a colour table needs uint8 or uint16 data, not {spec.dtype}; "
                      f"colours not embedded")
        return None
    return {int(v): tuple(int(x) for x in tuple(c)[:3]) for v, c in spec.colors.items()}


def class_names_json(category_names: dict) -> str:
    """Band 1's `class_names` item: {"value": name} by value, read back by `class_names_item`."""
    names = {str(int(v)): str(n) for v, n in sorted(category_names.items(), key=lambda kv: int(kv[0]))}
    return json.dumps(names, ensure_ascii=False)


def replace_by_cog(tmp_path: str, spec: OutputSpec, convert: Callable[[str, str, Dict[str, str]], None]) -> None:
    """Replace a finished temporary GeoTIFF by a Cloud-Optimized copy, still a temporary file, so that the rename
    into place stays the one moment the output changes. `convert(src, dst, options)` is the library's copy with
    GDAL's COG driver: 256-pixel tiles, overviews down to one tile, IFDs and overviews before the full-resolution
    data; class maps (a palette or class names) get MODE overviews, so an overview pixel is a class that occurs
    under it, never an average of class values. A PAM sidecar of the copy (category names) follows it; nothing
    of the copy is left behind when it fails."""
    categorical = bool(spec.colors or spec.category_names)
    options = {"COMPRESS": "DEFLATE", "BLOCKSIZE": "256", "PREDICTOR": "YES", "OVERVIEWS": "AUTO",
               "BIGTIFF": "IF_SAFER", "RESAMPLING": "MODE" if categorical else "AVERAGE"}
    cog_tmp = tmp_path[:-len(".tif")] + ".cog.tif"
    try:
        convert(tmp_path, cog_tmp, options)
        os.replace(cog_tmp, tmp_path)
        if os.path.exists(cog_tmp + ".aux.xml"):
            os.replace(cog_tmp + ".aux.xml", tmp_path + ".aux.xml")
    except BaseException:
        for p in (cog_tmp, cog_tmp + ".aux.xml"):
            if os.path.exists(p):
                os.remove(p)
        raise


# --------------------------------------------------------------------------------------------------
# vector files


def check_vector_path(path: str) -> None:
    if not os.path.exists(path):
        raise LabelError(f"Training vector not found: {path}")


def layer_not_found(path: str, layer, layers: Sequence[str]) -> LabelError:
    return LabelError(f"Layer {layer!r} not found in {path}; layers: {', '.join(layers)}")


def vector_where(path: str, layer, layers: Sequence[str]) -> str:
    """How messages name the vector (the file, and the layer when one was asked for); warns when no layer was
    asked for and the file has several (the first is read)."""
    if layer is None and len(layers) > 1:
        warnings.warn(f"{path} has {len(layers)} layers; using the first, {layers[0]!r} "
                      f"(available: {', '.join(layers)})")
    return f"{path}" + (f" (layer {layer})" if layer is not None else "")


def find_class_field(class_field: str, fields: Sequence[str], where: str) -> str:
    """The layer's field named `class_field`: exactly, else the one field equal to it ignoring case."""
    if class_field in fields:
        return class_field
    ci = [f for f in fields if f.lower() == str(class_field).lower()]
    if len(ci) != 1:
        raise LabelError(f"Class field {class_field!r} not found in {where}; available fields: "
                         f"{', '.join(fields) if fields else '(none)'}")
    return ci[0]


def no_features(where: str) -> LabelError:
    return LabelError(f"Training vector {where} has no features")
