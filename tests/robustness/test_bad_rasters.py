"""Bad rasters: each is refused with a message naming the file and band/field at fault, or handled
(no CRS, NaN/inf pixels, any pixel type, rasters larger than memory)."""

import os

import numpy as np
import pytest
import rasterio

import fixtures_data as fd
from hypersnn.workflows import rasterio_backend as io
from hypersnn.core.training import pipeline
from hypersnn.core.data import prepare
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.errors import InputError, RasterError
from hypersnn.core.data.labels import labels_from_array, labels_from_polygons
from hypersnn.core.mapping.predict import classify_raster
from hypersnn.core.io.raster import ArrayReader, ArrayWriter
from robust_helpers import (LimitedReader, fast_config, reflectance, scene_info, scene_labels, scene_reader)


def _train_and_classify(reader, tmp_path=None, cfg=None):
    out = pipeline.train(reader, scene_labels(), cfg or fast_config())
    writers = []

    def open_writer(spec):
        writers.append(ArrayWriter(spec))
        return writers[-1]
    res = classify_raster(out.model, reader, open_writer, "classes.tif")
    return out, writers[0].array[:, :, 0], res


# -- georeferencing ---------------------------------------------------------------------------------

def test_raster_without_crs_trains_and_classifies_and_its_map_has_no_crs(tmp_path):
    src = fd.make_geotiff(tmp_path / "nocrs.tif", crs=None)
    with io.open_raster(src) as reader:
        assert reader.info.crs_wkt == ""
        out = pipeline.train(reader, scene_labels(), fast_config())
        classify_raster(out.model, reader, io.RasterioWriter, str(tmp_path / "map.tif"))
    with rasterio.open(tmp_path / "map.tif") as ds:
        assert ds.crs is None and ds.read(1)[5, 5] > 0


def test_raster_without_crs_with_polygons_in_a_crs_warns_that_it_assumes_the_same_coordinates(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), 1), ((3, 9, 7, 14), 2)], crs=fd.CRS)
    with pytest.warns(UserWarning, match="the raster has no CRS; assuming"):
        feats = io.read_polygons(gpkg, "klass", "")
    labels = labels_from_polygons(feats, scene_info(crs_wkt=""), io.rasterize)
    assert int((labels.array == 1).sum()) == 16


# -- pixel values ------------------------------------------------------------------------------------

def test_nodata_everywhere_is_refused_naming_the_raster():
    cube = np.full((fd.H, fd.W, fd.B), fd.NODATA, np.int16)
    with pytest.raises(InputError, match=r"raster scene\.tif: every pixel is nodata \(-9999\) or non-finite"):
        pipeline.train(scene_reader(cube), scene_labels(), fast_config())


def test_a_band_that_is_nan_everywhere_is_named():
    cube = reflectance().astype(np.float32)
    cube[:, :, 4] = np.nan
    names = [f"B{i + 1}" for i in range(fd.B)]
    with pytest.raises(InputError, match=r"band\(s\) 5 \(B5\) hold only nodata or NaN/inf"):
        pipeline.train(scene_reader(cube, nodata=None, band_names=names), scene_labels(), fast_config())


def test_nan_and_inf_pixels_are_left_out_of_training_and_unclassified():
    cube = reflectance().astype(np.float32)
    bad = [(4, 3, np.nan), (7, 12, np.inf), (15, 20, -np.inf), (12, 2, np.nan)]
    for r, c, v in bad:
        cube[r, c, 3] = v
    out, cls, res = _train_and_classify(scene_reader(cube, nodata=None))
    assert out.model.meta["split_protocol"]["excluded_invalid"] == 4  # labelled but invalid
    for r, c, _ in bad:
        assert cls[r, c] == 0
    assert res.valid_pixels == fd.H * fd.W - 3 - len(bad)


def _as_type(kind):
    r = reflectance()
    nd = np.isnan(r)
    r = np.nan_to_num(r, nan=0.0)
    if kind == "uint8":
        a, nodata = np.round(r * 250).astype(np.uint8), 255
    elif kind == "uint16":
        a, nodata = np.round(r * 10000).astype(np.uint16), 65535
    elif kind == "int32":
        a, nodata = np.round(r * 10000 - 5000).astype(np.int32), -2 ** 31
    elif kind == "float32":
        a, nodata = r.astype(np.float32), np.nan
    else:
        a, nodata = r * 1e4, -1.0
    a[nd] = nodata
    return a, nodata


