"""Tiny synthetic scenes written as real files (GeoTIFF, ENVI, GeoPackage) for the tests.

The scene: 20 rows x 24 cols, 12 int16 bands, three classes in vertical blocks of 8 columns whose
spectra differ in shape (rising, falling, peaked), a few nodata pixels, on a UTM 33N grid with
30 m pixels. Polygons are written in another CRS (EPSG:4326 by default) to exercise reprojection.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

H, W, B = 20, 24, 12
CRS = "EPSG:32633"
ORIGIN = (500000.0, 5000000.0)
PIXEL = 30.0
NODATA = -9999
WAVELENGTHS_NM = [float(w) for w in np.linspace(450.0, 2350.0, B)]
NODATA_PIXELS = [(0, 0), (19, 23), (10, 5)]
GDAL_TRANSFORM = (ORIGIN[0], PIXEL, 0.0, ORIGIN[1], 0.0, -PIXEL)


def synthetic_scene(seed: int = 0):
    """(cube (H, W, B) int16, gt (H, W) uint8): classes 1, 2, 3 in column blocks; row 0 unlabelled."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, B)
    spectra = np.stack([1000 + 2000 * t, 3000 - 2000 * t, 1000 + 2500 * np.exp(-((t - 0.5) ** 2) / 0.02)])
    gt = np.zeros((H, W), np.uint8)
    for k in range(3):
        gt[1:, 8 * k:8 * (k + 1)] = k + 1
    cls = np.repeat(np.arange(3), 8)[None, :].repeat(H, 0)  # class index of each pixel incl. row 0
    cube = spectra[cls] + rng.normal(0, 40, (H, W, B))
    cube = np.round(cube).astype(np.int16)
    for r, c in NODATA_PIXELS:
        cube[r, c, :] = NODATA
        gt[r, c] = 0
    return cube, gt


def band_tags(i: int, wavelengths: Optional[Sequence[float]], units: Optional[str], *,
              fwhm: Optional[Sequence[float]] = None, bbl: Optional[Sequence[int]] = None) -> dict:
    """EnMAP-Box style metadata of band `i` (0-based): wavelength (+ wavelength_units), fwhm, bbl, each only when
    given. Pure (no rasterio, no GDAL) so that the rasterio writer here and the GDAL writer of the QGIS tests
    (tests/qgis/data.py) tag their bands the same way."""
    tags = {}
    if wavelengths is not None:
        tags["wavelength"] = str(wavelengths[i])
        if units:
            tags["wavelength_units"] = units
    if fwhm is not None:
        tags["fwhm"] = str(fwhm[i])
    if bbl is not None:
        tags["bbl"] = str(bbl[i])
    return tags


def make_geotiff(path, cube: Optional[np.ndarray] = None, *, crs: Optional[str] = CRS, nodata=NODATA,
                 wavelengths: Optional[Sequence[float]] = WAVELENGTHS_NM, units: Optional[str] = "Nanometers",
                 fwhm: Optional[Sequence[float]] = None, bbl: Optional[Sequence[int]] = None,
                 scales=None, offsets=None, descriptions: Optional[Sequence[str]] = None,
                 envi_domain: bool = False, colors: Optional[dict] = None, transform=GDAL_TRANSFORM) -> Path:
    """Write `cube` (default: the synthetic scene) as a GeoTIFF with EnMAP-Box style band metadata."""
    import rasterio
    from affine import Affine

    if cube is None:
        cube = synthetic_scene()[0]
    if cube.ndim == 2:
        cube = cube[:, :, None]
    h, w, b = cube.shape
    path = Path(path)
    profile = dict(driver="GTiff", width=w, height=h, count=b, dtype=cube.dtype.name,
                   transform=Affine.from_gdal(*transform), crs=crs, nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.moveaxis(cube, -1, 0))
        for i in range(b):
            tags = band_tags(i, wavelengths, units, fwhm=fwhm, bbl=bbl)
            if tags:
                if envi_domain:
                    dst.update_tags(i + 1, ns="ENVI", **tags)
                else:
                    dst.update_tags(i + 1, **tags)
            if descriptions is not None:
                dst.set_band_description(i + 1, descriptions[i])
        if scales is not None:
            dst.scales = tuple(scales)
        if offsets is not None:
            dst.offsets = tuple(offsets)
        if colors:
            dst.write_colormap(1, {k: tuple(v) + (255,) for k, v in colors.items()})
    return path


