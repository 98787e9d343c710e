"""Real end-to-end runs: train -> model file -> classify -> evaluate -> report, through the CLI."""
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from hypersnn.cli import main
from hypersnn.workflows.rasterio_reader import read_class_metadata
from hypersnn.core.models.torch_model import HyperSNNModel
from hypersnn.core.data.scenes import sample_scene_paths
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
    e = rep["report"]["energy"]
    assert e["headline"] == {"convention": "complete", "view": "per_patch"}
    for conv in ("paper", "reuse", "complete"):
        assert e["conventions"][conv]["per_patch"]["ratios"]["fp_cnn_over_snn"] > 1
    assert e["scene"]["pixels"] == 20 * 24 - 3 and e["scene"]["snn_mj"] > 0

    # the energy map: SNN energy (pJ, complete convention) and spikes per pixel; nodata stays nodata, and the
    # map does not depend on the window size (each neuron is charged to its own pixel)
    maps = {}
    for win in ("7", "16"):
        rc = main(["classify", "--model", str(model), "--raster", str(geotiff), "--out", str(tmp_path / f"c{win}.tif"),
                   "--energy-map", str(tmp_path / f"e{win}.tif"), "--window", win, "--json"])
        res = json.loads(capsys.readouterr().out)
        assert rc == 0 and res["energy_map"] == str(tmp_path / f"e{win}.tif")
        with rasterio.open(tmp_path / f"e{win}.tif") as ds:
            assert ds.count == 2 and ds.descriptions == ("snn_energy_pj", "spikes") and ds.nodata == -1
            maps[win] = ds.read()
        valid = maps[win][0] != -1
        assert valid.sum() == res["valid_pixels"] and not valid[0, 0] and not valid[10, 5]
        assert (maps[win][0][valid] > 0).all() and (maps[win][1][valid] >= 0).all()
        assert res["energy"]["snn_mj"] == pytest.approx(maps[win][0][valid].astype(float).sum() * 1e-9, rel=1e-5)
        assert res["energy"]["convention"] == "complete"
    np.testing.assert_array_equal(maps["7"], maps["16"])

    rc = main(["info", str(model)])
    text = capsys.readouterr().out
    assert rc == 0 and "  Time steps: 3\n" in text
    for conv in ("complete", "paper", "reuse"):  # every ratio in the model file, labelled with its convention
        assert f"({conv} convention, per patch)" in text and f"({conv} convention, per map pixel)" in text


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
    # 'auto' (the tiny settings' hold-out) fell back to a random pixel split, and said why
    assert m.meta["split_protocol"]["method"] == "random" and m.meta["split_protocol"]["requested"] == "auto"
    assert any("fewer than 2" in w for w in m.meta["split_protocol"]["warnings"])


def test_independent_validation_polygons_from_the_command_line(tmp_path, geotiff, polygons_gpkg, tiny_cfg_file,
                                                                capsys):
    import fixtures_data as fd

    valid = fd.make_polygons_gpkg(tmp_path / "valid.gpkg", [((8, 1, 11, 5), 1), ((12, 9, 15, 14), 2),
                                                             ((2, 17, 6, 22), 3)], field="ref")
    model = tmp_path / "m.hsnn"
    rc = main(["train", "--raster", str(geotiff), "--polygons", str(polygons_gpkg), "--class-field", "klass",
               "--validation", str(valid), "--validation-field", "ref", "--out", str(model),
               "--config", str(tiny_cfg_file), "--json", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    proto = HyperSNNModel.load(model).meta["split_protocol"]
    assert proto["method"] == "given" and proto["totals"]["test"] == out["report"]["accuracy"]["n_test"]
    assert proto["totals"]["test"] == 3 * 4 + 3 * 5 + 4 * 5  # the three validation boxes, pixel for pixel
    rc = main(["train", "--raster", str(geotiff), "--labels", str(geotiff), "--validation", str(valid),
               "--out", str(tmp_path / "x.hsnn"), "--quiet"])
    assert rc == 2 and "--validation needs training --polygons" in capsys.readouterr().err


def test_bad_inputs_exit_with_a_message_naming_the_culprit(tmp_path, geotiff, label_geotiff, capsys):
    rc = main(["train", "--raster", str(tmp_path / "missing.tif"), "--labels", str(label_geotiff),
               "--out", str(tmp_path / "m.hsnn")])
    assert rc == 2 and "missing.tif" in capsys.readouterr().err
    rc = main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--out", str(tmp_path / "m.hsnn"),
               "--bits", "1"])
    assert rc == 2 and "weight_bits" in capsys.readouterr().err
    rc = main(["classify", "--model", str(geotiff), "--raster", str(geotiff), "--out", str(tmp_path / "c.tif")])
    assert rc == 2 and "not a HyperSNN model" in capsys.readouterr().err


