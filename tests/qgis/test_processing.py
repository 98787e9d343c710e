"""Every Processing algorithm runs through processing.run("hypersnn:..."), and the workflow runs headless
through qgis_process once the plugin is on QGIS's plugin path."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import QgsProcessingException



@pytest.fixture
def provider(plugin):
    return plugin.provider


def test_train(provider, scene_dir, tmp_path):
    import processing

    res = processing.run("hypersnn:train", {
        "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(scene_dir / "train.gpkg"), "CLASS_FIELD": "klass",
        "CONFIG": str(scene_dir / "tiny.json"), "TIME_STEPS": 3, "VALIDATION": str(scene_dir / "valid.gpkg"),
        "OUTPUT_MODEL": str(tmp_path / "m.hsnn"), "OUTPUT_REPORT": str(tmp_path / "train_report.html")})
    assert Path(res["OUTPUT_MODEL"]).exists() and res["OUTPUT_REPORT"] == str(tmp_path / "train_report.html")
    assert 0 <= res["OA"] <= 1 and res["ENERGY_RATIO"] > 1
    from hypersnn.core.models.torch_model import HyperSNNModel

    m = HyperSNNModel.load(res["OUTPUT_MODEL"])
    assert m.net.time_steps == 3  # parameter changed from its default overrides the settings file
    assert m.net.cfg.patch_size == 5  # the rest comes from the settings file
    assert m.meta["split_protocol"]["method"] == "given"  # validation polygons test, training polygons train
    assert m.meta["metrics"]["test_snn"]["n_test"] == 3 * 7 * 6
    assert (tmp_path / "train_report.json").exists() and (tmp_path / "train_report_per_class.csv").exists()


def test_train_text_classes_and_batch_ready_outputs(provider, scene_dir, tmp_path):
    import processing
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById("hypersnn:train")
    outs = {o.name() for o in alg.outputDefinitions()}
    assert {"OUTPUT_MODEL", "OUTPUT_REPORT", "OA", "KAPPA", "ENERGY_RATIO"} <= outs
    res = processing.run("hypersnn:train", {
        "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(scene_dir / "train_text.gpkg"),
        "CLASS_FIELD": "cover", "CONFIG": str(scene_dir / "tiny.json"), "SPLIT": 1, "TRAIN_COUNT": 20,
        "OUTPUT_MODEL": "TEMPORARY_OUTPUT"})
    from hypersnn.core.models.torch_model import HyperSNNModel

    m = HyperSNNModel.load(res["OUTPUT_MODEL"])
    assert [c["name"] for c in m.classes] == ["bare soil", "forest", "meadow"]
    assert m.meta["split_protocol"]["method"] == "count"


def test_classify(provider, trained_model, scene_dir, tmp_path):
    import processing
    from osgeo import gdal

    res = processing.run("hypersnn:classify", {
        "INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model), "OUTPUT": str(tmp_path / "c.tif"),
        "CONFIDENCE": str(tmp_path / "conf.tif"), "PROBABILITIES": str(tmp_path / "p.tif")})
    assert res["OUTPUT"] == str(tmp_path / "c.tif") and res["CLASSIFIED_PIXELS"] == 20 * 24 - 2
    ds = gdal.Open(res["OUTPUT"])
    a = ds.ReadAsArray()
    assert set(a.ravel().tolist()) <= {0, 1, 2, 3} and (a == 0).sum() == 2
    assert ds.GetRasterBand(1).GetRasterColorTable() is not None
    assert gdal.Open(res["PROBABILITIES"]).RasterCount == 3
    c = gdal.Open(res["CONFIDENCE"]).ReadAsArray()
    assert c.max() <= 1.0 and c[a > 0].min() > 0
    assert (tmp_path / "c.qml").exists() and (tmp_path / "conf.qml").exists()
    assert res["ENERGY_MAP"] is None and res["SCENE_SNN_MJ"] is None  # only when asked for


def test_classify_writes_a_styled_energy_map_whose_sum_is_the_scene_energy(provider, trained_model, scene_dir,
                                                                           tmp_path):
    import numpy as np
    import processing
    from osgeo import gdal
    from qgis.core import QgsProcessingContext, QgsProject, QgsSingleBandPseudoColorRenderer

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    res = processing.run("hypersnn:classify", {
        "INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model), "OUTPUT": str(tmp_path / "c.tif"),
        "ENERGY_MAP": str(tmp_path / "energy.tif")}, context=context)
    ds = gdal.Open(res["ENERGY_MAP"])
    assert ds.RasterCount == 2
    assert [ds.GetRasterBand(b).GetDescription() for b in (1, 2)] == ["snn_energy_pj", "spikes"]
    e, s = ds.ReadAsArray().astype(np.float64)
    valid = e != -1
    assert valid.sum() == res["CLASSIFIED_PIXELS"] == 20 * 24 - 2
    assert (e[valid] > 0).all() and (s[valid] >= 0).all() and s[valid].sum() > 0
    assert res["SCENE_SNN_MJ"] == pytest.approx(e[valid].sum() * 1e-9, rel=1e-5)
    qml = tmp_path / "energy.qml"
    assert qml.exists() and "singlebandpseudocolor" in qml.read_text()
    from qgis.core import QgsRasterLayer
    lyr = QgsRasterLayer(str(tmp_path / "energy.tif"), "energy")
    assert lyr.isValid() and isinstance(lyr.renderer(), QgsSingleBandPseudoColorRenderer)  # the .qml beside it


def test_classify_mismatch_is_a_clear_error(provider, trained_model, scene_dir, tmp_path):
    import processing

    with pytest.raises(QgsProcessingException, match="has 10 bands but the model expects 12"):
        processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "other.tif"), "MODEL": str(trained_model),
                                             "OUTPUT": str(tmp_path / "c.tif")})
    assert not list(tmp_path.iterdir())


def test_assess_polygons_and_raster(provider, trained_model, scene_dir, tmp_path):
    import processing

    cmap = processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                                "OUTPUT": str(tmp_path / "c.tif"), "CONFIDENCE": None})["OUTPUT"]
    a = processing.run("hypersnn:assess", {"INPUT": cmap, "REFERENCE": str(scene_dir / "valid.gpkg"),
                                           "REFERENCE_FIELD": "klass", "OUTPUT_REPORT": str(tmp_path / "acc.html")})
    assert a["N_PIXELS"] == 3 * 7 * 6 and 0 <= a["OA"] <= 1 and -1 <= a["KAPPA"] <= 1
    assert Path(a["PER_CLASS_CSV"]).exists() and Path(a["CONFUSION_CSV"]).exists()
    rep = json.loads((tmp_path / "acc.json").read_text())
    assert rep["accuracy"]["n_test"] == a["N_PIXELS"]
    assert a["AREA_CSV"] is None and a["OA_AREA_ADJUSTED"] is None
    b = processing.run("hypersnn:assess", {"INPUT": cmap, "REFERENCE_RASTER": str(scene_dir / "labels.tif"),
                                           "OUTPUT_REPORT": str(tmp_path / "acc2.html"), "AREA_ADJUSTED": True})
    assert b["N_PIXELS"] == 20 * 24 - 2
    area = json.loads((tmp_path / "acc2.json").read_text())["accuracy"]["area_adjusted"]
    assert b["OA_AREA_ADJUSTED"] == pytest.approx(area["oa"]) and area["area_unit"] == "ha"
    assert Path(b["AREA_CSV"]).read_text().startswith("value,name,mapped_area,area,area_ci95")
    with pytest.raises(QgsProcessingException, match="reference"):
        processing.run("hypersnn:assess", {"INPUT": cmap, "OUTPUT_REPORT": str(tmp_path / "acc3.html")})


def test_sample_points_then_assess_them(provider, scene_dir, tmp_path):
    """Points from the GDAL/OGR backend: on the map's grid and CRS, one per class in the equal design, and read
    back by the assessment (a map assessed against its own classes at the points scores 100 %)."""
    import processing
    from qgis.core import QgsVectorLayer

    labels = str(scene_dir / "labels.tif")
    res = processing.run("hypersnn:sample", {"INPUT": labels, "N": 4, "SEED": 1,
                                             "OUTPUT": str(tmp_path / "pts.gpkg")})
    layer = QgsVectorLayer(res["OUTPUT"], "pts", "ogr")
    assert layer.isValid() and layer.featureCount() == res["N_POINTS"] > 0
    assert layer.crs().authid() == "EPSG:32633"
    names = [f.name() for f in layer.fields()]
    assert {"sample_id", "map_value", "map_class", "row", "col", "ref_value"} <= set(names)
    per_class = {}
    for f in layer.getFeatures():
        per_class[f["map_value"]] = per_class.get(f["map_value"], 0) + 1
    assert set(per_class.values()) == {4}
    a = processing.run("hypersnn:assess", {"INPUT": labels, "REFERENCE": res["OUTPUT"], "REFERENCE_FIELD": "map_value",
                                           "OUTPUT_REPORT": str(tmp_path / "acc.html"), "AREA_ADJUSTED": True})
    assert a["N_PIXELS"] == res["N_POINTS"] and a["OA"] == 1.0 and a["OA_AREA_ADJUSTED"] == 1.0
    with pytest.raises(QgsProcessingException, match=r"\.gpkg"):
        processing.run("hypersnn:sample", {"INPUT": labels, "N": 4, "OUTPUT": str(tmp_path / "pts.shp")})


def test_energy(provider, trained_model, scene_dir, tmp_path):
    import processing

    res = processing.run("hypersnn:energy", {
        "MODEL": str(trained_model), "INPUT": str(scene_dir / "scene.tif"), "REFERENCE": str(scene_dir / "valid.gpkg"),
        "REFERENCE_FIELD": "klass", "SAMPLE": 64, "OUTPUT_REPORT": str(tmp_path / "energy.html")})
    assert res["SNN_PJ"] > 0 and res["CNN_FP_PJ"] > res["CNN_Q_PJ"] > 0
    assert res["RATIO_FP"] == pytest.approx(res["CNN_FP_PJ"] / res["SNN_PJ"])
    assert res["RATIO_Q_PAPER"] > 0 and res["SNN_PJ_MAP_PIXEL"] > 0 and res["SCENE_SNN_MJ"] > 0
    assert 0 <= res["OA"] <= 1
    rep = json.loads((tmp_path / "energy.json").read_text())
    assert rep["energy"]["pixels_measured"] == 64
    c = rep["energy"]["conventions"]
    assert res["RATIO_Q"] == pytest.approx(c["complete"]["per_patch"]["ratios"]["q_cnn_over_snn"])
    assert res["RATIO_Q_PAPER"] == pytest.approx(c["paper"]["per_patch"]["ratios"]["q_cnn_over_snn"])
    # the fourth network and the memory line, apart from the compute convention
    assert res["CNN_Q_PJ"] > res["ANN_PJ"] > 0 and res["RATIO_ANN"] == pytest.approx(res["ANN_PJ"] / res["SNN_PJ"])
    flows = rep["energy"]["memory"]["dataflows"]
    assert res["RATIO_ANN_MEMORY"] == pytest.approx(flows["no_reuse"]["ratios"]["equivalent_ann_over_snn"])
    assert res["RATIO_ANN_MEMORY_REUSE"] == pytest.approx(flows["reuse"]["ratios"]["equivalent_ann_over_snn"])
    html = (tmp_path / "energy.html").read_text()
    assert "complete (headline)" in html and "paper" in html and "per map pixel" in html
    assert "-bit-activation ANN" in html and "Memory traffic" in html
    assert "energy measured on 64 reference pixels" in rep["split_protocol"]["evaluation"]
    no_ref = processing.run("hypersnn:energy", {"MODEL": str(trained_model), "INPUT": str(scene_dir / "scene.tif"),
                                                "SAMPLE": 16, "ENERGY_TABLE": 1,
                                                "OUTPUT_REPORT": str(tmp_path / "e2.html")})
    assert no_ref["OA"] is None and no_ref["SNN_PJ"] > 0
    assert json.loads((tmp_path / "e2.json").read_text())["energy"]["table"]["name"] == "horowitz45_int"
    assert no_ref["CNN_FP_PJ"] < res["CNN_FP_PJ"]  # INT32 full precision costs less than FP32


def test_workflow_and_cancel(provider, scene_dir, tmp_path):
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    res = processing.run("hypersnn:workflow", {
        "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(scene_dir / "train.gpkg"), "CLASS_FIELD": "klass",
        "CONFIG": str(scene_dir / "tiny.json"), "OUTPUT_MODEL": str(tmp_path / "m.hsnn"),
        "OUTPUT_CLASSES": str(tmp_path / "classes.tif"), "OUTPUT_CONFIDENCE": str(tmp_path / "conf.tif"),
        "OUTPUT_REPORT": str(tmp_path / "train.html"), "OUTPUT_ASSESSMENT": str(tmp_path / "acc.html")})
    for k in ("OUTPUT_MODEL", "OUTPUT_CLASSES", "OUTPUT_CONFIDENCE", "OUTPUT_REPORT", "OUTPUT_ASSESSMENT"):
        assert Path(res[k]).exists(), k
    acc = json.loads((tmp_path / "acc.json").read_text())
    assert "pixels used in training excluded" in acc["split_protocol"]["description"]
    assert 0 <= res["OA"] <= 1 and res["ENERGY_RATIO"] > 1
    # a canceled feedback stops the run, leaves no output and says so
    fb = QgsProcessingFeedback()
    fb.cancel()
    out = tmp_path / "canceled"
    out.mkdir()
    with pytest.raises(QgsProcessingException, match="[Cc]anceled"):
        processing.run("hypersnn:workflow", {
            "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(scene_dir / "train.gpkg"), "CLASS_FIELD": "klass",
            "CONFIG": str(scene_dir / "tiny.json"), "OUTPUT_MODEL": str(out / "m.hsnn"),
            "OUTPUT_CLASSES": str(out / "c.tif")}, feedback=fb, context=QgsProcessingContext())
    assert list(out.iterdir()) == []


def test_workflow_in_map_production_reports_the_cross_validated_accuracy(provider, scene_dir, tmp_path):
    """The default split (map production) trains on every label: the workflow then has no pixel left to assess the
    map on, so it writes no map assessment, and its OA is the training report's grouped cross-validated OA."""
    import processing
    import data as D

    cfg = D.write_tiny_config(tmp_path / "cv.json", split={"method": "cv", "folds": 2})
    res = processing.run("hypersnn:workflow", {
        "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": str(scene_dir / "train.gpkg"), "CLASS_FIELD": "klass",
        "CONFIG": str(cfg), "OUTPUT_MODEL": str(tmp_path / "m.hsnn"), "OUTPUT_CLASSES": str(tmp_path / "classes.tif"),
        "OUTPUT_REPORT": str(tmp_path / "train.html"), "OUTPUT_ASSESSMENT": str(tmp_path / "acc.html")})
    rep = json.loads((tmp_path / "train.json").read_text())
    assert rep["split_protocol"]["method"] == "cv" and rep["split_protocol"]["folds"] == 2
    assert res["OUTPUT_ASSESSMENT"] is None and not (tmp_path / "acc.html").exists()
    assert res["OA"] == pytest.approx(rep["accuracy"]["oa"]) and res["TEST_OA"] == res["OA"]
    assert Path(res["OUTPUT_CLASSES"]).exists()