def make_envi(path, cube: Optional[np.ndarray] = None, *, interleave: str = "bsq",
              wavelengths: Optional[Sequence[float]] = None, units: Optional[str] = "Micrometers",
              fwhm: Optional[Sequence[float]] = None, bbl: Optional[Sequence[int]] = None,
              band_names: Optional[Sequence[str]] = None, nodata=NODATA, drop_fields: Sequence[str] = (),
              truncate_bytes: int = 0, with_map_info: bool = True, extra_fields: Optional[dict] = None):
    """Write an ENVI data file `path` plus `path`.hdr -> (data path, header path).

    Defaults: wavelengths in micrometres (to test unit conversion). `drop_fields` removes header
    fields (e.g. "samples") and `truncate_bytes` cuts the data file short, to test broken files.
    """
    if cube is None:
        cube = synthetic_scene()[0]
    h, w, b = cube.shape
    if wavelengths is None:
        wavelengths = [x / 1000.0 for x in WAVELENGTHS_NM]
    codes = {"uint8": 1, "int16": 2, "int32": 3, "float32": 4, "float64": 5, "uint16": 12}
    order = {"bsq": (2, 0, 1), "bil": (0, 2, 1), "bip": (0, 1, 2)}[interleave]
    data = Path(path)
    raw = np.ascontiguousarray(np.transpose(cube, order)).astype(cube.dtype.newbyteorder("<")).tobytes()
    if truncate_bytes:
        raw = raw[:-truncate_bytes]
    data.write_bytes(raw)
    fields = {
        "description": "{HyperSNN synthetic test scene}",
        "samples": str(w), "lines": str(h), "bands": str(b), "header offset": "0",
        "file type": "ENVI Standard", "data type": str(codes[cube.dtype.name]), "interleave": interleave,
        "byte order": "0",
    }
    if with_map_info:
        fields["map info"] = (f"{{UTM, 1.000, 1.000, {ORIGIN[0]}, {ORIGIN[1]}, {PIXEL}, {PIXEL}, 33, North, "
                              f"WGS-84, units=Meters}}")
    if wavelengths is not None:
        # Spread over two lines, as ENVI itself writes long lists.
        half = len(wavelengths) // 2
        fields["wavelength"] = ("{" + ", ".join(repr(float(x)) for x in wavelengths[:half]) + ",\n "
                                + ", ".join(repr(float(x)) for x in wavelengths[half:]) + "}")
        if units:
            fields["wavelength units"] = units
    if fwhm is not None:
        fields["fwhm"] = "{" + ", ".join(repr(float(x)) for x in fwhm) + "}"
    if bbl is not None:
        fields["bbl"] = "{" + ", ".join(str(int(x)) for x in bbl) + "}"
    if band_names is not None:
        fields["band names"] = "{" + ", ".join(band_names) + "}"
    if nodata is not None:
        fields["data ignore value"] = str(nodata)
    fields.update(extra_fields or {})
    for k in drop_fields:
        fields.pop(k, None)
    hdr = Path(str(data) + ".hdr") if data.suffix else data.with_suffix(".hdr")
    hdr.write_text("ENVI\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()))
    return data, hdr


def pixel_box(r0: int, c0: int, r1: int, c1: int) -> dict:
    """GeoJSON polygon (scene CRS) covering pixel rows r0..r1-1 and cols c0..c1-1 exactly."""
    x0, y0 = ORIGIN
    xa, xb = x0 + c0 * PIXEL, x0 + c1 * PIXEL
    ya, yb = y0 - r0 * PIXEL, y0 - r1 * PIXEL
    return {"type": "Polygon", "coordinates": [[(xa, ya), (xb, ya), (xb, yb), (xa, yb), (xa, ya)]]}


def make_polygons_gpkg(path, boxes: Sequence[tuple], *, field: str = "klass", field_type: str = "int",
                       crs: Optional[str] = "EPSG:4326", layer: str = "training",
                       extra_fields: Optional[dict] = None) -> Path:
    """Write polygons given as ((r0, c0, r1, c1), value) pixel boxes of the scene grid, reprojected to
    `crs` (None: no CRS, coordinates stay in the scene CRS)."""
    import fiona
    from rasterio.warp import transform_geom

    props = {field: field_type}
    props.update(extra_fields or {})
    schema = {"geometry": "Polygon", "properties": props}
    path = Path(path)
    with fiona.open(path, "w", driver="GPKG", schema=schema, crs=crs or None, layer=layer) as dst:
        for box, value in boxes:
            g = pixel_box(*box)
            if crs and crs != CRS:
                g = transform_geom(CRS, crs, g)
            rec = {field: value}
            rec.update({k: None for k in (extra_fields or {})})
            dst.write(fiona.Feature.from_dict(geometry=g, properties=rec))
    return path
