"""Tiny synthetic test data written with osgeo.gdal/ogr only (no rasterio in a QGIS process).

The scene: 20 rows x 24 cols, 12 int16 bands, a UTM 33N grid with 30 m pixels, three classes in
column blocks of 8 whose spectra differ in shape (rising, falling, peaked), a few nodata pixels, and
EnMAP-Box style band metadata (wavelength + wavelength_units per band). Polygons are written in
EPSG:4326 by default, so every training run exercises reprojection to the raster's CRS.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from osgeo import gdal, ogr, osr

from fixtures_data import band_tags  # tests/ is on sys.path (tests/conftest.py imports it too)

H, W, B = 20, 24, 12
EPSG = 32633
ORIGIN = (500000.0, 5000000.0)
PIXEL = 30.0
NODATA = -9999
WAVELENGTHS_NM = [float(w) for w in np.linspace(450.0, 2350.0, B)]
NODATA_PIXELS = [(0, 0), (19, 23)]
CLASS_NAMES = {1: "meadow", 2: "forest", 3: "bare soil"}
CLASS_COLORS = {1: (60, 180, 75), 2: (0, 100, 0), 3: (170, 110, 40)}

# (r0, c0, r1, c1) pixel boxes, class value
TRAIN_BOXES = [((1, 1, 10, 7), 1), ((1, 9, 10, 15), 2), ((1, 17, 10, 23), 3)]
VALID_BOXES = [((12, 1, 19, 7), 1), ((12, 9, 19, 15), 2), ((12, 17, 19, 23), 3)]

# tiny training settings: a run takes a few seconds on two cores
TINY = {
    "split": {"method": "random", "train_fraction": 0.5, "val_fraction": 0.1},
    "preprocess": {"pca_components": 0},
    "model": {"arch": "hybrid", "patch_size": 5, "conv3d_channels": [4], "conv3d_spectral_kernels": [3],
              "conv2d_channels": [8], "dense": [16], "dropout": 0.0},
    "train": {"cnn_epochs": 2, "snn_epochs": 1, "time_steps": 2, "weight_bits": 6, "batch_size": 32,
              "patience": 0, "threads": 0},
    "classify": {"window": 16},
}


def tiny_config(**overrides):
    from hypersnn.core.config.schema import RunConfig

    d = json.loads(json.dumps(TINY))
    for section, values in overrides.items():
        d.setdefault(section, {}).update(values)
    return RunConfig.from_dict(d)


def write_tiny_config(path, **overrides) -> Path:
    d = json.loads(json.dumps(TINY))
    for section, values in overrides.items():
        d.setdefault(section, {}).update(values)
    Path(path).write_text(json.dumps(d, indent=1))
    return Path(path)


def scene(seed: int = 0, bands: int = B):
    """(cube (H, W, bands) int16, gt (H, W) uint8)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, bands)
    spectra = np.stack([1000 + 2000 * t, 3000 - 2000 * t, 1000 + 2500 * np.exp(-((t - 0.5) ** 2) / 0.02)])
    cls = np.repeat(np.arange(3), 8)[None, :].repeat(H, 0)
    cube = np.round(spectra[cls] + rng.normal(0, 40, (H, W, bands))).astype(np.int16)
    gt = (cls + 1).astype(np.uint8)
    for r, c in NODATA_PIXELS:
        cube[r, c, :] = NODATA
        gt[r, c] = 0
    return cube, gt


def srs(epsg: int) -> osr.SpatialReference:
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def make_raster(path, cube: Optional[np.ndarray] = None, *, wavelengths=WAVELENGTHS_NM, units="Nanometers",
                bbl: Optional[Sequence[int]] = None, epsg: int = EPSG, nodata=NODATA, envi_domain=False,
                colors: Optional[dict] = None, names: Optional[dict] = None, origin=ORIGIN) -> Path:
    if cube is None:
        cube = scene()[0]
    if cube.ndim == 2:
        cube = cube[:, :, None]
    h, w, b = cube.shape
    gtype = {"int16": gdal.GDT_Int16, "uint8": gdal.GDT_Byte, "float32": gdal.GDT_Float32,
             "uint16": gdal.GDT_UInt16, "int32": gdal.GDT_Int32}[cube.dtype.name]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, b, gtype)
    ds.SetGeoTransform((origin[0], PIXEL, 0.0, origin[1], 0.0, -PIXEL))
    ds.SetProjection(srs(epsg).ExportToWkt())
    if colors:  # before the pixels: libtiff cannot change the photometric tag once data is written (an error
        # under GDAL's exception mode, which QGIS 3.40+ Processing turns on)
        ct = gdal.ColorTable()
        for v, c in colors.items():
            ct.SetColorEntry(int(v), tuple(c) + (255,))
        ds.GetRasterBand(1).SetRasterColorTable(ct)
    for i in range(b):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(cube[:, :, i])
        if nodata is not None:
            band.SetNoDataValue(nodata)
        md = band_tags(i, wavelengths, units, bbl=bbl)
        if md:
            band.SetMetadata(md, "ENVI" if envi_domain else "")
    if names:
        cats = [""] * (max(names) + 1)
        for v, n in names.items():
            cats[v] = n
        ds.GetRasterBand(1).SetCategoryNames(cats)
    ds = None
    return Path(path)


def make_labels(path) -> Path:
    return make_raster(path, scene()[1], wavelengths=None, nodata=0, colors=CLASS_COLORS, names=CLASS_NAMES)


def box_ring(r0, c0, r1, c1):
    x0, y0 = ORIGIN
    xa, xb = x0 + c0 * PIXEL, x0 + c1 * PIXEL
    ya, yb = y0 - r0 * PIXEL, y0 - r1 * PIXEL
    return [(xa, ya), (xb, ya), (xb, yb), (xa, yb), (xa, ya)]


def make_polygons(path, boxes=TRAIN_BOXES, *, field: str = "klass", text: bool = False, epsg: int = 4326,
                  layer: str = "training", field_type: Optional[int] = None) -> Path:
    """GeoPackage polygons from (pixel box, value) pairs on the scene grid, written in `epsg` (default WGS 84).

    The values are class values, written as integers or, with `text`, as class names. With `field_type` (an
    ogr.OFT* type) they are written as given instead and None as a NULL field: the odd training data of the
    robustness tests (robust_plugin.make_polygon_values)."""
    if field_type is None:
        field_type = ogr.OFTString if text else ogr.OFTInteger
        boxes = [(box, CLASS_NAMES[value] if text else int(value)) for box, value in boxes]
    path = Path(path)
    if path.exists():
        path.unlink()
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    lyr = ds.CreateLayer(layer, srs(epsg), ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn(field, field_type))
    ct = osr.CoordinateTransformation(srs(EPSG), srs(epsg)) if epsg != EPSG else None
    for (r0, c0, r1, c1), value in boxes:
        ring = ogr.Geometry(ogr.wkbLinearRing)
        # shrink a little so edges never sit exactly on pixel centres after reprojection
        for x, y in box_ring(r0 + 0.02, c0 + 0.02, r1 - 0.02, c1 - 0.02):
            ring.AddPoint_2D(x, y)
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        if ct is not None:
            poly.Transform(ct)
        f = ogr.Feature(lyr.GetLayerDefn())
        if value is None:
            f.SetFieldNull(field)
        else:
            f.SetField(field, value)
        f.SetGeometry(poly)
        lyr.CreateFeature(f)
    ds = None
    return path
