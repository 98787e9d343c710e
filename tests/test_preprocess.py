import json

import numpy as np
import pytest

from hypersnn.core.config.schema import PreprocessConfig
from hypersnn.core.errors import InputError, ModelFileError
from hypersnn.core.data.preprocess import Preprocessor


def _pixels(n=500, b=6, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 2)) @ rng.normal(size=(2, b))  # rank-2 signal
    return (base * 100 + 1000 + rng.normal(scale=1.0, size=(n, b))).astype(np.float32)


def test_standardise_fits_training_stats_and_constant_band():
    x = _pixels()
    x[:, 2] = 7.0  # constant band: std 0 -> scale 1, output 0
    p = Preprocessor().fit(x)
    z = p.transform(x)
    assert z.dtype == np.float32 and z.shape == x.shape and p.n_out == 6
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(np.delete(z.std(0), 2), 1, atol=1e-4)
    assert p.scale[2] == 1.0 and np.all(z[:, 2] == 0)


def test_transform_any_leading_shape_matches_flat_and_chunks(monkeypatch):
    x = _pixels()
    p = Preprocessor(pca_components=3).fit(x)
    img = _pixels(n=7 * 9, seed=1).reshape(7, 9, 6)
    flat = p.transform(img.reshape(-1, 6))
    import hypersnn.core.data.preprocess as pre

    monkeypatch.setattr(pre, "_CHUNK_BYTES", 8 * 6 * 5)  # 5-row chunks
    out = p.transform(img)
    assert out.shape == (7, 9, 3)
    np.testing.assert_allclose(out.reshape(-1, 3), flat, rtol=1e-6)
    assert p.transform(img[0, 0]).shape == (3,)


def test_pca_matches_svd_and_sign_is_deterministic():
    x = _pixels()
    p = Preprocessor(pca_components=2).fit(x)
    z = (x - x.mean(0, dtype=np.float64)) / x.std(0, dtype=np.float64)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    for i in range(2):  # same axes up to sign; our sign: largest loading positive
        assert abs(abs(p.components[:, i] @ vt[i]) - 1) < 1e-8
        assert p.components[np.argmax(np.abs(p.components[:, i])), i] > 0
    np.testing.assert_allclose(p.explained_variance_ratio, (s ** 2 / (s ** 2).sum())[:2], rtol=1e-8)
    assert p.explained_variance_ratio[0] > 0.5 and p.explained_variance_ratio.sum() > 0.99
    q = Preprocessor(pca_components=2).fit(x[::-1].copy())  # order of pixels must not flip signs
    np.testing.assert_allclose(q.components, p.components, atol=1e-8)
    out = p.transform(x)
    assert abs(np.corrcoef(out[:, 0], out[:, 1])[0, 1]) < 1e-4


def test_pca_too_many_components_names_both_numbers():
    x = _pixels(n=4, b=6)
    with pytest.raises(InputError, match=r"pca_components \(7\).*bands \(6\).*pixels \(4\)"):
        Preprocessor(pca_components=7).fit(x)
    with pytest.raises(InputError, match=r"pca_components \(5\).*pixels \(4\)"):
        Preprocessor(pca_components=5).fit(x)


def test_fit_rejects_non_finite_and_wrong_shapes():
    x = _pixels()
    x[3, 1] = np.nan
    x[9, 0] = np.inf
    with pytest.raises(InputError, match="2 training pixel"):
        Preprocessor().fit(x)
    with pytest.raises(InputError, match=r"\(N, bands\)"):
        Preprocessor().fit(np.zeros((2, 3, 4)))
    p = Preprocessor().fit(_pixels())
    with pytest.raises(InputError, match="fitted on 6 bands but got an array with 5"):
        p.transform(np.zeros((3, 5)))
    with pytest.raises(InputError, match="not fitted"):
        Preprocessor().transform(np.zeros((3, 5)))


def test_no_standardise_no_pca_is_identity():
    x = _pixels()
    p = Preprocessor.from_config(PreprocessConfig(standardize=False, pca_components=0), x.shape[1]).fit(x)
    np.testing.assert_array_equal(p.transform(x), x)


def test_auto_pca_reduces_many_bands_only():
    from hypersnn.core.data.preprocess import resolve_pca

    assert PreprocessConfig().pca_components == -1  # auto is the default
    assert resolve_pca(-1, 224) == 30 and resolve_pca(-1, 64) == 0 and resolve_pca(-1, 65) == 30
    assert resolve_pca(-1, 224, n_train=12) == 12  # never more components than training pixels
    assert resolve_pca(0, 224) == 0 and resolve_pca(7, 224) == 7  # explicit settings win


def test_auto_pca_in_a_training_run_is_logged_and_stored(tmp_path):
    """A 100-band scene at the default (auto) trains on 30 principal components; the model file keeps both the
    setting (auto) and what it resolved to."""
    import fixtures_data as fd
    from tiny import tiny_config

    from hypersnn.workflows.rasterio_reader import open_raster
    from hypersnn.core.data.labels import labels_from_array
    from hypersnn.core.models.torch_model import HyperSNNModel
    from hypersnn.core.training.pipeline import train

    cube, gt = fd.synthetic_scene()
    rng = np.random.default_rng(0)
    mix = np.abs(rng.normal(size=(cube.shape[2], 100))) / cube.shape[2]
    wide = np.where(cube[..., :1] == fd.NODATA, fd.NODATA, np.round(cube @ mix)).astype(np.int16)
    path = fd.make_geotiff(tmp_path / "wide.tif", wide, wavelengths=list(np.linspace(420, 2400, 100)))
    cfg = tiny_config(cnn_epochs=1, snn_epochs=1)
    cfg.preprocess.pca_components = -1
    lines = []
    with open_raster(path) as r:
        out = train(r, labels_from_array(gt, nodata=0), cfg, tmp_path / "m.hsnn", log=lines.append)
    assert out.model.preprocessor.pca_components == 30 and out.model.preprocessor.n_out == 30
    assert any("100 bands -> 30 features (PCA auto: 30 components" in line for line in lines), lines
    m = HyperSNNModel.load(tmp_path / "m.hsnn")
    assert m.meta["config"]["preprocess"]["pca_components"] == -1 and m.preprocessor.pca_components == 30


