"""Real end-to-end runs: train -> model file -> classify -> evaluate -> report, through the CLI."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from hypersnn.core import pipeline
from hypersnn.core.cli import main
from hypersnn.core.io_rasterio import open_raster
from hypersnn.core.labels import labels_from_array
from hypersnn.core.model import HyperSNNModel
from hypersnn.core.scenes import sample_scene_paths
from tiny import tiny_config


@pytest.fixture
def tiny_cfg_file(tmp_path):
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps(tiny_config().to_dict()))
    return p


def test_cli_train_classify_evaluate_report_on_a_synthetic_geotiff(tmp_path, geotiff, label_geotiff,
                                                                      tiny_cfg_file, capsys):
    model = tmp_path / "m.hsnn"
    rc = main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--out", str(model),
               "--config", str(tiny_cfg_file), "--cnn-epochs", "6", "--seed", "3", "--quiet",
               "--report-dir", str(tmp_path / "rep")])
    assert rc == 0 and model.is_file()
    assert "model written" in capsys.readouterr().out
    assert (tmp_path / "rep" / "m_report.html").is_file()
    m = HyperSNNModel.load(model)
    assert m.net.time_steps == 3 and m.net.bits == 6
    assert m.meta["config"]["train"]["cnn_epochs"] == 6  # flag overrides the config file
    assert m.meta["split_protocol"]["method"] == "random"
    assert m.bands.wavelengths and len(m.bands.indices) == 12

    rc = main(["classify", "--model", str(model), "--raster", str(geotiff), "--out", str(tmp_path / "c.tif"),
               "--confidence", str(tmp_path / "conf.tif"), "--probabilities", str(tmp_path / "p.tif"),
               "--window", "7", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid_pixels"] == 20 * 24 - 3  # three nodata pixels stay unclassified
    with rasterio.open(tmp_path / "c.tif") as ds, rasterio.open(geotiff) as src:
        cls = ds.read(1)
        assert ds.transform == src.transform and ds.crs == src.crs
        assert ds.nodata == 0 and ds.colormap(1)[1][:3] == tuple(m.classes[0]["color"])
    assert cls[0, 0] == 0 and cls[10, 5] == 0  # nodata in, nodata out
    with rasterio.open(tmp_path / "conf.tif") as ds:
        conf = ds.read(1)
    assert conf[0, 0] == -1 and 0 < conf[5, 5] <= 1
    with rasterio.open(tmp_path / "p.tif") as ds:
        assert ds.count == 3
        np.testing.assert_allclose(ds.read()[:, 5, 5].sum(), 1.0, atol=1e-5)

    rc = main(["evaluate", "--map", str(tmp_path / "c.tif"), "--labels", str(label_geotiff), "--json"])
    acc = json.loads(capsys.readouterr().out)["accuracy"]
    assert rc == 0 and acc["oa"] > 0.9  # three spectrally distinct classes

    rc = main(["report", "--model", str(model), "--raster", str(geotiff), "--labels", str(label_geotiff),
               "--out-dir", str(tmp_path / "r2"), "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rc == 0 and Path(rep["files"]["html"]).is_file()
    assert "excluded" in rep["report"]["split_protocol"]["evaluation"]  # training pixels are not scored
    assert rep["report"]["energy"]["ratios"]["fp_cnn_over_snn"] > 1

    rc = main(["info", str(model)])
    assert rc == 0 and "T=3" in capsys.readouterr().out


def test_train_from_polygons_in_another_crs(tmp_path, geotiff, polygons_gpkg, tiny_cfg_file):
    model = tmp_path / "m.hsnn"
    rc = main(["train", "--raster", str(geotiff), "--polygons", str(polygons_gpkg), "--class-field", "klass",
               "--out", str(model), "--config", str(tiny_cfg_file), "--split", "polygons", "--quiet",
               "--train-fraction", "0.5"])
    # one polygon per class cannot be split by polygons: the message says which class
    assert rc == 2 and not model.exists()
    rc = main(["train", "--raster", str(geotiff), "--polygons", str(polygons_gpkg), "--class-field", "klass",
               "--out", str(model), "--config", str(tiny_cfg_file), "--quiet"])
    assert rc == 0
    m = HyperSNNModel.load(model)
    assert [c["value"] for c in m.classes] == [1, 2, 3]


def test_bad_inputs_exit_with_a_message_naming_the_culprit(tmp_path, geotiff, label_geotiff, capsys):
    rc = main(["train", "--raster", str(tmp_path / "missing.tif"), "--labels", str(label_geotiff),
               "--out", str(tmp_path / "m.hsnn")])
    assert rc == 2 and "missing.tif" in capsys.readouterr().err
    rc = main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--out", str(tmp_path / "m.hsnn"),
               "--bits", "1"])
    assert rc == 2 and "weight_bits" in capsys.readouterr().err
    rc = main(["classify", "--model", str(geotiff), "--raster", str(geotiff), "--out", str(tmp_path / "c.tif")])
    assert rc == 2 and "not a HyperSNN model" in capsys.readouterr().err


def test_indian_pines_crop_end_to_end(tmp_path):
    """The bundled sample, cropped to 48 x 48 pixels, through the engine API with a small network."""
    paths = sample_scene_paths()
    with open_raster(paths["raster"]) as r:
        info = r.info
        assert info.count == 200 and info.wavelengths[0] == pytest.approx(400.02, abs=0.1)
        from hypersnn.core.raster import ArrayReader
        cube = r.read((8, 16, 48, 48))  # a corner holding 10 classes
    with open_raster(paths["labels"]) as r:
        gt = r.read((8, 16, 48, 48))[:, :, 0]
    labels = labels_from_array(gt, nodata=0)
    labels.array[np.isin(labels.array, [c.value for c in labels.classes
                                        if (labels.array == c.value).sum() < 40])] = 0  # too rare to split
    labels.classes = [c for c in labels.classes if (labels.array == c.value).any()]
    reader = ArrayReader(cube, info.subset(range(200)))
    reader.info.width = reader.info.height = 48
    cfg = tiny_config(cnn_epochs=25, snn_epochs=4)
    cfg.preprocess.pca_components = 10
    cfg.split.method = "count"
    cfg.split.train_count = 20
    out = pipeline.train(reader, labels, cfg, str(tmp_path / "ip.hsnn"))
    assert out.test_snn.n > 1000
    chance = 1 / len(labels.classes)
    assert out.test_snn.oa > 2 * chance and out.test_cnn.oa > 2 * chance
    assert 1 < out.energy["ratios"]["fp_cnn_over_snn"]
    m = HyperSNNModel.load(tmp_path / "ip.hsnn")
    assert m.bands.wavelengths[:2] == info.wavelengths[:2]
