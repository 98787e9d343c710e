"""Classification without torch: the SNN as an ONNX graph (core/models/onnx_graph.py) run by ONNX Runtime
(core/models/engines.py) gives the torch engine's class map, with class probabilities within
CONFIDENCE_TOLERANCE, for the hybrid and 3-D networks, real-valued and k-bit input, any window size;
`hypersnn export --onnx` writes the same graph with the model's contract in its metadata; and the CLI
classifies in a Python where torch cannot be imported."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.cli import main
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.errors import HyperSNNError, InputError
from hypersnn.core.models.engines import OnnxModel, load_classifier, resolve_engine
from hypersnn.core.data.labels import labels_from_array
from hypersnn.core.mapping.predict import classify_raster
from hypersnn.core.io.raster import ArrayReader, ArrayWriter, RasterInfo
from tiny import tiny_config

onnxruntime = pytest.importorskip("onnxruntime")
CONFIDENCE_TOLERANCE = 1e-5
"""The stated bound on |p_onnx - p_torch| for every class probability (measured: about 6e-8)."""
ROOT = Path(__file__).resolve().parents[1]


def _reader():
    cube = fd.synthetic_scene()[0]
    h, w, b = cube.shape
    return ArrayReader(cube, RasterInfo(width=w, height=h, count=b, dtype=str(cube.dtype), nodata=fd.NODATA))


@pytest.fixture(scope="module", params=[("hybrid", 0, "trained", 0), ("3d", 0, "trained", 0), ("hybrid", 8, "pow2", 0),
                                        ("hybrid", 8, "pow2", 8)],
                ids=["hybrid", "3d", "8-bit-input-pow2-leak", "8-bit-membrane"])
def model_file(request, tmp_path_factory):
    from hypersnn.core.training import pipeline

    arch, input_bits, leak_mode, membrane_bits = request.param
    cfg = tiny_config(cnn_epochs=2, snn_epochs=1, threads=1, leak_mode=leak_mode, membrane_bits=membrane_bits)
    cfg.model.arch, cfg.model.input_bits = arch, input_bits
    out = pipeline.train(_reader(), labels_from_array(fd.synthetic_scene()[1]), cfg)
    path = tmp_path_factory.mktemp(f"onnx-{arch}-{input_bits}-{leak_mode}-{membrane_bits}") / "m.hsnn"
    out.model.save(path)
    return path


def _classify(model, window):
    writers = {}

    def open_writer(spec):
        writers[spec.path] = ArrayWriter(spec)
        return writers[spec.path]

    classify_raster(model, _reader(), open_writer, "class", "conf", "prob", cfg=ClassifyConfig(window=window))
    return writers["class"].array[..., 0], writers["conf"].array[..., 0], writers["prob"].array


@pytest.mark.parametrize("window", [4, 16, 64])
def test_onnx_engine_gives_the_torch_class_map(model_file, window):
    torch_model, onnx_model = load_classifier(model_file, "torch"), load_classifier(model_file, "onnx")
    assert isinstance(onnx_model, OnnxModel) and torch_model.engine == "torch"
    c_t, f_t, p_t = _classify(torch_model, window)
    c_o, f_o, p_o = _classify(onnx_model, window)
    assert (c_t > 0).sum() > 0.9 * c_t.size
    np.testing.assert_array_equal(c_o, c_t)
    np.testing.assert_allclose(p_o, p_t, rtol=0, atol=CONFIDENCE_TOLERANCE)
    np.testing.assert_allclose(f_o, f_t, rtol=0, atol=CONFIDENCE_TOLERANCE)


def test_graph_has_dynamic_batch_and_window_and_equals_torch_per_sample(model_file):
    import torch

    t = load_classifier(model_file, "torch")
    o = load_classifier(model_file, "onnx")
    rng = np.random.default_rng(0)
    p = t.patch_size
    for n, h, w in ((1, p, p), (3, p + 7, p + 2), (2, p + 20, p + 11)):
        x = rng.normal(0, 1.5, (n, t.net.in_bands, h, w)).astype(np.float32)
        with torch.no_grad():
            want = t.net(torch.from_numpy(x)).numpy()
        got = o.scores(x)
        assert got.shape == want.shape == (n, t.net.n_classes, h - p + 1, w - p + 1)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * max(1.0, float(np.abs(want).max())))
        assert (got.argmax(1) == want.argmax(1)).mean() == 1.0


def test_export_writes_a_standalone_graph_with_the_contract(model_file, tmp_path, capsys):
    import onnx

    out = tmp_path / "snn.onnx"
    assert main(["export", str(model_file), "--onnx", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["onnx"] == str(out) and info["opset"] == 17
    graph = onnx.load(str(out))
    onnx.checker.check_model(graph)
    meta = json.loads({p.key: p.value for p in graph.metadata_props}["hypersnn"])
    rec = load_classifier(model_file, "onnx").record
    assert meta["classes"] == rec.classes and meta["bands"]["indices"] == rec.bands.indices
    assert meta["preprocessing"] == rec.preprocessor.to_dict() and meta["time_steps"] == rec.time_steps
    dims = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", rec.in_features, "rows", "cols"]
    # any ONNX runtime: a plain session on the exported file scores as the engine does
    sess = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).normal(size=(2, rec.in_features, rec.patch_size + 3, rec.patch_size)).astype(np.float32)
    np.testing.assert_array_equal(sess.run(None, {"features": x})[0], load_classifier(model_file, "onnx").scores(x))


def test_export_refuses_to_overwrite_its_input(model_file):
    from hypersnn.workflows.export import run_export
    before = Path(model_file).read_bytes()
    with pytest.raises(HyperSNNError, match="model file"):
        run_export(model_file, model_file)
    assert Path(model_file).read_bytes() == before


def test_engine_errors_are_plain(model_file):
    with pytest.raises(InputError, match="engine must be one of"):
        resolve_engine("tensorflow")
    o = load_classifier(model_file, "onnx")
    from hypersnn.core.mapping.predict import WindowClassifier
    with pytest.raises(InputError, match="ONNX engine runs the SNN only"):
        WindowClassifier(o, _reader(), mode="cnn")
    with pytest.raises(InputError, match="energy map"):
        classify_raster(o, _reader(), lambda spec: ArrayWriter(spec), "c", energy_path="e")


TORCHLESS = """
import sys
sys.modules["torch"] = None  # `import torch` raises ImportError, as where torch is not installed
from hypersnn.cli import main
rc = main(sys.argv[1:])
assert not any(m == "torch" or m.startswith("torch.") for m, v in sys.modules.items() if v is not None)
sys.exit(rc)
"""


def test_cli_classifies_without_torch(model_file, tmp_path, geotiff):
    """The CLI in a Python where torch does not import: `auto` takes ONNX Runtime; the map is the torch one."""
    raster = geotiff
    out_o, out_t = tmp_path / "onnx.tif", tmp_path / "torch.tif"
    r = subprocess.run([sys.executable, "-c", TORCHLESS, "classify", "--model", str(model_file), "--raster",
                        str(raster), "--out", str(out_o), "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["engine"] == "onnx"
    assert main(["classify", "--model", str(model_file), "--raster", str(raster), "--out", str(out_t),
                 "--engine", "torch", "--quiet"]) == 0
    import rasterio
    with rasterio.open(out_o) as a, rasterio.open(out_t) as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
        assert a.colorinterp == b.colorinterp
    # asking for torch where it is missing is a plain error
    r = subprocess.run([sys.executable, "-c", TORCHLESS, "classify", "--model", str(model_file), "--raster",
                        str(raster), "--out", str(tmp_path / "x.tif"), "--engine", "torch"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "needs the Python package torch" in r.stderr
    assert not (tmp_path / "x.tif").exists()


def test_indian_pines_sample_same_map_with_both_engines(tmp_path, capsys):
    """The bundled Indian Pines sample (145 x 145 x 200): a small real model, the whole scene, both engines."""
    sample = ROOT / "resources" / "indian_pines"
    cfg = tiny_config(cnn_epochs=3, snn_epochs=1, threads=1)
    cfg.split.method, cfg.split.train_count = "count", 15
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    model = tmp_path / "ip.hsnn"
    assert main(["train", "--raster", str(sample / "indian_pines.tif"), "--labels", str(sample / "indian_pines_gt.tif"),
                 "--classes", str(sample / "classes.json"), "--out", str(model), "--config", str(tmp_path / "cfg.json"),
                 "--quiet"]) == 0
    maps = {}
    for engine in ("torch", "onnx"):
        out, conf = tmp_path / f"{engine}.tif", tmp_path / f"{engine}_conf.tif"
        assert main(["classify", "--model", str(model), "--raster", str(sample / "indian_pines.tif"), "--out", str(out),
                     "--confidence", str(conf), "--engine", engine, "--quiet"]) == 0
        import rasterio
        with rasterio.open(out) as a, rasterio.open(conf) as c:
            maps[engine] = a.read(1), c.read(1)
    capsys.readouterr()
    assert (maps["torch"][0] > 0).all()
    np.testing.assert_array_equal(maps["onnx"][0], maps["torch"][0])
    np.testing.assert_allclose(maps["onnx"][1], maps["torch"][1], rtol=0, atol=CONFIDENCE_TOLERANCE)
