"""One I/O backend test suite, run against both backends on the same inputs (xarray's tests/test_backends.py style).

The command line reads and writes with rasterio and fiona (workflows/rasterio_backend.py), QGIS with GDAL and OGR
(plugin/io_gdal.GdalBackend). Every run goes through `workflows/backend.IOBackend`, so the two must give the same
answers: the same raster metadata and pixels, the same classes embedded in a written map, the same polygons with
the same warnings and errors. Copies that had drifted (issue 21): the OGR reader skipped the null-geometry count,
the all-null class-field check and the no-CRS warning, and a missing class raster gave ({}, {}) in one backend
and an error in the other. The inputs are written once, by the fixtures, and read by both.
"""
import warnings

import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.core.errors import LabelError, RasterError
from hypersnn.core.io.raster import OutputSpec


def _rasterio():
    from hypersnn.workflows.rasterio_backend import RasterioBackend

    return RasterioBackend()


def _gdal():
    pytest.importorskip("osgeo.gdal")
    from hypersnn.plugin.io_gdal import GdalBackend

    return GdalBackend()


BACKENDS = {"rasterio": _rasterio, "gdal": _gdal}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    return BACKENDS[request.param]()


@pytest.fixture
def inputs(tmp_path):
    """The same files for every backend: a GeoTIFF scene, an ENVI copy, polygons in another CRS (with a feature
    without geometry), polygons without a CRS, polygons whose class field is null everywhere."""
    import fiona

    cube, gt = fd.synthetic_scene()
    d = tmp_path / "in"
    d.mkdir()
    tif = fd.make_geotiff(d / "scene.tif")
    envi, _ = fd.make_envi(d / "scene.img", wavelengths=[w / 1000 for w in fd.WAVELENGTHS_NM])
    boxes = [((2, 2, 6, 8), 1), ((10, 12, 16, 20), 2), ((14, 2, 18, 6), 3)]
    polys = fd.make_polygons_gpkg(d / "train.gpkg", boxes)
    with fiona.open(polys, "a", layer="training") as dst:  # a feature without geometry
        dst.write(fiona.Feature.from_dict(geometry=None, properties={"klass": 2}))
    no_crs = fd.make_polygons_gpkg(d / "nocrs.gpkg", boxes, crs=None)
    empty = fd.make_polygons_gpkg(d / "null.gpkg", [(b, None) for b, _ in boxes])
    return {"cube": cube, "tif": tif, "envi": envi, "polys": polys, "no_crs": no_crs, "null": empty,
            "boxes": boxes, "dir": d}


def _summary(backend, inputs, out_dir) -> dict:
    """What a run reads and writes through `backend`, as plain values to compare."""
    out = {}
    for key in ("tif", "envi"):
        r = backend.open_raster(inputs[key])
        i = r.info
        out[key] = {"shape": (i.height, i.width, i.count), "transform": tuple(i.transform), "nodata": i.nodata,
                    "wavelengths": [round(w, 3) for w in i.wavelengths], "pixels": r.read().tolist()}
        close = getattr(r, "close", None)
        if close:
            close()
    info = backend.open_raster(inputs["tif"]).info
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feats = backend.read_polygons(str(inputs["polys"]), "klass", info.crs_wkt)
    out["polygon_values"] = sorted(f.value for f in feats)
    out["polygon_warnings"] = sorted(str(w.message).split(": ", 1)[1] for w in caught)
    burnt = backend.rasterize([(f.geometry, f.value) for f in feats], info)
    out["rasterized"] = burnt.tolist()
    spec = OutputSpec(str(out_dir / "classes.tif"), info, 1, "uint8", nodata=0, band_names=["class"],
                      colors={1: (230, 25, 75), 2: (0, 130, 200), 3: (60, 180, 75)},
                      category_names={1: "corn", 2: "water", 3: "wheat"})
    w = backend.open_writer(spec)
    w.write((0, 0, info.height, info.width), burnt.astype(np.uint8)[:, :, None])
    w.close()
    names, colors = backend.read_class_metadata(spec.path)
    out["class_names"] = names
    out["class_colors"] = {v: tuple(colors[v]) for v in (1, 2, 3)}
    return out


