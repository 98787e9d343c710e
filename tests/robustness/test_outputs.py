"""Outputs: missing, non-folder and unwritable output folders, an output that is an input, and outputs of
an earlier run, which are never left half-written (temporary file, then rename) nor lost on failure."""
import os
import tempfile
import zipfile

import pytest
import rasterio

import fixtures_data as fd
from hypersnn.core.io.raster import OutputSpec
from hypersnn.workflows import rasterio_backend as io
from hypersnn.core.io import files
from hypersnn.core.training import pipeline
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.errors import Canceled, OutputError
from hypersnn.core.models.torch_model import HyperSNNModel
from hypersnn.core.mapping.predict import classify_raster
from robust_helpers import LimitedReader, cancel_after, fast_config, folder_state, scene_labels, scene_reader

READ_ONLY = "/sys"  # even root cannot create files here (checked below; skipped where it can)


def _cannot_write(folder):
    try:
        fd_, p = tempfile.mkstemp(dir=folder)
    except OSError:
        return True
    os.close(fd_)
    os.unlink(p)
    return False


def _no_reads():
    return LimitedReader(scene_reader(), 0)  # refuses any read: the checks must come before training


def test_missing_output_folder_is_refused_before_training(tmp_path):
    with pytest.raises(OutputError, match=r"The folder for the model file does not exist: .*nowhere"):
        pipeline.train(_no_reads(), scene_labels(), fast_config(), str(tmp_path / "nowhere" / "m.hsnn"))


def test_output_folder_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(OutputError, match=r"folder for the model file is a file, not a folder: .*file\.txt"):
        pipeline.train(_no_reads(), scene_labels(), fast_config(), str(f / "m.hsnn"))
    with pytest.raises(OutputError, match=r"file\.txt is a file, not a folder"):
        io.RasterioWriter(OutputSpec(str(f / "map.tif"), scene_reader().info, 1, "uint8"))


def test_output_path_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(OutputError, match=r"is a folder; give a file name"):
        pipeline.train(_no_reads(), scene_labels(), fast_config(), str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(READ_ONLY) or not _cannot_write(READ_ONLY),
                    reason=f"{READ_ONLY} is writable here")
def test_read_only_output_folder_is_refused(tmp_path):
    """Root ignores chmod, so this uses a folder no one can create files in (the sysfs root); os.access
    claims it is writable, so only a real write probe finds out."""
    with pytest.raises(OutputError, match=rf"Output folder is not writable: {READ_ONLY} \(Permission denied"):
        pipeline.train(_no_reads(), scene_labels(), fast_config(), f"{READ_ONLY}/m.hsnn")
    with pytest.raises(OutputError, match=rf"Cannot create output {READ_ONLY}/map\.tif"):
        io.RasterioWriter(OutputSpec(f"{READ_ONLY}/map.tif", scene_reader().info, 1, "uint8"))