@pytest.mark.parametrize("kind", ["uint8", "uint16", "int32", "float32", "float64"])
def test_integer_and_float_pixel_types_train_and_classify(kind):
    cube, nodata = _as_type(kind)
    out, cls, res = _train_and_classify(scene_reader(cube, nodata=nodata))
    assert res.valid_pixels == fd.H * fd.W - 3
    assert out.test_snn.oa > 0.6


def test_reflectance_scaled_integers_are_read_with_their_scale(tmp_path):
    cube = np.round(np.nan_to_num(reflectance(), nan=0) * 10000).astype(np.int16)
    for r, c in fd.NODATA_PIXELS:
        cube[r, c] = fd.NODATA
    path = fd.make_geotiff(tmp_path / "refl.tif", cube, scales=[1e-4] * fd.B, offsets=[0.0] * fd.B)
    with io.open_raster(path) as reader:
        assert reader.info.dtype == "float32"
        block = reader.read((5, 5, 1, 1))
        assert 0.0 < float(block.max()) <= 1.0
        out = pipeline.train(reader, scene_labels(), fast_config())
        classify_raster(out.model, reader, io.RasterioWriter, str(tmp_path / "map.tif"))
    with rasterio.open(tmp_path / "map.tif") as ds:
        cls = ds.read(1)
    assert cls[0, 0] == 0 and cls[10, 5] == 0 and (cls[1:10, :8] > 0).all()
    assert out.test_snn.oa > 0.6


# -- bands vs settings -------------------------------------------------------------------------------

def test_single_band_raster_is_refused_naming_the_pca_setting():
    cube = fd.synthetic_scene()[0][:, :, :1]
    with pytest.raises(InputError, match=r"raster scene\.tif: 1 of 1 bands.*pca_components is 6.*at most 1"):
        pipeline.train(scene_reader(cube), scene_labels(), fast_config())


def test_single_band_raster_without_pca_is_refused_naming_the_spectral_kernels():
    cfg = fast_config()
    cfg.preprocess.pca_components = 0
    cube = fd.synthetic_scene()[0][:, :, :1]
    with pytest.raises(InputError, match=r"raster scene\.tif .*1 input bands.*too few for the spectral kernels \[3\]"):
        pipeline.train(scene_reader(cube), scene_labels(), cfg)


def test_fewer_selected_bands_than_pca_components_is_refused_before_reading():
    cfg = fast_config()
    cfg.bands.indices = "1-4"
    reader = LimitedReader(scene_reader(), 1)  # any read would fail the test: the check comes first
    with pytest.raises(InputError, match=r"4 of 12 bands: 1-4 .* selected, but pca_components is 6"):
        pipeline.train(reader, scene_labels(), cfg)
    assert reader.reads == []


def test_patch_larger_than_the_raster_pads_by_edge_and_trains():
    rng = np.random.default_rng(0)
    cube = np.concatenate([rng.normal(0, 1, (4, 2, 12)), rng.normal(5, 1, (4, 2, 12))], 1).astype(np.float32)
    gt = np.repeat(np.array([[1, 1, 2, 2]], np.uint8), 4, 0)
    cfg = fast_config()
    cfg.model.patch_size = 9
    cfg.split.train_fraction = 0.5
    out = pipeline.train(ArrayReader(cube), labels_from_array(gt), cfg)
    assert out.test_snn.n > 0


# -- ENVI files --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case, field, value, match", [
    ("missing samples", "samples", None, r"missing the required field 'samples'"),
    ("lines not a number", "lines", "twenty", r"field 'lines' = 'twenty' is not an integer"),
    ("bad data type", "data type", "99", r"'data type' = 99 is not a supported ENVI type"),
    ("bad interleave", "interleave", "bsx", r"'interleave' = 'bsx' must be bsq, bil or bip"),
    ("wrong byte order", "byte order", "2", r"'byte order' = '2' must be 0 .* or 1"),
    ("byte order not a number", "byte order", "big", r"'byte order' = 'big' must be 0"),
])
def test_band_interleaved_envi_with_a_broken_header_names_the_field(tmp_path, case, field, value, match):
    data, hdr = fd.make_envi(tmp_path / "scene.bil", interleave="bil")
    text = hdr.read_text().splitlines()
    text = [l for l in text if not l.startswith(field + " =")]
    if value is not None:
        text.append(f"{field} = {value}")
    hdr.write_text("\n".join(text) + "\n")
    with pytest.raises(RasterError, match=match) as e:
        io.open_raster(data)
    assert str(hdr) in str(e.value)