def test_algorithms_in_a_model_designer_model(provider, scene_dir, tmp_path):
    """Proper parameter and output definitions: in a Processing model, the file `train` writes is the model
    `classify` reads. QGIS validates the chain and runs it; the class map it writes is the one `classify`
    gives for that model file on its own."""
    import processing
    from osgeo import gdal
    from qgis.core import (QgsProcessingContext, QgsProcessingFeedback, QgsProcessingModelAlgorithm,
                           QgsProcessingModelChildAlgorithm, QgsProcessingModelChildParameterSource as Source,
                           QgsProcessingModelOutput, QgsProcessingModelParameter,
                           QgsProcessingParameterRasterLayer)

    m = QgsProcessingModelAlgorithm("hypersnn chain", "test")
    m.addModelParameter(QgsProcessingParameterRasterLayer("scene", "Scene"), QgsProcessingModelParameter("scene"))
    train = QgsProcessingModelChildAlgorithm("hypersnn:train")
    train.setChildId("train")
    train.addParameterSources("INPUT", [Source.fromModelParameter("scene")])
    train.addParameterSources("POLYGONS", [Source.fromStaticValue(str(scene_dir / "train.gpkg"))])
    train.addParameterSources("CLASS_FIELD", [Source.fromStaticValue("klass")])
    train.addParameterSources("CONFIG", [Source.fromStaticValue(str(scene_dir / "tiny.json"))])
    model_out = QgsProcessingModelOutput("model")
    model_out.setChildOutputName("OUTPUT_MODEL")
    train.setModelOutputs({"model": model_out})
    classify = QgsProcessingModelChildAlgorithm("hypersnn:classify")
    classify.setChildId("classify")
    classify.addParameterSources("INPUT", [Source.fromModelParameter("scene")])
    classify.addParameterSources("MODEL", [Source.fromChildOutput("train", "OUTPUT_MODEL")])
    classes_out = QgsProcessingModelOutput("classes")
    classes_out.setChildOutputName("OUTPUT")
    classify.setModelOutputs({"classes": classes_out})
    for child in (train, classify):  # as the model designer's dialog does: the rest at their defaults
        for d in child.algorithm().parameterDefinitions():
            if not d.isDestination() and d.name() not in child.parameterSources():
                child.addParameterSources(d.name(), [Source.fromStaticValue(d.defaultValue())])
        m.addChildAlgorithm(child)
    m.updateDestinationParameters()
    # QGIS resolves the children against the registered algorithms' definitions: every mandatory
    # parameter has a source of an accepted type, and the destinations became model parameters
    for child in ("train", "classify"):
        ok, errors = m.validateChildAlgorithm(child)
        assert ok, (child, errors)
    assert {p.name() for p in m.destinationParameterDefinitions()} == {"train:model", "classify:classes"}

    res = processing.run(m, {"scene": str(scene_dir / "scene.tif"), "train:model": str(tmp_path / "m.hsnn"),
                             "classify:classes": str(tmp_path / "classes.tif")},
                         feedback=QgsProcessingFeedback(), context=QgsProcessingContext())
    assert res["train:model"] == str(tmp_path / "m.hsnn") and (tmp_path / "m.hsnn").is_file()
    assert res["classify:classes"] == str(tmp_path / "classes.tif")
    chained = gdal.Open(res["classify:classes"]).ReadAsArray()
    alone = processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"),
                                                 "MODEL": str(tmp_path / "m.hsnn"),
                                                 "OUTPUT": str(tmp_path / "alone.tif")})
    assert (chained == gdal.Open(alone["OUTPUT"]).ReadAsArray()).all()
    assert (chained == 0).sum() == 2 and set(chained.ravel().tolist()) <= {0, 1, 2, 3}


