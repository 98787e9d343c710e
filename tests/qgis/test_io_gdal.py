"""GDAL/OGR/QGIS I/O of the plugin: reader metadata, atomic writer, polygons (reprojected), rasterize."""
import json
import os

import numpy as np
import pytest
from osgeo import gdal, osr

import data as D


def test_reader_info_and_read(tmp_path):
    from hypersnn.plugin.io_gdal import open_raster

    p = D.make_raster(tmp_path / "s.tif", bbl=[1] * 10 + [0, 0])
    r = open_raster(p)
    i = r.info
    assert (i.width, i.height, i.count, i.dtype) == (24, 20, 12, "int16")
    assert i.wavelengths == pytest.approx(D.WAVELENGTHS_NM)
    assert i.bad_bands == [False] * 10 + [True, True]
    assert i.nodata == D.NODATA
    srs = osr.SpatialReference(wkt=i.crs_wkt)
    assert (srs.GetAuthorityName(None), srs.GetAuthorityCode(None)) == ("EPSG", "32633"), i.crs_wkt
    assert i.transform == (D.ORIGIN[0], D.PIXEL, 0.0, D.ORIGIN[1], 0.0, -D.PIXEL)
    a = r.read((2, 3, 5, 6), [1, 4])
    assert a.shape == (5, 6, 2)
    assert np.array_equal(a, D.scene()[0][2:7, 3:9][:, :, [1, 4]])
    assert r.read().shape == (20, 24, 12)
    with pytest.raises(Exception, match="outside"):
        r.read((15, 0, 10, 5))
    r.close()


def test_reader_micrometres_and_envi_domain(tmp_path):
    from hypersnn.plugin.io_gdal import raster_info

    um = [w / 1000 for w in D.WAVELENGTHS_NM]
    i = raster_info(D.make_raster(tmp_path / "um.tif", wavelengths=um, units="Micrometers", envi_domain=True))
    assert i.wavelengths == pytest.approx(D.WAVELENGTHS_NM)
    i = raster_info(D.make_raster(tmp_path / "none.tif", wavelengths=None))
    assert i.wavelengths is None and i.band_names[0] == "Band 1"


def test_reader_envi_header(tmp_path):
    from hypersnn.plugin.io_gdal import raster_info

    cube = D.scene()[0]
    data = tmp_path / "e.img"
    np.ascontiguousarray(cube.transpose(2, 0, 1)).astype("<i2").tofile(data)
    wl = ", ".join(str(w / 1000) for w in D.WAVELENGTHS_NM)
    (tmp_path / "e.hdr").write_text(
        "ENVI\nsamples = 24\nlines = 20\nbands = 12\nheader offset = 0\nfile type = ENVI Standard\n"
        "data type = 2\ninterleave = bsq\nbyte order = 0\n"
        f"wavelength units = Micrometers\nwavelength = {{{wl}}}\nbbl = {{{', '.join(['1'] * 11 + ['0'])}}}\n"
        "data ignore value = -9999\n")
    for p in (data, tmp_path / "e.hdr"):
        i = raster_info(p)
        assert i.count == 12 and i.wavelengths == pytest.approx(D.WAVELENGTHS_NM)
        assert i.bad_bands[-1] is True and i.nodata == -9999


def test_reader_errors_name_the_file(tmp_path):
    from hypersnn.core.errors import RasterError
    from hypersnn.plugin.io_gdal import open_raster

    with pytest.raises(RasterError, match="not found"):
        open_raster(tmp_path / "missing.tif")
    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    with pytest.raises(RasterError, match="junk.tif"):
        open_raster(tmp_path / "junk.tif")


def test_bad_files_give_the_same_errors_in_gdals_exception_mode(tmp_path):
    """QGIS 3.40+ turns GDAL's exception mode on as soon as its Processing GDAL provider loads (QGIS 3.22 with GDAL
    3.6 leaves it off): a junk raster or vector then raised GDAL's bare RuntimeError instead of the message that
    names the file (seen in the QGIS 3.44 test tree). Both modes must give the same errors and results."""
    from hypersnn.core.errors import LabelError, RasterError
    from hypersnn.plugin.gdal_writer import GdalWriter
    from hypersnn.plugin.io_gdal import open_raster, read_class_metadata
    from hypersnn.plugin.ogr_vectors import read_polygons_ogr

    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage")
    was = gdal.GetUseExceptions()
    gdal.UseExceptions()
    try:
        with pytest.raises(RasterError, match="junk.tif"):
            open_raster(tmp_path / "junk.tif")
        with pytest.raises(LabelError, match="junk.gpkg"):
            read_polygons_ogr(tmp_path / "junk.gpkg", "class", "")
        assert read_class_metadata(tmp_path / "junk.tif") == ({}, {})
        w = GdalWriter(_spec(tmp_path, nodata=0, colors={1: (230, 25, 75)}, category_names={1: "corn"}))
        w.write((0, 0, 20, 24), np.ones((20, 24), np.uint8))
        w.close()
        names, colors = read_class_metadata(tmp_path / "out.tif")
        assert names == {1: "corn"} and colors[1] == (230, 25, 75)
    finally:
        if not was:
            gdal.DontUseExceptions()


