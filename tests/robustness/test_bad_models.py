"""Untrusted model files: truncated, corrupt, renamed from other formats, too new, carrying a pickle
payload (never executed), inconsistent, or not fitting the raster (expected vs given)."""
import hashlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch

import fixtures_data as fd
from hypersnn.core.errors import ModelFileError, ModelMismatchError
from hypersnn.core.models.torch_model import HyperSNNModel
from hypersnn.core.models.modelfile import FORMAT_VERSION
from hypersnn.core.mapping.predict import classify_raster
from hypersnn.core.io.raster import ArrayReader, ArrayWriter
from robust_helpers import scene_info


def _rezip(src, dst, meta_edit=None, tensors=None, fix_checksum=True):
    """Copy model file `src` to `dst`, editing its metadata and/or replacing its tensor archive."""
    with zipfile.ZipFile(src) as z:
        meta = json.loads(z.read("hypersnn.json"))
        blob = z.read("tensors.npz") if tensors is None else tensors
    if meta_edit:
        meta_edit(meta)
    if fix_checksum:
        meta["tensors_sha256"] = hashlib.sha256(blob).hexdigest()
    with zipfile.ZipFile(dst, "w") as z:
        z.writestr("hypersnn.json", json.dumps(meta))
        z.writestr("tensors.npz", blob)
    return dst