QGIS_PROCESS = "/usr/bin/qgis_process.bin"


def _qgis_process(tmp_path, first_on_path=()):
    """run(*args) -> (rc, stdout, stderr) of qgis_process with this repository as its only plugin, in a
    throwaway profile; `first_on_path` folders come first on its PYTHONPATH."""
    import site

    repo = Path(__file__).resolve().parents[2]
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "hypersnn").symlink_to(repo, target_is_directory=True)
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    site_dirs = [p for p in site.getsitepackages() if "site-packages" in p and ".venv" in p] or \
        [p for p in sys.path if p.endswith("site-packages")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QGIS_", "PYTEST", "PYTHON"))}
    env.update(QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=str(plugins),
               PYTHONPATH=os.pathsep.join([*map(str, first_on_path), *site_dirs]),
               HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_RUNTIME_DIR=str(runtime),
               QGIS_CUSTOM_CONFIG_PATH=str(home / "qgis"))

    def run(*args, timeout=240):
        p = subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    return run


@pytest.mark.skipif(not os.path.exists(QGIS_PROCESS) and os.environ.get("CI") != "true",
                    reason="qgis_process.bin not installed (with CI=true this fails instead)")
def test_qgis_process_runs_the_workflow_headless(scene_dir, tmp_path):
    repo = Path(__file__).resolve().parents[2]
    run = _qgis_process(tmp_path)
    rc, out, err = run("plugins", "enable", "hypersnn")
    assert rc == 0, out + err
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, out, err = run("--json", "run", "hypersnn:workflow", "--",
                  f"INPUT={scene_dir / 'scene.tif'}", f"POLYGONS={scene_dir / 'train.gpkg'}", "CLASS_FIELD=klass",
                  f"CONFIG={scene_dir / 'tiny.json'}", f"OUTPUT_MODEL={out_dir / 'm.hsnn'}",
                  f"OUTPUT_CLASSES={out_dir / 'classes.tif'}", f"OUTPUT_CONFIDENCE={out_dir / 'conf.tif'}",
                  f"OUTPUT_REPORT={out_dir / 'train.html'}", f"OUTPUT_ASSESSMENT={out_dir / 'acc.html'}")
    assert rc == 0, out + err
    result = json.loads(out[out.index("{"):])["results"]
    assert Path(result["OUTPUT_CLASSES"]).exists() and Path(result["OUTPUT_MODEL"]).exists()
    assert 0 <= result["OA"] <= 1
    assert (out_dir / "acc.html").exists() and (out_dir / "classes.qml").exists()
    assert not (repo / ".qgis-settings" / "profiles" / "default" / "python" / "plugins").exists()


@pytest.mark.skipif(not os.path.exists(QGIS_PROCESS) and os.environ.get("CI") != "true",
                    reason="qgis_process.bin not installed (with CI=true this fails instead)")
def test_qgis_process_batch_on_local_dask_workers(provider, trained_model, scene_dir, tmp_path):
    """SCHEDULER=local:2 inside QGIS, whose program is qgis_process, not Python: the worker processes are
    started with the Python QGIS embeds (workflows/distributed.worker_python) and write the same bytes as the
    batch without Dask."""
    import hashlib
    import shutil

    import processing

    pytest.importorskip("distributed")
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(scene_dir / "scene.tif", scenes / "a.tif")
    here = processing.run("hypersnn:batch", {"PATTERN": str(scenes), "MODEL": str(trained_model),
                                             "OUTPUT_FOLDER": str(tmp_path / "here"), "WINDOW": 8})
    assert here["DONE"] == 1
    run = _qgis_process(tmp_path)
    assert run("plugins", "enable", "hypersnn")[0] == 0
    rc, out, err = run("--json", "run", "hypersnn:batch", "--", f"PATTERN={scenes}", f"MODEL={trained_model}",
                       f"OUTPUT_FOLDER={tmp_path / 'there'}", "WINDOW=8", "SCHEDULER=local:2")
    assert rc == 0, out + err
    assert json.loads(out[out.index("{"):])["results"]["DONE"] == 1
    for n in ("a_classes.tif", "a_confidence.tif"):
        a, b = (hashlib.sha256((tmp_path / d / n).read_bytes()).hexdigest() for d in ("here", "there"))
        assert a == b, n
    m = json.loads((tmp_path / "there" / "manifest.json").read_text())
    assert m["scheduler"] == "local:2"


def test_training_parameters_come_from_the_settings_registry(provider):
    """Every Processing training setting is a parameter of hypersnn:train, typed and bounded as registered, and
    parameters changed from their defaults reach the run's settings."""
    from qgis.core import (QgsApplication, QgsProcessingContext, QgsProcessingParameterEnum,
                           QgsProcessingParameterNumber)

    from hypersnn.core.config.settings import settings
    from hypersnn.plugin.algorithms import parameters as P

    alg = QgsApplication.processingRegistry().algorithmById("hypersnn:train")
    for s in settings(*P.TRAIN_SECTIONS, where="processing"):
        d = alg.parameterDefinition(s.param)
        assert d is not None, s.key
        assert getattr(P, f"P_{s.param}") == s.param
        if s.processing_choices:
            assert isinstance(d, QgsProcessingParameterEnum) and d.options() == [str(c) for c in s.processing_choices]
        elif s.type is int and s.lo is not None:
            assert isinstance(d, QgsProcessingParameterNumber) and d.minimum() == s.lo, s.key
    ctx = QgsProcessingContext()
    cfg = P.config_from_parameters(alg, {"LEAK_MODE": 1, "INPUT_BITS": 8, "TIME_STEPS": 3, "SEED": 5}, ctx)
    assert (cfg.train.leak_mode, cfg.model.input_bits, cfg.train.time_steps) == ("pow2", 8, 3)
    assert cfg.train.seed == cfg.split.seed == 5


def test_train_from_points_with_a_buffer_in_map_units(provider, scene_dir, tmp_path):
    """Processing takes point layers as training data; a 40 m buffer labels the pixels around each point."""
    import processing
    from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsPointXY, QgsVectorLayer
    import fixtures_data as fd
    from hypersnn.plugin.qgis_compat import field_type

    layer = QgsVectorLayer("Point?crs=EPSG:32633", "points", "memory")
    layer.dataProvider().addAttributes([QgsField("klass", field_type("Int"))])
    layer.updateFields()
    x0, y0, p = fd.ORIGIN[0], fd.ORIGIN[1], fd.PIXEL
    feats = []
    for k in range(3):
        for r in (3, 8, 13, 17):
            f = QgsFeature(layer.fields())
            f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x0 + (8 * k + 3.5) * p, y0 - (r + 0.5) * p)))
            f.setAttributes([k + 1])
            feats.append(f)
    layer.dataProvider().addFeatures(feats)
    res = processing.run("hypersnn:train", {
        "INPUT": str(scene_dir / "scene.tif"), "POLYGONS": layer, "CLASS_FIELD": "klass", "POINT_BUFFER": 40.0,
        "POINT_BUFFER_UNIT": 1, "OUTPUT_MODEL": str(tmp_path / "m.hsnn"), "CONFIG": str(scene_dir / "tiny.json")})
    from hypersnn.core.models.torch_model import HyperSNNModel
    proto = HyperSNNModel.load(res["OUTPUT_MODEL"]).meta["split_protocol"]
    # pixel centres within 40 m of a pixel centre: the 3 x 3 block (diagonal 42.4 m is outside), less its corners
    assert proto["totals"]["labelled"] == 12 * 5