def _spec(tmp_path, name="out.tif", **kw):
    from hypersnn.core.io.raster import OutputSpec
    from hypersnn.plugin.io_gdal import raster_info

    like = raster_info(D.make_raster(tmp_path / "like.tif"))
    return OutputSpec(str(tmp_path / name), like, kw.pop("count", 1), kw.pop("dtype", "uint8"), **kw)


def test_writer_is_atomic_and_embeds_classes(tmp_path):
    from hypersnn.plugin.gdal_writer import GdalWriter
    from hypersnn.plugin.io_gdal import read_class_metadata

    spec = _spec(tmp_path, nodata=0, band_names=["class"], colors={1: (230, 25, 75), 3: (0, 130, 200)},
                 category_names={1: "corn", 3: "wheat"})
    w = GdalWriter(spec)
    w.write((0, 0, 20, 24), np.full((20, 24), 3, np.uint8))
    assert not os.path.exists(spec.path)  # nothing at the destination until close()
    w.close()
    assert os.listdir(tmp_path) and not [f for f in os.listdir(tmp_path) if ".tmp-" in f]
    names, colors = read_class_metadata(spec.path)
    assert names == {1: "corn", 3: "wheat"}
    assert colors[1] == (230, 25, 75) and colors[3] == (0, 130, 200)
    ds = gdal.Open(spec.path)
    assert ds.GetRasterBand(1).GetNoDataValue() == 0 and ds.GetRasterBand(1).GetDescription() == "class"
    assert ds.GetGeoTransform() == (D.ORIGIN[0], D.PIXEL, 0.0, D.ORIGIN[1], 0.0, -D.PIXEL)
    assert json.loads(ds.GetRasterBand(1).GetMetadataItem("class_names")) == {"1": "corn", "3": "wheat"}
    assert int(ds.ReadAsArray().max()) == 3


def test_writer_abort_keeps_previous_file(tmp_path):
    from hypersnn.plugin.gdal_writer import GdalWriter

    spec = _spec(tmp_path, dtype="float32", count=2)
    w = GdalWriter(spec)
    w.write((0, 0, 20, 24), np.ones((20, 24, 2), np.float32))
    w.close()
    before = open(spec.path, "rb").read()
    w = GdalWriter(spec)
    w.write((0, 0, 10, 10), np.zeros((10, 10, 2), np.float32))
    w.abort()
    assert open(spec.path, "rb").read() == before
    assert not [f for f in os.listdir(tmp_path) if ".tmp-" in f]


def test_writer_refuses_bad_outputs(tmp_path):
    from hypersnn.core.errors import OutputError
    from hypersnn.core.io.raster import OutputSpec
    from hypersnn.plugin.gdal_writer import GdalWriter
    from hypersnn.plugin.io_gdal import raster_info

    like = raster_info(D.make_raster(tmp_path / "like.tif"))
    with pytest.raises(OutputError, match="input raster"):
        GdalWriter(OutputSpec(str(tmp_path / "like.tif"), like, 1, "uint8"))
    with pytest.raises(OutputError, match="does not exist"):
        GdalWriter(OutputSpec(str(tmp_path / "nope" / "x.tif"), like, 1, "uint8"))
    w = GdalWriter(OutputSpec(str(tmp_path / "x.tif"), like, 1, "uint8"))
    with pytest.raises(OutputError, match="does not fit"):
        w.write((0, 0, 5, 5), np.zeros((4, 5), np.uint8))
    w.abort()