def _crop(src_path, dst_path, window, keep=None):
    """A real GeoTIFF crop of the bundled sample (georeferencing and band metadata kept)."""
    from rasterio.windows import Window
    with rasterio.open(src_path) as src:
        win = Window(*window)
        data = src.read(window=win)
        if keep is not None:
            data = np.where(np.isin(data, keep), data, 0).astype(data.dtype)
        prof = dict(src.profile, width=win.width, height=win.height, transform=src.window_transform(win))
        with rasterio.open(dst_path, "w", **prof) as dst:
            dst.write(data)
            for b in range(1, src.count + 1):
                dst.update_tags(b, **src.tags(b))
                dst.set_band_description(b, src.descriptions[b - 1])
    return dst_path


def test_indian_pines_crop_end_to_end(tmp_path, capsys):
    """A 48 x 48 crop of the bundled sample (10 classes): train, classify, evaluate through the CLI."""
    paths = sample_scene_paths()
    win = (16, 8, 48, 48)  # col, row, width, height: a corner holding 10 classes
    with rasterio.open(paths["labels"]) as ds:
        from rasterio.windows import Window
        gt = ds.read(1, window=Window(*win))
    values, counts = np.unique(gt[gt > 0], return_counts=True)
    keep = values[counts >= 40]  # rarer classes cannot be split into train and test meaningfully
    raster = _crop(paths["raster"], tmp_path / "ip.tif", win)
    labels = _crop(paths["labels"], tmp_path / "ip_gt.tif", win, keep=keep)
    cfg = tiny_config(cnn_epochs=25, snn_epochs=4)
    cfg.preprocess.pca_components = 10
    cfg.split.method = "count"
    cfg.split.train_count = 20
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    model = tmp_path / "ip.hsnn"
    assert main(["train", "--raster", str(raster), "--labels", str(labels), "--classes", str(paths["classes"]),
                 "--out", str(model), "--config", str(tmp_path / "cfg.json"), "--quiet", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)["report"]
    chance = 1 / len(keep)
    assert trained["accuracy"]["oa"] > 2 * chance and trained["accuracy_cnn"]["oa"] > 2 * chance
    assert trained["energy"]["conventions"]["complete"]["per_patch"]["ratios"]["fp_cnn_over_snn"] > 1
    m = HyperSNNModel.load(model)
    assert m.bands.wavelengths[0] == pytest.approx(400.02, abs=0.1)
    assert {c["name"] for c in m.classes} >= {"Corn-notill", "Soybean-mintill"}  # from classes.json

    assert main(["classify", "--model", str(model), "--raster", str(raster), "--out", str(tmp_path / "map.tif"),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--map", str(tmp_path / "map.tif"), "--labels", str(labels), "--json"]) == 0
    acc = json.loads(capsys.readouterr().out)["accuracy"]
    assert acc["oa"] > 2 * chance  # all labelled pixels, training ones included
    names, _ = read_class_metadata(tmp_path / "map.tif")
    assert names[2] == "Corn-notill"


def test_train_at_the_default_split_is_map_production(tmp_path, geotiff, polygons_gpkg, capsys):
    """Without --split the model trains on every label (map production) and the CLI says the accuracy is the grouped
    cross-validation's, not a test set's; the report names the folds and the map model's pixels."""
    cfg = tiny_config().to_dict()
    del cfg["split"]  # the shipped default
    cfg["split"] = {"folds": 2}
    settings = tmp_path / "cv.json"
    settings.write_text(json.dumps(cfg))
    model = tmp_path / "m.hsnn"
    rc = main(["train", "--raster", str(geotiff), "--polygons", str(polygons_gpkg), "--class-field", "klass",
               "--out", str(model), "--config", str(settings), "--quiet", "--report-dir", str(tmp_path / "rep")])
    out = capsys.readouterr().out
    assert rc == 0, out
    m = HyperSNNModel.load(model)
    proto = m.meta["split_protocol"]
    assert proto["method"] == "cv" and proto["folds"] == 2 and "requested" not in proto
    assert proto["totals"]["train"] == proto["totals"]["usable"] and proto["totals"]["val"] == 0
    assert "SNN cross-validated accuracy (2-fold, grouped by spatial clusters" in out and "test accuracy" not in out
    assert "Map production: the final model trains on all" in proto["description"]
    html = (tmp_path / "rep" / "m_report.html").read_text()
    assert "Pixels assessed (each by a fold model that did not train on it)" in html and "Test pixels<" not in html
