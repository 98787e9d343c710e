"""rasterio/fiona readers and writers on real tiny files."""
import json
import os

import numpy as np
import pytest
import rasterio

import fixtures_data as fd
from hypersnn.core.errors import LabelError, OutputError, RasterError
from hypersnn.workflows.rasterio_reader import open_raster, read_class_metadata
from hypersnn.workflows.rasterio_vectors import rasterize, read_polygons
from hypersnn.workflows.rasterio_writer import RasterioWriter
from hypersnn.core.data.labels import labels_from_polygons
from hypersnn.core.io.raster import OutputSpec, RasterInfo


# ------------------------------------------------------------------ reading


def test_geotiff_info_reports_grid_crs_nodata_and_wavelengths(geotiff):
    with open_raster(geotiff) as r:
        info = r.info
    assert (info.height, info.width, info.count, info.dtype) == (fd.H, fd.W, fd.B, "int16")
    assert info.transform == fd.GDAL_TRANSFORM
    assert "UTM zone 33N" in info.crs_wkt
    assert info.nodata == fd.NODATA
    assert info.scales is None and info.offsets is None
    assert info.band_names == [f"Band {i}" for i in range(1, fd.B + 1)]
    assert info.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)
    assert info.fwhm is None and info.bad_bands is None
    assert info.path == str(geotiff)


def test_geotiff_read_returns_rows_cols_bands_for_window_and_band_subset(geotiff, scene):
    cube, _ = scene
    with open_raster(geotiff) as r:
        full = r.read()
        part = r.read((2, 3, 5, 4), [0, 5, 11])
    assert full.dtype == np.int16 and np.array_equal(full, cube)
    assert part.shape == (5, 4, 3)
    assert np.array_equal(part, cube[2:7, 3:7][:, :, [0, 5, 11]])


def test_micrometre_wavelengths_and_fwhm_are_converted_to_nanometres(tmp_path):
    um = [w / 1000 for w in fd.WAVELENGTHS_NM]
    p = fd.make_geotiff(tmp_path / "um.tif", wavelengths=um, units="Micrometers", fwhm=[0.012] * fd.B)
    info = open_raster(p).info
    assert info.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)
    assert info.fwhm == pytest.approx([12.0] * fd.B)


def test_wavelengths_without_units_below_30_are_taken_as_micrometres(tmp_path):
    um = [w / 1000 for w in fd.WAVELENGTHS_NM]
    p = fd.make_geotiff(tmp_path / "nounit.tif", wavelengths=um, units=None)
    assert open_raster(p).info.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)
    p2 = fd.make_geotiff(tmp_path / "nounit_nm.tif", units=None)
    assert open_raster(p2).info.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)


def test_bbl_and_fwhm_in_envi_domain_band_metadata_are_read(tmp_path):
    bbl = [1] * fd.B
    bbl[3] = 0
    p = fd.make_geotiff(tmp_path / "envidomain.tif", fwhm=[10.0] * fd.B, bbl=bbl, envi_domain=True)
    info = open_raster(p).info
    assert info.bad_bands == [i == 3 for i in range(fd.B)]
    assert info.fwhm == pytest.approx([10.0] * fd.B)
    assert info.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)


def test_band_descriptions_become_band_names(tmp_path):
    names = [f"refl {i}" for i in range(fd.B)]
    p = fd.make_geotiff(tmp_path / "named.tif", descriptions=names)
    assert open_raster(p).info.band_names == names


def test_scale_and_offset_give_float32_with_nodata_left_recognisable(tmp_path, scene):
    cube, _ = scene
    p = fd.make_geotiff(tmp_path / "scaled.tif", scales=[0.5] * fd.B, offsets=[1.0] * fd.B)
    with open_raster(p) as r:
        assert r.info.scales == [0.5] * fd.B and r.info.offsets == [1.0] * fd.B
        assert r.info.dtype == "float32"
        a = r.read()
    assert a.dtype == np.float32
    assert a[1, 1, 0] == pytest.approx(cube[1, 1, 0] * 0.5 + 1.0)
    assert a[0, 0, 0] == fd.NODATA  # nodata is not scaled, so `a == info.nodata` still finds it