def test_truncated_envi_data_file_states_expected_and_actual_size(tmp_path):
    data, hdr = fd.make_envi(tmp_path / "scene.bil", interleave="bil", truncate_bytes=100)
    expected = fd.H * fd.W * fd.B * 2
    with pytest.raises(RasterError, match=rf"{data.name} is truncated.*= {expected} bytes, but the file has "
                                          rf"{expected - 100} bytes"):
        io.open_raster(hdr)


def test_big_endian_envi_is_read_by_its_byte_order(tmp_path):
    cube = fd.synthetic_scene()[0]
    data, hdr = fd.make_envi(tmp_path / "scene.bil", cube, interleave="bil")
    data.write_bytes(np.ascontiguousarray(np.transpose(cube, (0, 2, 1))).astype(">i2").tobytes())
    hdr.write_text(hdr.read_text().replace("byte order = 0", "byte order = 1"))
    with io.open_raster(data) as r:
        np.testing.assert_array_equal(r.read(), cube)


# -- paths -------------------------------------------------------------------------------------------

def test_missing_raster_path_is_named(tmp_path):
    with pytest.raises(RasterError, match=r"Raster not found: .*nowhere\.tif"):
        io.open_raster(tmp_path / "nowhere.tif")


def test_a_folder_is_not_a_raster(tmp_path):
    with pytest.raises(RasterError, match=r"Raster path is a folder"):
        io.open_raster(tmp_path)


@pytest.mark.parametrize("content", [b"", b"this is not a raster\n" * 10, bytes(range(256)) * 4],
                         ids=["empty file", "text", "binary junk"])
def test_an_unreadable_file_is_named(tmp_path, content):
    p = tmp_path / "junk.tif"
    p.write_bytes(content)
    with pytest.raises(RasterError, match=r"Cannot read raster .*junk\.tif"):
        io.open_raster(p)


def test_unreadable_permissions_are_reported(tmp_path, monkeypatch):
    """Running as root, chmod 000 does not stop reads; simulate the permission check failing."""
    p = fd.make_geotiff(tmp_path / "locked.tif")
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(p) else real(path, mode))
    with pytest.raises(RasterError, match=r"not readable \(permission denied\): .*locked\.tif"):
        io.open_raster(p)


# -- size --------------------------------------------------------------------------------------------

def test_raster_larger_than_memory_is_streamed_in_windows():
    """A 256 x 256 raster whose labels sit in one corner, read through a reader that refuses any window
    over 16 rows/cols: training and classification stream; the patch bank holds the labelled corner
    only, a small fraction of the cube."""
    small, gt = fd.synthetic_scene()
    cube = np.full((256, 256, fd.B), 1500, np.int16) + np.random.default_rng(0).integers(0, 50, (256, 256, fd.B),
                                                                                          dtype=np.int16)
    cube[:fd.H, :fd.W] = small
    labels = np.zeros((256, 256), np.uint8)
    labels[:fd.H, :fd.W] = gt
    reader = LimitedReader(scene_reader(cube), 16)
    cfg = fast_config()
    prep = prepare.prepare(reader, labels_from_array(labels), cfg, window=16)
    assert prep.source.nbytes < 0.05 * (256 * 256 * cfg.preprocess.pca_components * 4)
    out = pipeline.train(reader, labels_from_array(labels), cfg, window=16)
    assert out.test_snn.oa > 0.6
    cc = classify_raster(out.model, reader, ArrayWriter, "m.tif",
                         cfg=ClassifyConfig(window=16 - 2 * (cfg.model.patch_size // 2)))
    assert cc.valid_pixels == 256 * 256 - 3
    assert all(h <= 16 and w <= 16 for _, _, h, w in reader.reads)