def test_round_trip_through_json():
    x = _pixels()
    p = Preprocessor(pca_components=3).fit(x)
    q = Preprocessor.from_dict(json.loads(json.dumps(p.to_dict())))
    np.testing.assert_array_equal(q.transform(x), p.transform(x))
    assert q.n_out == 3
    np.testing.assert_array_equal(q.explained_variance_ratio, p.explained_variance_ratio)
    d = p.to_dict()
    d["components"] = d["components"][:2]
    with pytest.raises(ModelFileError, match="malformed"):
        Preprocessor.from_dict(d)
    with pytest.raises(ModelFileError, match="newer"):
        Preprocessor.from_dict({**p.to_dict(), "version": 99})


def test_bins_average_contiguous_standardised_bands_and_round_trip():
    """Spectral binning: 7 bands in 3 bins are runs of 3, 2, 2 bands, each feature the mean of its standardised
    bands; no fitting beyond the standardisation, so more bins than training pixels is fine; the record keeps
    the reduction, and an unknown one is a corrupt file."""
    x = _pixels(n=50, b=7)
    p = Preprocessor(pca_components=3, reduction="bins").fit(x)
    z = (x.astype(np.float64) - x.mean(0)) / x.std(0)
    want = np.stack([z[:, :3].mean(1), z[:, 3:5].mean(1), z[:, 5:].mean(1)], axis=1)
    np.testing.assert_allclose(p.transform(x), want, rtol=1e-5, atol=1e-5)
    assert p.explained_variance_ratio is None and p.n_out == 3
    q = Preprocessor.from_dict(json.loads(json.dumps(p.to_dict())))
    assert q.reduction == "bins"
    np.testing.assert_array_equal(q.transform(x), p.transform(x))
    assert Preprocessor(pca_components=6, reduction="bins").fit(x[:4]).n_out == 6
    with pytest.raises(ModelFileError, match="unknown spectral reduction"):
        Preprocessor.from_dict({**p.to_dict(), "reduction": "wavelets"})
    assert "reduction" not in Preprocessor(pca_components=3).fit(x).to_dict()  # PCA files read by older versions


def test_bins_in_a_training_run_reach_the_model_and_classification(tmp_path):
    """--spectral-reduction bins through the CLI: the log says bins, the model file keeps them, and classify
    (torch and ONNX engines) gives the same classes."""
    import fixtures_data as fd
    import rasterio

    from hypersnn.cli import main
    from hypersnn.core.models.torch_model import HyperSNNModel

    pytest.importorskip("onnxruntime")
    scene = fd.make_geotiff(tmp_path / "s.tif")
    labels = fd.make_geotiff(tmp_path / "l.tif", fd.synthetic_scene()[1], nodata=0, wavelengths=None)
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"train": {"cnn_epochs": 1, "snn_epochs": 1, "threads": 1},
                               "model": {"patch_size": 3, "conv3d_channels": [2], "conv3d_spectral_kernels": [3],
                                         "conv2d_channels": [4], "dense": [8]}}))
    assert main(["train", "--raster", str(scene), "--labels", str(labels), "--out", str(tmp_path / "m.hsnn"),
                 "--config", str(cfg), "--pca", "4", "--spectral-reduction", "bins", "--quiet"]) == 0
    m = HyperSNNModel.load(tmp_path / "m.hsnn")
    assert m.preprocessor.reduction == "bins" and m.preprocessor.n_out == 4
    assert m.meta["config"]["preprocess"]["spectral_reduction"] == "bins"
    maps = []
    for engine in ("torch", "onnx"):
        out = tmp_path / f"{engine}.tif"
        assert main(["classify", "--model", str(tmp_path / "m.hsnn"), "--raster", str(scene), "--out", str(out),
                     "--engine", engine, "--quiet"]) == 0
        with rasterio.open(out) as ds:
            maps.append(ds.read(1))
    assert (maps[0] == maps[1]).all() and (maps[0] > 0).sum() > 0


@pytest.mark.parametrize("standardize,k,reduction", [(True, 4, "pca"), (True, 3, "bins"), (True, 0, "pca"),
                                                     (False, 4, "pca"), (False, 0, "pca")])
def test_illumination_offset_makes_brightness_scaling_affine_in_feature_space(standardize, k, reduction):
    """Spectral augmentation scales reflectance in feature space: f(a x) = a f(x) + (a - 1) c for every
    preprocessing the engine fits, so no raw pixel is needed during training."""
    rng = np.random.default_rng(0)
    x = rng.normal(1000, 200, size=(300, 8)) + np.arange(8) * 50
    p = Preprocessor(standardize=standardize, pca_components=k, reduction=reduction).fit(x)
    c = p.illumination_offset()
    assert c.shape == (p.n_out,)
    for a in (0.8, 1.0, 1.17):
        np.testing.assert_allclose(p.transform(a * x[:20]), a * p.transform(x[:20]) + (a - 1) * c, rtol=1e-4,
                                   atol=1e-3)