def test_envi_opened_by_data_file_or_header_converts_um_and_flags_bad_bands(tmp_path, scene):
    cube, _ = scene
    bbl = [1] * fd.B
    bbl[0] = bbl[-1] = 0
    names = [f"ch{i}" for i in range(fd.B)]
    data, hdr = fd.make_envi(tmp_path / "s.img", interleave="bil", fwhm=[0.01] * fd.B, bbl=bbl, band_names=names)
    for p in (data, hdr):
        with open_raster(p) as r:
            info = r.info
            assert np.array_equal(r.read(), cube)
        assert info.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)
        assert info.fwhm == pytest.approx([10.0] * fd.B)
        assert info.bad_bands == [b == 0 for b in bbl]
        assert info.band_names == names
        assert info.nodata == fd.NODATA
        assert info.transform == fd.GDAL_TRANSFORM
        assert info.crs_wkt


def test_envi_header_with_a_latin1_byte_is_read(tmp_path):
    data, hdr = fd.make_envi(tmp_path / "odd.img")
    raw = hdr.read_bytes().replace(b"HyperSNN synthetic", "Aufnahme \u00fcber Feld".encode("latin-1"))
    hdr.write_bytes(raw)  # a Latin-1 byte, as old ENVI headers have: not valid UTF-8
    info = open_raster(data).info
    assert info.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)


def test_envi_header_with_unclosed_brace_names_the_field(tmp_path):
    data, hdr = fd.make_envi(tmp_path / "open.img", band_names=[f"b{i}" for i in range(fd.B)])
    hdr.write_text(hdr.read_text().replace("b11}", "b11"))
    with pytest.raises(RasterError, match=r"open\.img\.hdr.*'band names'.*never closes"):
        open_raster(data)


def test_envi_header_without_samples_names_header_and_field(tmp_path):
    data, hdr = fd.make_envi(tmp_path / "broken.img", drop_fields=["samples"])
    with pytest.raises(RasterError, match=r"broken\.img\.hdr.*'samples'"):
        open_raster(data)


def test_truncated_envi_data_reports_expected_and_actual_bytes(tmp_path):
    data, hdr = fd.make_envi(tmp_path / "short.img", truncate_bytes=100)
    expected = fd.H * fd.W * fd.B * 2
    with pytest.raises(RasterError, match=rf"truncated.*{expected} bytes.*{expected - 100} bytes"):
        open_raster(hdr)


def test_missing_raster_path_is_named_in_error(tmp_path):
    missing = tmp_path / "nope.tif"
    with pytest.raises(RasterError, match="nope.tif"):
        open_raster(missing)


def test_reading_outside_the_raster_or_a_missing_band_is_refused(geotiff):
    with open_raster(geotiff) as r:
        with pytest.raises(RasterError, match="outside"):
            r.read((15, 0, 10, 5))
        with pytest.raises(RasterError, match="Band 13"):
            r.read(bands=[12])


# ------------------------------------------------------------------ writing


def _class_spec(path, like, **kw):
    return OutputSpec(path=str(path), like=like, count=1, dtype="uint8", nodata=0, band_names=["class"],
                      colors={1: (255, 0, 0), 2: (0, 255, 0), 3: (0, 0, 255)},
                      category_names={1: "water", 2: "grass", 3: "road"}, **kw)


def test_writer_creates_tiled_deflate_geotiff_with_colormap_and_class_names(geotiff, tmp_path, scene):
    _, gt = scene
    like = open_raster(geotiff).info
    out = tmp_path / "map.tif"
    w = RasterioWriter(_class_spec(out, like))
    w.write((0, 0, 10, fd.W), gt[:10])
    w.write((10, 0, 10, fd.W), gt[10:, :, None])
    assert not out.exists()  # nothing at the destination before close()
    w.close()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with rasterio.open(out) as ds:
        assert np.array_equal(ds.read(1), gt)
        assert ds.transform.to_gdal() == fd.GDAL_TRANSFORM
        assert ds.crs.to_epsg() == 32633
        assert ds.nodata == 0
        assert ds.profile["tiled"] and ds.compression.name.lower() == "deflate"
        assert ds.colormap(1)[2] == (0, 255, 0, 255)
        assert json.loads(ds.tags(1)["class_names"]) == {"1": "water", "2": "grass", "3": "road"}
        assert ds.descriptions == ("class",)
    names, colors = read_class_metadata(out)
    assert names == {1: "water", 2: "grass", 3: "road"}
    assert colors == {1: (255, 0, 0), 2: (0, 255, 0), 3: (0, 0, 255)}


def test_class_metadata_of_a_plain_raster_is_empty(geotiff):
    assert read_class_metadata(geotiff) == ({}, {})