def test_polygons_reprojected_from_wgs84(tmp_path, qgis_app):
    """Polygons in EPSG:4326 and a raster in UTM 33N: features come back in the raster's CRS and burn
    exactly the pixel boxes they were drawn from."""
    from hypersnn.core.data.labels import labels_from_polygons
    from hypersnn.plugin.io_gdal import raster_info
    from hypersnn.plugin.ogr_vectors import rasterize_gdal, read_polygons_qgis
    from qgis.core import QgsCoordinateReferenceSystem, QgsVectorLayer

    info = raster_info(D.make_raster(tmp_path / "s.tif"))
    lyr = QgsVectorLayer(str(D.make_polygons(tmp_path / "p.gpkg")), "p", "ogr")
    assert lyr.crs().authid() == "EPSG:4326"
    feats = read_polygons_qgis(lyr, "KLASS", QgsCoordinateReferenceSystem("EPSG:32633"))  # field case-insensitive
    assert [f.value for f in feats] == [1, 2, 3]
    x, y = feats[0].geometry["coordinates"][0][0][:2]
    assert 500000 <= x <= 500000 + 24 * 30 and 5000000 - 20 * 30 <= y <= 5000000
    labels = labels_from_polygons(feats, info, rasterize_gdal)
    expect = np.zeros((20, 24), np.int32)
    for (r0, c0, r1, c1), v in D.TRAIN_BOXES:
        expect[r0:r1, c0:c1] = v
    assert np.array_equal(labels.array, expect)


def test_polygons_errors(tmp_path, qgis_app):
    from hypersnn.core.errors import LabelError
    from hypersnn.plugin.ogr_vectors import read_polygons_qgis
    from qgis.core import QgsCoordinateReferenceSystem, QgsVectorLayer

    lyr = QgsVectorLayer(str(D.make_polygons(tmp_path / "p.gpkg")), "p", "ogr")
    with pytest.raises(LabelError, match="available fields: fid, klass|available fields: klass"):
        read_polygons_qgis(lyr, "nope", QgsCoordinateReferenceSystem("EPSG:32633"))


def test_rasterize_pixel_centres_and_order():
    from hypersnn.core.io.raster import RasterInfo
    from hypersnn.plugin.ogr_vectors import rasterize_gdal

    info = RasterInfo(width=10, height=8, count=1, dtype="uint8", transform=(0.0, 1.0, 0.0, 8.0, 0.0, -1.0))
    sq = {"type": "Polygon", "coordinates": [[[1.0, 7.0], [4.0, 7.0], [4.0, 4.0], [1.0, 4.0], [1.0, 7.0]]]}
    tiny = {"type": "Polygon", "coordinates": [[[6.1, 7.9], [6.4, 7.9], [6.4, 7.6], [6.1, 7.6], [6.1, 7.9]]]}
    a = rasterize_gdal([(sq, 2), (tiny, 5)], info)
    assert a.dtype == np.int32 and a.shape == (8, 10)
    assert (a == 2).sum() == 9 and (a[1:4, 1:4] == 2).all()
    assert (a == 5).sum() == 0  # covers no pixel centre (all_touched False)
    b = rasterize_gdal([(sq, 2), (sq, 7)], info)
    assert (b[1:4, 1:4] == 7).all()  # later shapes win


def test_label_raster_reader(tmp_path):
    """Label rasters through the workflows' one reader, with the GDAL backend (names and colours from GDAL)."""
    from hypersnn.plugin.io_gdal import GdalBackend, raster_info
    from hypersnn.workflows.labels import read_label_raster

    info = raster_info(D.make_raster(tmp_path / "s.tif"))
    lab = read_label_raster(GdalBackend(), D.make_labels(tmp_path / "gt.tif"), info)
    assert [c.value for c in lab.classes] == [1, 2, 3]
    assert [c.name for c in lab.classes] == ["meadow", "forest", "bare soil"]
    assert lab.classes[0].color == D.CLASS_COLORS[1]
    assert (lab.array > 0).sum() == 20 * 24 - 2


def test_envi_reflectance_scale_factor_is_applied_by_the_gdal_reader_too(tmp_path):
    from robust_plugin import make_envi

    from hypersnn.plugin.io_gdal import open_raster

    cube = D.scene()[0]
    data, hdr = make_envi(tmp_path / "refl.bil", cube, extra_fields={"reflectance scale factor": "10000"})
    r = open_raster(str(hdr))
    try:
        assert r.info.scales == [1e-4] * cube.shape[2]
        np.testing.assert_allclose(r.read((2, 3, 4, 5)), cube[2:6, 3:8].astype(np.float32) / 10000, rtol=1e-6)
    finally:
        r.close()


