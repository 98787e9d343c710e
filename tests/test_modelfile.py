"""Model files: exact round trip, and every kind of bad file refused with a clear message."""
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch

from hypersnn.core.training import pipeline
from hypersnn.core.errors import ModelFileError, ModelMismatchError
from hypersnn.core.data.labels import labels_from_array
from hypersnn.core.models.torch_model import HyperSNNModel
from hypersnn.core.models.modelfile import FORMAT_VERSION, load_model
from hypersnn.core.io.raster import ArrayReader, RasterInfo
from tiny import tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory, ):
    import fixtures_data as fd
    cube, gt = fd.synthetic_scene()
    info = RasterInfo(width=24, height=20, count=12, dtype="int16", nodata=fd.NODATA,
                      wavelengths=list(fd.WAVELENGTHS_NM), path="scene.tif")
    path = tmp_path_factory.mktemp("m") / "m.hsnn"
    out = pipeline.train(ArrayReader(cube, info), labels_from_array(gt), tiny_config(), str(path))
    return path, out, cube, info


def test_round_trip_reproduces_predictions_exactly(trained):
    path, out, cube, info = trained
    m = HyperSNNModel.load(path)
    x = torch.randn(16, out.model.net.in_bands, 5, 5)
    with torch.no_grad():
        np.testing.assert_array_equal(m.net(x).numpy(), out.model.net(x).numpy())
    assert m.net.neuron_params() == pytest.approx(out.model.net.neuron_params())
    assert m.classes == out.model.classes
    assert m.meta["split_protocol"]["seed"] == 0
    # the CNN it came from round-trips too (the energy comparison and the CNN-mode map use it)
    assert set(m.cnn_state) == set(out.model.cnn_state)
    for k, v in out.model.cnn_state.items():
        np.testing.assert_array_equal(np.asarray(m.cnn_state[k]), np.asarray(v), err_msg=k)
    with torch.no_grad():
        cnn_loaded, cnn_trained = m.cnn_net()(x).numpy(), out.model.cnn_net()(x).numpy()
        np.testing.assert_array_equal(cnn_loaded, cnn_trained)
        assert not np.array_equal(cnn_loaded, m.net(x).numpy())  # the CNN, not the SNN again


def test_same_seed_gives_a_byte_identical_model_file(trained, tmp_path):
    path, out, cube, info = trained
    import fixtures_data as fd
    p2 = tmp_path / "again.hsnn"
    pipeline.train(ArrayReader(cube, info), labels_from_array(fd.synthetic_scene()[1]), tiny_config(), str(p2))
    assert path.read_bytes() == p2.read_bytes()  # nothing volatile (dates, durations) in the file


def test_truncated_file_is_refused(trained, tmp_path):
    data = trained[0].read_bytes()
    bad = tmp_path / "cut.hsnn"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupt|not a HyperSNN"):
        HyperSNNModel.load(bad)


def test_corrupt_tensor_data_is_refused(trained, tmp_path):
    bad = tmp_path / "bad.hsnn"
    with zipfile.ZipFile(trained[0]) as z, zipfile.ZipFile(bad, "w") as out:
        out.writestr("hypersnn.json", z.read("hypersnn.json"))
        blob = bytearray(z.read("tensors.npz"))
        blob[len(blob) // 2] ^= 0xFF
        out.writestr("tensors.npz", bytes(blob))
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(bad)


def test_newer_format_version_is_refused_with_an_upgrade_hint(trained, tmp_path):
    bad = tmp_path / "new.hsnn"
    with zipfile.ZipFile(trained[0]) as z, zipfile.ZipFile(bad, "w") as out:
        meta = json.loads(z.read("hypersnn.json"))
        meta["format_version"] = FORMAT_VERSION + 1
        out.writestr("hypersnn.json", json.dumps(meta))
        out.writestr("tensors.npz", z.read("tensors.npz"))
    with pytest.raises(ModelFileError, match="newer HyperSNN"):
        load_model(bad)


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_payload_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    # a plain pickle renamed to .hsnn
    p1 = tmp_path / "evil.hsnn"
    p1.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ModelFileError, match="pickle"):
        HyperSNNModel.load(p1)
    # a pickle hidden as an object array inside an otherwise valid-looking archive
    buf = io.BytesIO()
    np.save(buf, np.array([_Payload(str(marker))], dtype=object), allow_pickle=True)
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w") as z:
        z.writestr("w0.npy", buf.getvalue())
    import hashlib
    blob = npz.getvalue()
    p2 = tmp_path / "evil2.hsnn"
    with zipfile.ZipFile(p2, "w") as z:
        z.writestr("hypersnn.json", json.dumps({"format": "hypersnn-model", "format_version": 1,
                                                "tensors_sha256": hashlib.sha256(blob).hexdigest()}))
        z.writestr("tensors.npz", blob)
    with pytest.raises(ModelFileError):
        HyperSNNModel.load(p2)
    assert not marker.exists()