def test_writer_replaces_existing_file_only_on_close(geotiff, tmp_path):
    like = open_raster(geotiff).info
    out = tmp_path / "map.tif"
    with RasterioWriter(_class_spec(out, like)) as w:
        w.write((0, 0, fd.H, fd.W), np.ones((fd.H, fd.W), np.uint8))
    w2 = RasterioWriter(_class_spec(out, like))
    w2.write((0, 0, fd.H, fd.W), np.full((fd.H, fd.W), 2, np.uint8))
    with rasterio.open(out) as ds:
        assert (ds.read(1) == 1).all()
    w2.close()
    with rasterio.open(out) as ds:
        assert (ds.read(1) == 2).all()


def test_writer_abort_keeps_previous_file_and_removes_temp(geotiff, tmp_path):
    like = open_raster(geotiff).info
    out = tmp_path / "map.tif"
    with RasterioWriter(_class_spec(out, like)) as w:
        w.write((0, 0, fd.H, fd.W), np.ones((fd.H, fd.W), np.uint8))
    before = out.read_bytes()
    aux_before = (tmp_path / "map.tif.aux.xml").read_bytes()  # category names sidecar
    with pytest.raises(KeyboardInterrupt):
        with RasterioWriter(_class_spec(out, like)) as w:
            w.write((0, 0, fd.H, fd.W), np.full((fd.H, fd.W), 3, np.uint8))
            raise KeyboardInterrupt  # a cancel mid-write aborts
    assert out.read_bytes() == before
    assert (tmp_path / "map.tif.aux.xml").read_bytes() == aux_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.tif", "map.tif.aux.xml", "scene.tif"]


def test_writer_refuses_the_input_raster_as_output(geotiff):
    like = open_raster(geotiff).info
    with pytest.raises(OutputError, match="is the input"):
        RasterioWriter(_class_spec(geotiff, like))


def test_writer_refuses_missing_output_folder(geotiff, tmp_path):
    like = open_raster(geotiff).info
    with pytest.raises(OutputError, match="does not exist"):
        RasterioWriter(_class_spec(tmp_path / "no" / "map.tif", like))


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_writer_refuses_read_only_folder(geotiff, tmp_path):
    like = open_raster(geotiff).info
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            RasterioWriter(_class_spec(ro / "map.tif", like))
    finally:
        ro.chmod(0o700)


def test_writer_on_ungeoreferenced_grid_writes_multiband_float(tmp_path):
    like = RasterInfo(width=5, height=4, count=1, dtype="uint8")
    out = tmp_path / "prob.tif"
    with RasterioWriter(OutputSpec(str(out), like, count=2, dtype="float32", band_names=["p1", "p2"])) as w:
        w.write((0, 0, 4, 5), np.random.default_rng(0).random((4, 5, 2)))
    assert open_raster(out).info.band_names == ["p1", "p2"]


# ------------------------------------------------------------------ vectors


def test_polygons_in_another_crs_are_reprojected_onto_the_right_pixels(geotiff, polygons_gpkg, scene):
    info = open_raster(geotiff).info
    feats = read_polygons(polygons_gpkg, "klass", info.crs_wkt)
    assert [f.value for f in feats] == [1, 2, 3]
    labels = labels_from_polygons(feats, info, rasterize)
    expect = np.zeros((fd.H, fd.W), np.int32)
    expect[2:6, 1:5], expect[3:7, 9:14], expect[12:18, 17:22] = 1, 2, 3
    assert np.array_equal(labels.array, expect)
    _, gt = scene
    assert (gt[labels.array > 0] == labels.array[labels.array > 0]).all()  # polygons sit on their classes


def test_vector_without_crs_is_assumed_in_raster_crs_with_warning(tmp_path, geotiff):
    p = fd.make_polygons_gpkg(tmp_path / "nocrs.gpkg", [((2, 1, 6, 5), 1)], crs=None)
    info = open_raster(geotiff).info
    with pytest.warns(UserWarning, match="no CRS"):
        feats = read_polygons(p, "klass", info.crs_wkt)
    assert labels_from_polygons(feats, info, rasterize).array[2:6, 1:5].min() == 1


def test_text_class_field_values_are_returned_as_text(tmp_path, geotiff):
    p = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), "wheat"), ((3, 9, 7, 14), "corn")],
                              field="crop", field_type="str")
    feats = read_polygons(p, "crop", open_raster(geotiff).info.crs_wkt)
    assert [f.value for f in feats] == ["wheat", "corn"]
    assert all(isinstance(f.fid, int) for f in feats)