def test_class_names_and_colours_from_qml_styles_saved_by_qgis(tmp_path, qgis_app):
    """A categorized vector style and a paletted raster style, each saved by this QGIS, give the classes'
    names and colours to runs outside QGIS (`--classes legend.qml`)."""
    import numpy as np
    from qgis.core import (QgsCategorizedSymbolRenderer, QgsPalettedRasterRenderer, QgsRasterLayer,
                           QgsRendererCategory, QgsSymbol, QgsVectorLayer, QgsWkbTypes)
    from qgis.PyQt.QtGui import QColor

    from hypersnn.core.data.labels import labels_from_array, read_qml_classes
    from hypersnn.workflows.labels import apply_class_table

    layer = QgsVectorLayer("Polygon?crs=EPSG:32633&field=cover:string", "t", "memory")
    cats = []
    for value, label, rgb in (("corn", "Corn, irrigated", (230, 180, 20)), ("water", "Open water", (20, 90, 200))):
        sym = QgsSymbol.defaultSymbol(QgsWkbTypes.GeometryType.PolygonGeometry)
        sym.setColor(QColor(*rgb))
        cats.append(QgsRendererCategory(value, sym, label))
    layer.setRenderer(QgsCategorizedSymbolRenderer("cover", cats))
    vqml = str(tmp_path / "vector.qml")
    layer.saveNamedStyle(vqml)
    assert read_qml_classes(vqml) == {"corn": ("Corn, irrigated", (230, 180, 20)),
                                      "water": ("Open water", (20, 90, 200))}
    raster = str(tmp_path / "classes.tif")
    ds = gdal.GetDriverByName("GTiff").Create(raster, 2, 2, 1, gdal.GDT_Byte)
    ds.GetRasterBand(1).WriteArray(np.array([[1, 2], [2, 1]], np.uint8))
    ds = None
    rl = QgsRasterLayer(raster, "classes")
    classes = [QgsPalettedRasterRenderer.Class(1, QColor(10, 200, 30), "meadow"),
               QgsPalettedRasterRenderer.Class(2, QColor("#aa3300"), "soil")]
    rl.setRenderer(QgsPalettedRasterRenderer(rl.dataProvider(), 1, classes))
    rqml = str(tmp_path / "raster.qml")
    rl.saveNamedStyle(rqml)
    assert read_qml_classes(rqml) == {"1": ("meadow", (10, 200, 30)), "2": ("soil", (170, 51, 0))}
    labels = labels_from_array(np.array([[1, 2], [0, 2]]))
    apply_class_table(labels, rqml)
    assert [(c.value, c.name, c.color) for c in labels.classes] == [(1, "meadow", (10, 200, 30)),
                                                                     (2, "soil", (170, 51, 0))]


def test_cog_writer_keeps_classes_colours_nodata_and_has_overviews(tmp_path):
    """GdalWriter(cog=True) (the COG setting in Processing): LAYOUT=COG, 256-pixel tiles, overviews, and the same
    pixels, colour table, class names and nodata as the plain writer."""
    from hypersnn.core.io.raster import OutputSpec
    from hypersnn.plugin.io_gdal import GdalBackend, raster_info, read_class_metadata

    like = raster_info(D.make_raster(tmp_path / "like.tif", np.zeros((300, 280, 1), np.int16)))
    classes = (np.arange(300 * 280).reshape(300, 280) // 997 % 4).astype(np.uint8)
    kw = dict(nodata=0, band_names=["class"], colors={1: (230, 25, 75), 3: (0, 130, 200)},
              category_names={1: "corn", 3: "wheat"})
    paths = {}
    for name, open_writer in (("plain", GdalBackend().open_writer), ("cog", GdalBackend().open_cog_writer)):
        w = open_writer(OutputSpec(str(tmp_path / f"{name}.tif"), like, 1, "uint8", **kw))
        w.write((0, 0, 300, 280), classes)
        w.close()
        paths[name] = str(tmp_path / f"{name}.tif")
    cog, plain = gdal.Open(paths["cog"]), gdal.Open(paths["plain"])
    assert cog.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    band = cog.GetRasterBand(1)
    assert band.GetBlockSize() == [256, 256] and band.GetOverviewCount() >= 1
    assert (cog.ReadAsArray() == plain.ReadAsArray()).all() and band.GetNoDataValue() == 0
    assert band.GetColorTable().GetColorEntry(3)[:3] == (0, 130, 200)
    assert read_class_metadata(paths["cog"]) == read_class_metadata(paths["plain"])
    assert set(band.GetOverview(0).ReadAsArray().ravel().tolist()) <= {0, 1, 2, 3}  # classes, never averages
    assert sorted(os.listdir(tmp_path)) == ["cog.tif", "cog.tif.aux.xml", "like.tif", "plain.tif", "plain.tif.aux.xml"]