def test_permission_denied_while_saving_is_an_output_error(reference, tmp_path, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(files.tempfile, "mkstemp", denied)
    with pytest.raises(OutputError, match=r"Cannot write into the folder .*model file.*: Permission denied"):
        reference[2].model.save(tmp_path / "m.hsnn")


def test_model_output_equal_to_an_input_is_refused(tmp_path):
    tif = fd.make_geotiff(tmp_path / "scene.tif")
    with io.open_raster(tif) as reader:
        with pytest.raises(OutputError, match=r"model file .*scene\.tif is the input raster of this run"):
            pipeline.train(reader, scene_labels(), fast_config(), str(tif))
    for name in ("cube.img", "other.bsq"):
        data, hdr = fd.make_envi(tmp_path / name)
        if name == "other.bsq":  # other.hdr + other.bsq
            hdr = hdr.rename(tmp_path / "other.hdr")
        for opened in (data, hdr):
            with io.open_raster(opened) as reader:
                for out in (data, hdr):
                    with pytest.raises(OutputError, match="is the input raster of this run"):
                        pipeline.train(reader, scene_labels(), fast_config(), str(out))
    labels = scene_labels()
    labels.source = str(tmp_path / "gt.tif")
    with pytest.raises(OutputError, match=r"gt\.tif is the training labels of this run"):
        pipeline.train(_no_reads(), labels, fast_config(), labels.source)


def test_class_map_equal_to_the_input_raster_is_refused(reference, tmp_path):
    tif = fd.make_geotiff(tmp_path / "scene.tif")
    before = tif.read_bytes()
    with io.open_raster(tif) as reader:
        with pytest.raises(OutputError, match=r"Output .*scene\.tif is the input raster"):
            classify_raster(reference[2].model, reader, io.RasterioWriter, str(tif))
    data, hdr = fd.make_envi(tmp_path / "cube.img")
    with io.open_raster(hdr) as reader:
        with pytest.raises(OutputError, match="is the input raster"):
            classify_raster(reference[2].model, reader, io.RasterioWriter, str(data))
    assert tif.read_bytes() == before


def test_canceled_training_keeps_the_earlier_model_file(reference, tmp_path):
    out = tmp_path / "m.hsnn"
    out.write_bytes(b"the earlier model")
    before = folder_state(tmp_path)
    with pytest.raises(Canceled):
        pipeline.train(scene_reader(), scene_labels(), fast_config(), str(out), is_canceled=cancel_after(12))
    assert folder_state(tmp_path) == before


def test_a_failure_while_writing_keeps_the_earlier_model_file(reference, tmp_path, monkeypatch):
    out = tmp_path / "m.hsnn"
    out.write_bytes(reference[1])
    calls = [0]
    real = zipfile.ZipFile.writestr

    def disk_full(self, *a, **k):
        calls[0] += 1
        if calls[0] == 2:  # metadata written, tensors fail
            raise OSError(28, "No space left on device")
        return real(self, *a, **k)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    with pytest.raises(OutputError, match=r"Cannot write model file .*m\.hsnn: No space left on device; nothing"):
        reference[2].model.save(out)
    assert folder_state(tmp_path) == {"m.hsnn": reference[1]}


def test_a_new_model_replaces_the_earlier_one_whole(reference, tmp_path):
    out = tmp_path / "m.hsnn"
    out.write_bytes(b"the earlier model")
    reference[2].model.save(out)
    assert folder_state(tmp_path) == {"m.hsnn": reference[1]}
    assert HyperSNNModel.load(out).class_values == [1, 2, 3]


def _earlier_map(tmp_path):
    tif = fd.make_geotiff(tmp_path / "scene.tif")
    out = tmp_path / "map.tif"
    out.write_bytes(b"earlier map")
    (tmp_path / "map.tif.aux.xml").write_text("<PAMDataset/>")
    return tif, out


def test_canceled_classification_keeps_the_earlier_map(reference, tmp_path):
    tif, out = _earlier_map(tmp_path)
    before = folder_state(tmp_path)
    with io.open_raster(tif) as reader, pytest.raises(Canceled, match="window 3/"):
        classify_raster(reference[2].model, reader, io.RasterioWriter, str(out), str(tmp_path / "conf.tif"),
                        cfg=ClassifyConfig(window=8), is_canceled=cancel_after(3))
    assert folder_state(tmp_path) == before


class _FailingDataset:
    """Stands in for the open GDAL dataset: the n-th write fails as a full disk would."""

    def __init__(self, ds, n):
        self.ds, self.n, self.calls = ds, n, 0

    def write(self, *a, **k):
        self.calls += 1
        if self.calls >= self.n:
            raise OSError(28, "No space left on device")
        return self.ds.write(*a, **k)

    def close(self):
        self.ds.close()


def test_a_failure_while_writing_keeps_the_earlier_map(reference, tmp_path):
    tif, out = _earlier_map(tmp_path)
    before = folder_state(tmp_path)

    def open_writer(spec):
        w = io.RasterioWriter(spec)
        w._ds = _FailingDataset(w._ds, 2)
        return w
    with io.open_raster(tif) as reader, pytest.raises(OutputError, match=r"Cannot write output .*map\.tif at window"):
        classify_raster(reference[2].model, reader, open_writer, str(out), cfg=ClassifyConfig(window=8))
    assert folder_state(tmp_path) == before


def test_a_new_map_replaces_the_earlier_one_whole(reference, tmp_path):
    tif, out = _earlier_map(tmp_path)
    with io.open_raster(tif) as reader:
        classify_raster(reference[2].model, reader, io.RasterioWriter, str(out))
    assert sorted(folder_state(tmp_path)) == ["map.tif", "map.tif.aux.xml", "scene.tif"]
    with rasterio.open(out) as ds:
        assert ds.read(1)[5, 5] == 1