def test_a_scene_its_polygons_and_a_written_class_map_read_as_expected(backend, inputs, tmp_path):
    s = _summary(backend, inputs, tmp_path)
    cube = inputs["cube"]
    for key in ("tif", "envi"):
        assert s[key]["shape"] == (fd.H, fd.W, fd.B) and s[key]["nodata"] == fd.NODATA
        assert s[key]["wavelengths"] == [round(w, 3) for w in fd.WAVELENGTHS_NM]  # ENVI's micrometres as nm
        assert np.array_equal(np.array(s[key]["pixels"]), cube)
    assert s["polygon_values"] == [1, 2, 3]
    assert s["polygon_warnings"] == ["1 feature(s) without geometry were skipped"]
    burnt = np.array(s["rasterized"])
    for (r0, c0, r1, c1), v in inputs["boxes"]:
        assert (burnt[r0:r1, c0:c1] == v).all()  # reprojected from EPSG:4326 back onto the pixels
    assert int((burnt > 0).sum()) == sum((r1 - r0) * (c1 - c0) for (r0, c0, r1, c1), _ in inputs["boxes"])
    assert s["class_names"] == {1: "corn", 2: "water", 3: "wheat"}
    assert s["class_colors"] == {1: (230, 25, 75), 2: (0, 130, 200), 3: (60, 180, 75)}


def test_both_backends_give_the_same_answers(inputs, tmp_path):
    answers = {}
    for name, make in BACKENDS.items():
        out = tmp_path / name
        out.mkdir()
        answers[name] = _summary(make(), inputs, out)
    assert answers["rasterio"] == answers["gdal"]


def test_vector_problems_are_the_same_errors_and_warnings(backend, inputs):
    info = backend.open_raster(inputs["tif"]).info
    with pytest.warns(UserWarning, match="the vector has no CRS; assuming the polygons and the raster use the same"):
        feats = backend.read_polygons(str(inputs["no_crs"]), "klass", info.crs_wkt)
    assert sorted(f.value for f in feats) == [1, 2, 3]
    with pytest.raises(LabelError, match="Class field 'klass' of .*null.gpkg is empty \\(null\\) in every feature"):
        backend.read_polygons(str(inputs["null"]), "klass", info.crs_wkt)
    with pytest.raises(LabelError, match="Class field 'kind' not found in .*train.gpkg; available fields: klass"):
        backend.read_polygons(str(inputs["polys"]), "kind", info.crs_wkt)
    with pytest.raises(LabelError, match="Layer 'other' not found in .*train.gpkg; layers: training"):
        backend.read_polygons(str(inputs["polys"]), "klass", info.crs_wkt, layer="other")
    with pytest.raises(LabelError, match="Training vector not found: .*missing.gpkg"):
        backend.read_polygons(str(inputs["dir"] / "missing.gpkg"), "klass", info.crs_wkt)


def test_missing_and_junk_rasters_are_errors_naming_the_file(backend, inputs):
    missing = inputs["dir"] / "missing.tif"
    with pytest.raises(RasterError, match="not found: .*missing.tif"):
        backend.open_raster(missing)
    with pytest.raises(RasterError, match="not found: .*missing.tif"):
        backend.read_class_metadata(missing)
    junk = inputs["dir"] / "junk.tif"
    junk.write_bytes(b"not a tiff")
    with pytest.raises(RasterError, match="junk.tif"):
        backend.open_raster(junk)


def test_one_crs_written_two_ways_is_the_same_crs(backend):
    from rasterio.crs import CRS

    utm15 = CRS.from_epsg(32615)
    esri = utm15.to_wkt(version="WKT1_ESRI")  # as ENVI headers and .prj files write it
    assert utm15.to_wkt() != esri
    assert backend.same_crs(utm15.to_wkt(), esri)
    assert not backend.same_crs(utm15.to_wkt(), CRS.from_epsg(32616).to_wkt())


def test_points_written_are_read_back(backend, inputs, tmp_path):
    from hypersnn.workflows.backend import PointField

    info = backend.open_raster(inputs["tif"]).info
    xs = [fd.ORIGIN[0] + 45.0, fd.ORIGIN[0] + 345.0]
    ys = [fd.ORIGIN[1] - 45.0, fd.ORIGIN[1] - 195.0]
    path = tmp_path / "points.gpkg"
    backend.write_points(str(path), info.crs_wkt, xs, ys, [PointField("map_value", "int", [2, 3]),
                                                           PointField("map_class", "str", ["water", None])],
                         "validation_points")
    feats = backend.read_polygons(str(path), "map_value", info.crs_wkt)
    assert sorted((f.value, tuple(round(c, 6) for c in f.geometry["coordinates"][:2])) for f in feats) == \
        [(2, (xs[0], ys[0])), (3, (xs[1], ys[1]))]
