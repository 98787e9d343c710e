"""The production map path (core/mapping/predict.classify_raster: windows read with a halo, preprocessed per window,
padded at the image border, the network run fully convolutionally) gives, pixel for pixel, the
probabilities of the path the model was trained and assessed with (core/training/trainer.predict_pixels: one patch per
pixel from the reflect-padded cube), whatever the window size, including windows smaller than a patch."""
import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.data.labels import labels_from_array
from oracles import PatchSource, pad_cube
from hypersnn.core.mapping.predict import CONF_NODATA, classify_raster, preprocess_block
from hypersnn.core.io.raster import ArrayReader, ArrayWriter, RasterInfo
from hypersnn.core.training.trainer import PixelSet, predict_pixels
from tiny import tiny_config


def _reader():
    cube = fd.synthetic_scene()[0]
    h, w, b = cube.shape
    return ArrayReader(cube, RasterInfo(width=w, height=h, count=b, dtype=str(cube.dtype), nodata=fd.NODATA))


@pytest.fixture(scope="module")
def model():
    """A tiny SNN trained on the synthetic scene (a few seconds): trained thresholds, so neurons spike."""
    from hypersnn.core.training import pipeline

    cfg = tiny_config(cnn_epochs=2, snn_epochs=1, threads=1)  # one thread: tiny networks run fastest on one
    out = pipeline.train(_reader(), labels_from_array(fd.synthetic_scene()[1]), cfg)
    assert out.model.net.spiking
    return out.model


@pytest.fixture(scope="module")
def patchwise(model):
    """(probabilities (H, W, K), validity mask) patch by patch over the same preprocessed features."""
    reader = _reader()
    x, ok = preprocess_block(model, reader.read(None, model.bands.indices), reader.info.nodata)
    p = model.net.cfg.patch_size
    rows, cols = np.meshgrid(np.arange(fd.H), np.arange(fd.W), indexing="ij")
    px = PixelSet(rows.ravel(), cols.ravel(), np.zeros(rows.size, np.int64))
    _, probs = predict_pixels(model.net, PatchSource(pad_cube(x, p), p), px, batch=53)
    return probs.reshape(fd.H, fd.W, -1), ok


@pytest.mark.parametrize("window", [3, 7, 16, 64])  # patch is 5: smaller, larger, seams inside; 64 > image
def test_windowed_map_equals_patch_by_patch(model, patchwise, window):
    assert window != 64 or max(fd.H, fd.W) < window
    probs, ok = patchwise
    writers = {}

    def open_writer(spec):
        writers[spec.path] = ArrayWriter(spec)
        return writers[spec.path]

    res = classify_raster(model, _reader(), open_writer, "class", "conf", "prob", cfg=ClassifyConfig(window=window))
    cls = writers["class"].array[..., 0]
    conf = writers["conf"].array[..., 0]
    prob = writers["prob"].array

    nodata = ~ok
    assert sorted(zip(*np.nonzero(nodata))) == sorted(fd.NODATA_PIXELS)
    assert (cls[nodata] == 0).all() and (conf[nodata] == CONF_NODATA).all() and (prob[nodata] == CONF_NODATA).all()
    assert res.valid_pixels == fd.H * fd.W - len(fd.NODATA_PIXELS)

    np.testing.assert_allclose(prob[ok], probs[ok], atol=1e-5)
    np.testing.assert_allclose(conf[ok], probs[ok].max(1), atol=1e-5)
    expected = np.asarray(model.class_values)[probs.argmax(-1)]
    assert (cls[ok] == expected[ok]).all()
    assert len(np.unique(cls[ok])) > 1  # a network that says one class everywhere would prove little


def test_a_band_the_model_reads_that_is_all_nodata_is_an_error_not_zero_pixels(tmp_path, capsys):
    """It used to print '0 pixels classified' and exit 0; training gave a clear error for the same raster."""
    import fixtures_data as fd
    from hypersnn.cli import main
    from tiny import tiny_config

    cube, gt = fd.synthetic_scene()
    raster = fd.make_geotiff(tmp_path / "scene.tif", cube)
    labels = fd.make_geotiff(tmp_path / "gt.tif", gt, nodata=0, wavelengths=None)
    cfg = tmp_path / "tiny.json"
    cfg.write_text(__import__("json").dumps(tiny_config(cnn_epochs=1, snn_epochs=1).to_dict()))
    assert main(["train", "--raster", str(raster), "--labels", str(labels), "--config", str(cfg), "--out",
                 str(tmp_path / "m.hsnn"), "--quiet"]) == 0
    broken = cube.copy()
    broken[:, :, 4] = fd.NODATA
    bad = fd.make_geotiff(tmp_path / "bad.tif", broken)
    rc = main(["classify", "--model", str(tmp_path / "m.hsnn"), "--raster", str(bad), "--out", str(tmp_path / "c.tif")])
    err = capsys.readouterr().err
    assert rc == 2 and "band(s) 5 (" in err and "nothing was classified" in err, err
    assert not (tmp_path / "c.tif").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_input_far_from_the_training_values_is_refused_and_like_data_passes(tmp_path, capsys):
    """A model trained on reflectance applied to the same scene without its scale factor (values 10,000x) was
    classified silently (40 % of pixels agreed with the right map)."""
    import json

    import fixtures_data as fd
    from hypersnn.cli import main
    from tiny import tiny_config

    cube, gt = fd.synthetic_scene()
    refl = np.where(cube == fd.NODATA, fd.NODATA, cube / 10000.0).astype(np.float32)
    raster = fd.make_geotiff(tmp_path / "refl.tif", refl)
    labels = fd.make_geotiff(tmp_path / "gt.tif", gt, nodata=0, wavelengths=None)
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(tiny_config(cnn_epochs=1, snn_epochs=1).to_dict()))
    assert main(["train", "--raster", str(raster), "--labels", str(labels), "--config", str(cfg), "--out",
                 str(tmp_path / "m.hsnn"), "--quiet"]) == 0
    capsys.readouterr()
    rc = main(["classify", "--model", str(tmp_path / "m.hsnn"), "--raster", str(raster), "--out",
               str(tmp_path / "ok.tif"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and not any("far" in w for w in out["warnings"])
    unscaled = fd.make_geotiff(tmp_path / "dn.tif", cube)  # the same scene as integers, no scale factor
    rc = main(["classify", "--model", str(tmp_path / "m.hsnn"), "--raster", str(unscaled), "--out",
               str(tmp_path / "bad.tif")])
    err = capsys.readouterr().err
    assert rc == 2 and "far outside those the model was trained on" in err and "scale factor" in err
    assert not (tmp_path / "bad.tif").exists()