HIDE_TORCH = """import sys
sys.modules["torch"] = None  # QGIS's Python as if torch were not installed: `import torch` raises ImportError
"""


@pytest.mark.skipif(not os.path.exists(QGIS_PROCESS) and os.environ.get("CI") != "true",
                    reason="qgis_process.bin not installed (with CI=true this fails instead)")
def test_qgis_classifies_without_torch(provider, trained_model, scene_dir, tmp_path):
    """QGIS whose Python has no torch: the plugin loads, hypersnn:classify runs the SNN on ONNX Runtime and
    writes the class map that the torch engine writes; training says plainly that it needs torch."""
    import processing
    from osgeo import gdal

    pytest.importorskip("onnxruntime")
    hide = tmp_path / "hide_torch"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_TORCH)
    run = _qgis_process(tmp_path, first_on_path=[hide])
    rc, out, err = run("plugins", "enable", "hypersnn")
    assert rc == 0, out + err
    rc, out, err = run("--json", "run", "hypersnn:classify", "--", f"INPUT={scene_dir / 'scene.tif'}",
                       f"MODEL={trained_model}", f"OUTPUT={tmp_path / 'onnx.tif'}", f"CONFIDENCE={tmp_path / 'conf.tif'}")
    assert rc == 0, out + err
    assert json.loads(out[out.index("{"):])["results"]["ENGINE"] == "onnx"
    with_torch = processing.run("hypersnn:classify", {"INPUT": str(scene_dir / "scene.tif"), "MODEL": str(trained_model),
                                                      "OUTPUT": str(tmp_path / "torch.tif"), "ENGINE": 1})
    assert with_torch["ENGINE"] == "torch"
    a = gdal.Open(str(tmp_path / "onnx.tif")).ReadAsArray()
    assert (a == gdal.Open(with_torch["OUTPUT"]).ReadAsArray()).all() and (a > 0).sum() > 0.9 * a.size
    # the torch-free QGIS cannot train: the message names torch and the command that installs it
    rc, out, err = run("run", "hypersnn:train", "--", f"INPUT={scene_dir / 'scene.tif'}",
                       f"POLYGONS={scene_dir / 'train.gpkg'}", "CLASS_FIELD=klass", f"OUTPUT_MODEL={tmp_path / 'm.hsnn'}")
    assert rc != 0 and "torch" in out + err and "pip" in out + err
    assert not (tmp_path / "m.hsnn").exists()