class Payload:
    """Unpickling this creates the file `path`: proof of code execution if it ever appears."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_truncated_model_file_is_refused(reference, tmp_path):
    data = reference[1]
    for n in (len(data) // 2, len(data) - 10, 30):
        bad = tmp_path / f"cut{n}.hsnn"
        bad.write_bytes(data[:n])
        with pytest.raises(ModelFileError, match=r"cut\d+\.hsnn (is truncated or corrupt|is a zip but not)"):
            HyperSNNModel.load(bad)


def test_corrupt_tensor_data_fails_its_checksum(reference, tmp_path):
    with zipfile.ZipFile(reference[0]) as z:
        blob = bytearray(z.read("tensors.npz"))
    blob[len(blob) // 3] ^= 0x40
    bad = _rezip(reference[0], tmp_path / "flip.hsnn", tensors=bytes(blob), fix_checksum=False)
    with pytest.raises(ModelFileError, match=r"flip\.hsnn: tensor data does not match its checksum"):
        HyperSNNModel.load(bad)


def test_corrupt_metadata_is_refused(reference, tmp_path):
    bad = tmp_path / "meta.hsnn"
    with zipfile.ZipFile(reference[0]) as z, zipfile.ZipFile(bad, "w") as out:
        out.writestr("hypersnn.json", z.read("hypersnn.json")[:-20])
        out.writestr("tensors.npz", z.read("tensors.npz"))
    with pytest.raises(ModelFileError, match=r"meta\.hsnn: model metadata is corrupt"):
        HyperSNNModel.load(bad)


def test_metadata_that_does_not_match_the_tensors_is_refused(reference, tmp_path):
    def edit(m):
        m["architecture"]["conv2d_channels"] = [9]
    bad = _rezip(reference[0], tmp_path / "arch.hsnn", edit)
    with pytest.raises(ModelFileError, match=r"arch\.hsnn: tensor w1 has shape \(8, .*the architecture needs \(9,"):
        HyperSNNModel.load(bad)


def test_geotiff_renamed_to_a_model_file_is_refused(tmp_path):
    p = fd.make_geotiff(tmp_path / "scene.tif")
    bad = tmp_path / "renamed.hsnn"
    bad.write_bytes(p.read_bytes())
    with pytest.raises(ModelFileError, match=r"renamed\.hsnn is not a HyperSNN model: .*zip archives"):
        HyperSNNModel.load(bad)


def test_numpy_archive_renamed_to_a_model_file_is_refused(tmp_path):
    bad = tmp_path / "arrays.hsnn"
    with open(bad, "wb") as fh:
        np.savez(fh, w0=np.zeros(3))
    with pytest.raises(ModelFileError, match=r"is a zip but not a HyperSNN model \(missing hypersnn\.json"):
        HyperSNNModel.load(bad)


def test_pytorch_checkpoint_renamed_to_a_model_file_is_refused_unopened(tmp_path):
    marker = tmp_path / "pwned-torch"
    bad = tmp_path / "weights.hsnn"
    torch.save({"w": torch.zeros(2), "evil": Payload(str(marker))}, bad)
    with pytest.raises(ModelFileError, match=r"weights\.hsnn is a PyTorch file \(torch\.save\), not a HyperSNN model"):
        HyperSNNModel.load(bad)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"hello", b"\x00" * 100], ids=["empty", "text", "zeros"])
def test_other_files_are_refused(tmp_path, content):
    bad = tmp_path / "x.hsnn"
    bad.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a HyperSNN model"):
        HyperSNNModel.load(bad)


def test_missing_model_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ModelFileError, match=r"Model file not found: .*none\.hsnn"):
        HyperSNNModel.load(tmp_path / "none.hsnn")
    with pytest.raises(ModelFileError, match="is a folder, not a file"):  # issue 20: said 'not found'
        HyperSNNModel.load(tmp_path)


def test_newer_format_version_asks_for_an_update(reference, tmp_path):
    def edit(m):
        m["format_version"] = FORMAT_VERSION + 1
    bad = _rezip(reference[0], tmp_path / "new.hsnn", edit)
    with pytest.raises(ModelFileError, match=rf"model format {FORMAT_VERSION + 1}; this version reads up to "
                                             rf"{FORMAT_VERSION}\)\. Update"):
        HyperSNNModel.load(bad)


def test_pickle_payloads_are_never_executed(reference, tmp_path):
    """A payload that would create a file, hidden three ways; none may run."""
    marker = tmp_path / "pwned"
    # 1. a plain pickle renamed to .hsnn
    p1 = tmp_path / "evil1.hsnn"
    p1.write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(ModelFileError, match="pickle"):
        HyperSNNModel.load(p1)
    # 2. an object array inside the tensor archive of a real model file, with a matching checksum
    with zipfile.ZipFile(reference[0]) as z:
        inner = io.BytesIO(z.read("tensors.npz"))
    buf = io.BytesIO()
    with zipfile.ZipFile(inner) as src, zipfile.ZipFile(buf, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, src.read(n))
        obj = io.BytesIO()
        np.save(obj, np.array([Payload(str(marker))], dtype=object), allow_pickle=True)
        dst.writestr("evil.npy", obj.getvalue())
    p2 = _rezip(reference[0], tmp_path / "evil2.hsnn", tensors=buf.getvalue())
    with pytest.raises(ModelFileError, match=r"tensor 'evil\.npy' has non-numeric type object"):
        HyperSNNModel.load(p2)
    # 3. a pickle as a member in place of the tensor archive
    p3 = _rezip(reference[0], tmp_path / "evil3.hsnn", tensors=pickle.dumps(Payload(str(marker))))
    with pytest.raises(ModelFileError):
        HyperSNNModel.load(p3)
    assert not marker.exists()
    # and the payload is real: unpickling it does create the file
    pickle.loads(pickle.dumps(Payload(str(marker)))).close()
    assert marker.exists()


def test_raster_with_another_band_count_lists_expected_and_given(reference):
    model = HyperSNNModel.load(reference[0])
    cube = fd.synthetic_scene()[0][:, :, :10]
    reader = ArrayReader(cube, scene_info(cube, path="other.tif"))
    with pytest.raises(ModelMismatchError, match=r"raster other\.tif has 10 bands but the model expects 12 "
                                                  r"\(it reads bands 1-12 of a 12-band raster\)"):
        classify_raster(model, reader, ArrayWriter, "map.tif")


def test_raster_with_other_wavelengths_lists_expected_and_given(reference):
    model = HyperSNNModel.load(reference[0])
    cube = fd.synthetic_scene()[0]
    reader = ArrayReader(cube, scene_info(cube, path="shifted.tif", wavelengths=[w + 40 for w in fd.WAVELENGTHS_NM]))
    with pytest.raises(ModelMismatchError, match=r"shifted\.tif wavelengths do not match the model's \(12 bands "
                                                  r"differ by more than 5.0 nm\): band 1: expected 450.0 nm, raster "
                                                  r"has 490.0 nm"):
        classify_raster(model, reader, ArrayWriter, "map.tif")
