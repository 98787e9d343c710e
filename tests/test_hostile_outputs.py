"""Hostile outputs and inputs on the command line (issue 20), each of which lost data or gave a wrong result
without a word: a user's own report file replaced by training, a batch manifest written over a class map, a scene
overwritten by another scene's map, a GeoPackage with other layers emptied by `sample`, a reflectance image
sampled as if it were a class map, an earlier model's confidence map left beside a new class map, a GeoTIFF
written under a .png name, class 0 of a label raster dropped silently, and a demo folder that is a file."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.cli import main
from tiny import tiny_config, tiny_model_file

pytestmark = pytest.mark.timeout(600)


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two different tiny models (seeds 0 and 1) for the synthetic 12-band scene."""
    a = tiny_model_file(tmp_path_factory.mktemp("model-a"))
    b = tiny_model_file(tmp_path_factory.mktemp("model-b"), tiny_config(cnn_epochs=2, snn_epochs=1, threads=1,
                                                                         seed=1))
    assert _sha(a) != _sha(b)
    return a, b


def _batch(*args):
    return main(["batch", "--window", "8", "--quiet", *[str(a) for a in args]])


# ------------------------------------------------------------------------------------------ train --report-dir


def test_train_refuses_to_replace_a_users_own_report_file(tmp_path, capsys):
    raster = fd.make_geotiff(tmp_path / "scene.tif")
    labels = fd.make_geotiff(tmp_path / "gt.tif", fd.synthetic_scene()[1], nodata=0, wavelengths=None)
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(tiny_config(cnn_epochs=1, snn_epochs=1).to_dict()))
    reports = tmp_path / "reports"
    reports.mkdir()
    mine = reports / "m_report.html"
    mine.write_text("<html><body>My field notes for the m campaign</body></html>")
    rc = main(["train", "--raster", str(raster), "--labels", str(labels), "--out", str(tmp_path / "m.hsnn"),
               "--config", str(cfg), "--report-dir", str(reports), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and str(mine) in err and "not written by HyperSNN" in err and "--report-dir" in err, err
    assert mine.read_text() == "<html><body>My field notes for the m campaign</body></html>"
    assert not (tmp_path / "m.hsnn").exists() and sorted(p.name for p in reports.iterdir()) == ["m_report.html"]


def test_evaluate_refuses_to_replace_a_users_own_report_file_and_replaces_its_own(tmp_path, capsys):
    """The same rule for the accuracy report of `hypersnn evaluate --report-dir`: HyperSNN's own earlier report is
    updated, the user's file of that name is never replaced."""
    gt = fd.synthetic_scene()[1]
    class_map = fd.make_geotiff(tmp_path / "m.tif", gt, nodata=0, wavelengths=None)
    labels = fd.make_geotiff(tmp_path / "gt.tif", gt, nodata=0, wavelengths=None)
    reports = tmp_path / "reports"
    args = ["evaluate", "--map", str(class_map), "--labels", str(labels), "--report-dir", str(reports), "--quiet"]
    assert main(args) == 0
    assert main(args) == 0  # its own report: replaced
    capsys.readouterr()
    mine = reports / "m_accuracy_per_class.csv"
    mine.write_text("my own table\n")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(mine) in err and "not written by HyperSNN" in err and "--report-dir" in err, err
    assert mine.read_text() == "my own table\n"


def test_reports_hypersnn_wrote_are_told_from_a_users_files(tmp_path):
    """A rerun may replace HyperSNN's own report files (as it replaces its model file), and only those."""
    from hypersnn.core.report.html_report import write_report
    from hypersnn.workflows.report import written_by_hypersnn

    acc = {"oa": 0.5, "aa": 0.5, "kappa": 0.1, "per_class": [{"value": 1, "name": "water", "support": 2}],
           "confusion": [[1, 1], [0, 0]]}
    paths = write_report(tmp_path, "m_report", {"title": "a custom title", "created": "today", "accuracy": acc})
    assert set(paths) >= {"html", "json", "per_class_csv", "confusion_csv"}
    assert all(written_by_hypersnn(p) for p in paths.values()), paths
    for name, text in (("x.html", "<!DOCTYPE html><html><body>notes</body></html>"), ("x.json", '{"title": "t"}'),
                       ("x_per_class.csv", "class,count\n1,2\n"), ("x_confusion.csv", "a,b\n")):
        (tmp_path / name).write_text(text)
        assert not written_by_hypersnn(str(tmp_path / name)), name


# ------------------------------------------------------------------------------------------------------- batch


def test_batch_refuses_a_manifest_that_is_a_scenes_class_map(models, tmp_path, capsys):
    a = fd.make_geotiff(tmp_path / "a.tif")
    out = tmp_path / "out"
    rc = _batch("--model", models[0], "--out-dir", out, "--manifest", out / "a_classes.tif", a)
    err = capsys.readouterr().err
    assert rc == 2 and "manifest" in err and "class map of the scene" in err and str(a) in err, err
    assert not (out / "a_classes.tif").exists()
    # and after a first batch, the class map is kept as it is
    assert _batch("--model", models[0], "--out-dir", out, a) == 0
    before = _sha(out / "a_classes.tif")
    assert _batch("--model", models[0], "--out-dir", out, "--manifest", out / "a_classes.tif", a) == 2
    assert _sha(out / "a_classes.tif") == before


def test_batch_manifest_that_is_a_scene_is_named_so(models, tmp_path, capsys):
    a = fd.make_geotiff(tmp_path / "a.tif")
    b = fd.make_geotiff(tmp_path / "b.tif", fd.synthetic_scene(seed=3)[0])
    before = _sha(b)
    rc = _batch("--model", models[0], "--out-dir", tmp_path / "out", "--manifest", b, a, b)
    err = capsys.readouterr().err
    assert rc == 2 and f"The batch manifest {b} is the scene {b}" in err, err
    assert "move it away" not in err and "move that file away" not in err
    assert _sha(b) == before and not (tmp_path / "out" / "a_classes.tif").exists()


def test_batch_refuses_a_scenes_map_written_over_another_scene(models, tmp_path, capsys):
    b = tmp_path / "b"
    b.mkdir()
    x = fd.make_geotiff(b / "x.tif")
    scene2 = fd.make_geotiff(b / "x_classes.tif", fd.synthetic_scene(seed=5)[0])  # a scene with an unlucky name
    before = _sha(scene2)
    rc = _batch("--model", models[0], "--out-dir", b, x, scene2)
    err = capsys.readouterr().err
    assert rc == 2 and f"class map of the scene {x} would be written to {scene2}" in err and "--out-dir" in err, err
    assert _sha(scene2) == before
    assert sorted(p.name for p in b.iterdir()) == ["x.tif", "x_classes.tif"]  # no manifest, no map


def test_batch_rerun_into_its_input_folder_skips_its_own_maps(models, tmp_path, capsys):
    b = tmp_path / "b"
    b.mkdir()
    fd.make_geotiff(b / "x.tif")
    fd.make_geotiff(b / "y.tif", fd.synthetic_scene(seed=2)[0])
    assert _batch("--model", models[0], "--out-dir", b, "--confidence", b) == 0
    maps = {p.name: _sha(p) for p in b.glob("*_*.tif")}
    assert sorted(maps) == ["x_classes.tif", "x_confidence.tif", "y_classes.tif", "y_confidence.tif"]
    capsys.readouterr()
    assert main(["batch", "--window", "8", "--json", "--model", str(models[0]), "--out-dir", str(b), "--confidence",
                 str(b)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert (res["done"], res["skipped"], res["failed"]) == (0, 2, 0)
    assert [Path(s["input"]).name for s in res["scenes"]] == ["x.tif", "y.tif"]
    assert {p.name: _sha(p) for p in b.glob("*_*.tif")} == maps


def test_batch_rerun_removes_side_maps_of_an_earlier_run(models, tmp_path, capsys):
    """A rerun with another model and without --confidence must not leave the old model's confidence map beside
    the new class map; one the user changed since is kept, warned about and listed in the manifest."""
    a = fd.make_geotiff(tmp_path / "a.tif")
    c = fd.make_geotiff(tmp_path / "c.tif", fd.synthetic_scene(seed=4)[0])
    out = tmp_path / "out"
    assert _batch("--model", models[0], "--out-dir", out, "--confidence", a, c) == 0
    old_class = _sha(out / "a_classes.tif")
    with open(out / "c_confidence.tif", "ab") as f:  # the user touched this one
        f.write(b"\0")
    capsys.readouterr()
    assert main(["batch", "--window", "8", "--model", str(models[1]), "--out-dir", str(out), str(a), str(c)]) == 0
    err = capsys.readouterr().err
    assert not (out / "a_confidence.tif").exists(), "the old model's confidence map passes for the new map's"
    assert _sha(out / "a_classes.tif") != old_class  # the new model's map
    assert (out / "c_confidence.tif").exists() and "c_confidence.tif" in err and "changed since" in err, err
    m = json.loads((out / "manifest.json").read_text())
    assert set(m["scenes"][str(a)]["outputs"]) == {"class_map"}
    assert m["scenes"][str(c)]["stale_outputs"] == [str(out / "c_confidence.tif")]
    assert m["model"]["sha256"] == _sha(models[1])


# ------------------------------------------------------------------------------------------ classify extension


def test_classify_refuses_map_names_whose_ending_is_not_geotiff(models, tmp_path, capsys):
    raster = fd.make_geotiff(tmp_path / "scene.tif")
    for extra, bad in ((["--out", str(tmp_path / "map.png")], "map.png"),
                       (["--out", str(tmp_path / "map.tif"), "--confidence", str(tmp_path / "conf.jpg")], "conf.jpg"),
                       (["--out", str(tmp_path / "map")], "map")):
        rc = main(["classify", "--model", str(models[0]), "--raster", str(raster), "--quiet"] + extra)
        err = capsys.readouterr().err
        assert rc == 2 and str(tmp_path / bad) in err and ".tif or .tiff" in err and "GeoTIFF" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.tif"]


# -------------------------------------------------------------------------------------------------------- sample


def test_sample_refuses_an_image_as_class_map(tmp_path, capsys):
    rng = np.random.default_rng(0)
    refl = fd.make_geotiff(tmp_path / "refl.tif", rng.random((fd.H, fd.W, 30), dtype=np.float32), nodata=None,
                           wavelengths=None)
    one_band = fd.make_geotiff(tmp_path / "ndvi.tif", rng.random((fd.H, fd.W, 1), dtype=np.float32), nodata=None,
                               wavelengths=None)
    for path, why in ((refl, "has 30 bands"), (one_band, "holds float32 values")):
        rc = main(["sample", "--map", str(path), "--out", str(tmp_path / "pts.gpkg"), "--quiet"])
        err = capsys.readouterr().err
        assert rc == 2 and str(path) in err and why in err and "not a class map" in err, err
    assert not (tmp_path / "pts.gpkg").exists()


def _gpkg_with_layers(path, names):
    import fiona

    for name in names:
        schema = {"geometry": "Point", "properties": {"note": "str"}}
        with fiona.open(path, "w", driver="GPKG", schema=schema, crs="EPSG:32633", layer=name) as dst:
            dst.write({"geometry": {"type": "Point", "coordinates": (500100.0, 4999700.0)},
                       "properties": {"note": f"kept in {name}"}})
    return path


def test_sample_never_empties_a_geopackage_with_other_layers(tmp_path, capsys):
    import fiona

    cmap = fd.make_geotiff(tmp_path / "map.tif", fd.synthetic_scene()[1], nodata=0, wavelengths=None)
    gpkg = _gpkg_with_layers(tmp_path / "project.gpkg", ["training", "checked"])
    before = _sha(gpkg)
    rc = main(["sample", "--map", str(cmap), "--out", str(gpkg), "--per-class", "3", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and str(gpkg) in err and "checked, training" in err and "new .gpkg" in err, err
    assert _sha(gpkg) == before and sorted(fiona.listlayers(gpkg)) == ["checked", "training"]
    # a GeoPackage holding only an earlier sample is replaced, as any rerun's output is
    pts = tmp_path / "pts.gpkg"
    assert main(["sample", "--map", str(cmap), "--out", str(pts), "--per-class", "3", "--quiet"]) == 0
    assert main(["sample", "--map", str(cmap), "--out", str(pts), "--per-class", "2", "--quiet"]) == 0
    with fiona.open(pts, layer="validation_points") as src:
        assert len(src) == 6
    (tmp_path / "notes.gpkg").write_text("not a geopackage")
    assert main(["sample", "--map", str(cmap), "--out", str(tmp_path / "notes.gpkg"), "--quiet"]) == 2
    assert "is not a GeoPackage" in capsys.readouterr().err
    assert (tmp_path / "notes.gpkg").read_text() == "not a geopackage"


# -------------------------------------------------------------------------------------- labels: class 0 and nodata


def test_label_raster_with_another_nodata_warns_that_class_0_is_left_out(tmp_path, capsys):
    """nodata -99 and a class 0: the zeros are unlabelled in HyperSNN (0 is the maps' nodata), said aloud."""
    gt = fd.synthetic_scene()[1].astype(np.int16)
    ref = gt.copy()
    ref[1:, :8] = 0  # class 1's block labelled 0 in the reference
    ref[0, :] = -99
    cmap = fd.make_geotiff(tmp_path / "map.tif", gt.astype(np.uint8), nodata=0, wavelengths=None)
    refp = fd.make_geotiff(tmp_path / "ref.tif", ref, nodata=-99, wavelengths=None)
    rc = main(["evaluate", "--map", str(cmap), "--labels", str(refp)])
    err = capsys.readouterr().err
    n0 = int((ref == 0).sum())
    assert rc == 0 and f"nodata value is -99, but {n0} pixel(s) hold 0" in err and str(refp) in err, err
    assert "another value" in err
    # the usual case, nodata 0, says nothing
    plain = fd.make_geotiff(tmp_path / "plain.tif", gt.astype(np.uint8), nodata=0, wavelengths=None)
    assert main(["evaluate", "--map", str(cmap), "--labels", str(plain)]) == 0
    assert "hold 0" not in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------- demo


def test_demo_out_dir_that_is_a_file_is_refused_by_name(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    rc = main(["demo", "--quick", "--out-dir", str(f)])
    err = capsys.readouterr().err
    assert rc == 2 and f"demo output folder {f} is a file" in err and "Traceback" not in err, err
    assert f.read_text() == "mine"