def test_missing_class_field_lists_available_fields(polygons_gpkg, geotiff):
    with pytest.raises(LabelError, match=r"'landuse' not found.*available fields: klass"):
        read_polygons(polygons_gpkg, "landuse", open_raster(geotiff).info.crs_wkt)


def test_all_null_class_field_is_refused(tmp_path, geotiff):
    p = fd.make_polygons_gpkg(tmp_path / "null.gpkg", [((2, 1, 6, 5), None), ((3, 9, 7, 14), None)])
    with pytest.raises(LabelError, match="empty"):
        read_polygons(p, "klass", open_raster(geotiff).info.crs_wkt)


def test_empty_layer_and_missing_vector_are_refused(tmp_path, geotiff):
    wkt = open_raster(geotiff).info.crs_wkt
    p = fd.make_polygons_gpkg(tmp_path / "empty.gpkg", [])
    with pytest.raises(LabelError, match="no features"):
        read_polygons(p, "klass", wkt)
    with pytest.raises(LabelError, match="missing.gpkg"):
        read_polygons(tmp_path / "missing.gpkg", "klass", wkt)


def test_rasterize_burns_pixel_centres_only(geotiff):
    info = open_raster(geotiff).info
    g = fd.pixel_box(1, 1, 3, 4)
    # shrink by less than half a pixel: centres still inside
    x0 = fd.ORIGIN[0]
    g["coordinates"][0] = [(x + (10 if x == x0 + 30 else -10 if x == x0 + 120 else 0), y)
                           for x, y in g["coordinates"][0]]
    out = rasterize([(g, 7)], info)
    assert out.dtype == np.int32 and out.shape == (fd.H, fd.W)
    assert np.argwhere(out == 7).tolist() == [[r, c] for r in (1, 2) for c in (1, 2, 3)]


def test_class_names_reach_gdal_as_category_names(tmp_path):
    """QGIS reads class names through GDAL: check with the system GDAL in a separate process
    (rasterio's own GDAL and osgeo must never share a process)."""
    import subprocess
    from hypersnn.workflows.rasterio_writer import RasterioWriter
    from hypersnn.core.io.raster import OutputSpec, RasterInfo
    info = RasterInfo(width=4, height=3, count=1, dtype="uint8", crs_wkt="", path="")
    out = tmp_path / "classes.tif"
    w = RasterioWriter(OutputSpec(str(out), info, 1, "uint8", nodata=0, colors={1: (255, 0, 0), 3: (0, 0, 255)},
                                  category_names={1: "Water & <Wet>", 3: "Woods"}))
    w.write((0, 0, 3, 4), np.array([[1, 3, 3, 0]] * 3, np.uint8))
    w.close()
    # GTiff loads the PAM sidecar lazily: GetMetadata() first, as gdalinfo and QGIS do
    code = ("from osgeo import gdal; ds = gdal.Open(%r); b = ds.GetRasterBand(1); b.GetMetadata(); "
            "print(b.GetCategoryNames()); print(b.GetColorTable().GetColorEntry(3))" % str(out))
    r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True)
    if r.returncode != 0 and "No module named 'osgeo'" in r.stderr:
        pytest.skip("python3-gdal not installed")
    assert r.returncode == 0, r.stderr
    assert "['', 'Water & <Wet>', '', 'Woods']" in r.stdout
    assert "(0, 0, 255, 255)" in r.stdout


def test_envi_reflectance_scale_factor_is_applied_on_read(tmp_path):
    """ENVI stores reflectance x `reflectance scale factor` (e.g. 10000): the readers divide by it, as GDAL's own
    scale/offset would (the GDAL reader shares the rule: core/io/spectral_meta.resolve_scaling)."""
    import fixtures_data as fd
    from hypersnn.workflows.rasterio_reader import open_raster

    cube = fd.synthetic_scene()[0]
    data, hdr = fd.make_envi(tmp_path / "refl.img", cube, extra_fields={"reflectance scale factor": "10000"})
    with open_raster(hdr) as r:
        a = r.read((2, 3, 4, 5))
        assert r.info.scales == [1e-4] * 12 and r.info.dtype == "float32"
    np.testing.assert_allclose(a, cube[2:6, 3:8].astype(np.float32) / 10000, rtol=1e-6)
    data, hdr = fd.make_envi(tmp_path / "bad.img", cube, extra_fields={"reflectance scale factor": "zero"})
    with pytest.warns(UserWarning, match="reflectance scale factor.*not a positive number"):
        with open_raster(hdr) as r:
            assert r.info.scales is None