def test_a_raster_with_other_bands_gets_expected_vs_given(trained):
    m = HyperSNNModel.load(trained[0])
    info = trained[3]
    with pytest.raises(ModelMismatchError, match="has 10 bands but the model expects 12"):
        m.bands.check(RasterInfo(width=5, height=5, count=10, dtype="int16"))
    shifted = RasterInfo(width=5, height=5, count=12, dtype="int16", wavelengths=[w + 40 for w in info.wavelengths])
    with pytest.raises(ModelMismatchError, match="expected 450.0 nm, raster has 490.0 nm"):
        m.bands.check(shifted)


def test_a_file_from_before_first_spatial_kernel_existed_loads_as_3x3(tmp_path):
    """Older files have no first_spatial_kernel and all had a 3x3 first layer; the default is now 1x1."""
    import fixtures_data as fd
    cube, gt = fd.synthetic_scene()
    cfg = tiny_config(cnn_epochs=1, snn_epochs=1)
    cfg.model.first_spatial_kernel = 3
    path = tmp_path / "k3.hsnn"
    out = pipeline.train(ArrayReader(cube), labels_from_array(gt), cfg, str(path))
    old = tmp_path / "old.hsnn"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(old, "w") as o:
        meta = json.loads(z.read("hypersnn.json"))
        del meta["architecture"]["first_spatial_kernel"]
        o.writestr("hypersnn.json", json.dumps(meta))
        o.writestr("tensors.npz", z.read("tensors.npz"))
    m = HyperSNNModel.load(old)
    assert m.net.cfg.first_spatial_kernel == 3 and m.net.specs[0].kernel[1:] == (3, 3)
    x = torch.randn(4, m.net.in_bands, 5, 5)
    with torch.no_grad():
        np.testing.assert_array_equal(m.net(x).numpy(), out.model.net(x).numpy())


def test_the_training_mask_is_kept_whatever_the_scene_size(trained, tmp_path):
    """It used to be dropped without a word above 4,000,000 pixels, and reports on large scenes then scored
    training pixels. It now lives in the tensors (bit-packed) at any size; older files (a JSON list) still load."""
    path, out, cube, info = trained
    m = HyperSNNModel.load(path)
    small = m.training_mask((20, 24))
    assert small is not None and small.sum() > 0 and out.model.train_mask is not None
    h, w = 2100, 2000  # 4.2 million pixels
    big = np.zeros((h, w), bool)
    big[::97, ::89] = True
    m.train_mask = np.packbits(big)
    m.meta["split_masks"] = {"shape": [h, w]}
    m.save(tmp_path / "big.hsnn")
    back = HyperSNNModel.load(tmp_path / "big.hsnn")
    np.testing.assert_array_equal(back.training_mask((h, w)), big)
    assert back.training_mask((h, w + 1)) is None  # another grid: no mask
    meta, tensors = load_model(path)  # an older file held the mask as a JSON list
    old = dict(meta, split_train_mask=np.packbits(small).tolist())
    tensors = {k: v for k, v in tensors.items() if k != "split/train_mask"}
    from hypersnn.core.models.modelfile import save_model
    save_model(tmp_path / "old.hsnn", {k: v for k, v in old.items() if k not in ("format", "format_version",
                                                                                   "tensors_sha256")}, tensors)
    np.testing.assert_array_equal(HyperSNNModel.load(tmp_path / "old.hsnn").training_mask((20, 24)), small)
