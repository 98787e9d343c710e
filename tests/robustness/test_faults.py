"""Faults: a cancel at every stage leaves no partial output and no thread behind, and a later run works
(resuming from the checkpoints, with the same result); a run killed mid-way resumes from its last epoch
checkpoint and ends byte-identical to an uninterrupted run; same seed and inputs, same bytes."""
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import fixtures_data as fd
from hypersnn.workflows import rasterio_backend as io
from hypersnn.core.training import pipeline
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.errors import Canceled
from hypersnn.core.data.labels import labels_from_array
from hypersnn.core.mapping.predict import classify_raster
from robust_helpers import StageCancel, cancel_after, fast_config, folder_state, scene_labels, scene_reader

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("stage, after, message, resumed", [
    ("reading raster", 1, "while reading the raster", []),
    ("preprocessing", 1, "while preprocessing", []),
    ("CNN epoch", 7, "during cnn epoch 2", ["cnn epoch 1"]),
    ("converting", 2, "conversion canceled", ["cnn"]),
    ("SNN epoch", 7, "during snn epoch 2", ["convert", "snn epoch 1"]),
    ("assessing", 1, "assessment canceled", ["snn"]),
])
def test_cancel_at_every_training_stage_leaves_nothing_and_a_later_run_resumes(
        reference, tmp_path, stage, after, message, resumed):
    out_dir, ckpt = tmp_path / "out", tmp_path / "ckpt"
    out_dir.mkdir()
    model = out_dir / "m.hsnn"
    model.write_bytes(b"model of an earlier run")
    before, threads = folder_state(out_dir), threading.active_count()
    c = StageCancel(stage, after)
    with pytest.raises(Canceled, match=message):
        pipeline.train(scene_reader(), scene_labels(), fast_config(), str(model), progress=c.progress,
                       is_canceled=c.is_canceled, checkpoint_dir=ckpt, window=8)  # 9 tiles: 9 reads per pass
    assert c.fired
    assert folder_state(out_dir) == before  # the earlier model keeps its bytes; no temporary file
    assert threading.active_count() == threads
    out = pipeline.train(scene_reader(), scene_labels(), fast_config(), str(model), checkpoint_dir=ckpt)
    assert out.resumed == resumed
    assert model.read_bytes() == reference[1]  # resumed = uninterrupted, bit for bit
    assert sorted(folder_state(out_dir)) == ["m.hsnn"]


def test_cancel_during_classification_windows_leaves_nothing_and_a_later_run_works(reference, tmp_path):
    tif = fd.make_geotiff(tmp_path / "scene.tif")
    out_dir = tmp_path / "maps"
    out_dir.mkdir()
    paths = [str(out_dir / n) for n in ("class.tif", "conf.tif", "prob.tif")]
    threads = threading.active_count()
    cfg = ClassifyConfig(window=8)
    with io.open_raster(tif) as reader:
        for k in (1, 2, 5):
            with pytest.raises(Canceled, match=f"classification canceled at window {k}/9"):
                classify_raster(reference[2].model, reader, io.RasterioWriter, *paths, cfg=cfg,
                                is_canceled=cancel_after(k))
            assert folder_state(out_dir) == {} and threading.active_count() == threads
        res = classify_raster(reference[2].model, reader, io.RasterioWriter, *paths, cfg=cfg)
    assert res.valid_pixels == fd.H * fd.W - 3
    assert sorted(folder_state(out_dir)) == ["class.tif", "class.tif.aux.xml", "conf.tif", "prob.tif"]


_KILLED_RUN = textwrap.dedent("""
    import os, sys
    sys.path[:0] = {paths!r}
    import torch
    torch.set_num_threads(1)
    from hypersnn.core.training import pipeline
    from robust_helpers import fast_config, scene_labels, scene_reader

    def progress(f, m):
        if m.startswith({kill_at!r}):
            os._exit(17)  # as abrupt as a kill: no cleanup, no exception handling

    pipeline.train(scene_reader(), scene_labels(), fast_config(), None, progress=progress,
                   checkpoint_dir={ckpt!r})
    sys.exit(0)
""")


@pytest.mark.parametrize("kill_at, resumed", [("CNN epoch 3/", ["cnn epoch 2"]),
                                              ("SNN epoch 2/", ["convert", "snn epoch 1"])])
def test_a_killed_run_resumes_from_its_last_epoch_and_ends_byte_identical(reference, tmp_path, kill_at, resumed):
    ckpt = tmp_path / "ckpt"
    code = _KILLED_RUN.format(paths=[str(HERE), str(HERE.parent)], kill_at=kill_at, ckpt=str(ckpt))
    # same environment as this process: bit-identical floating point needs the same thread counts
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 17, proc.stderr[-2000:]
    stage = kill_at.split()[0].lower()
    assert (ckpt / f"{stage}-epoch.json").is_file() and (ckpt / f"{stage}-epoch.npz").is_file()
    model = tmp_path / "resumed.hsnn"
    out = pipeline.train(scene_reader(), scene_labels(), fast_config(), str(model), checkpoint_dir=ckpt)
    assert out.resumed == resumed
    assert model.read_bytes() == reference[1]
    assert not (ckpt / f"{stage}-epoch.json").exists()  # the finished stage's epoch checkpoint is gone


def _canceled_run(ckpt, cfg=None, labels=None):
    c = StageCancel("CNN epoch", 7)
    with pytest.raises(Canceled):
        pipeline.train(scene_reader(), labels or scene_labels(), cfg or fast_config(), None, progress=c.progress,
                       is_canceled=c.is_canceled, checkpoint_dir=ckpt)
    assert (ckpt / "cnn-epoch.json").is_file()


def test_a_checkpoint_from_other_settings_is_ignored(tmp_path):
    _canceled_run(tmp_path / "ckpt")
    other = fast_config(seed=1)
    out = pipeline.train(scene_reader(), scene_labels(), other, str(tmp_path / "a.hsnn"), checkpoint_dir=tmp_path / "ckpt")
    assert out.resumed == []
    pipeline.train(scene_reader(), scene_labels(), other, str(tmp_path / "b.hsnn"))
    assert (tmp_path / "a.hsnn").read_bytes() == (tmp_path / "b.hsnn").read_bytes()


def test_a_checkpoint_from_other_data_is_ignored(reference, tmp_path):
    _canceled_run(tmp_path / "ckpt")
    cube = fd.synthetic_scene()[0].copy()
    cube[5:, :, 0] += 7  # same labels and split, other pixels
    out = pipeline.train(scene_reader(cube), scene_labels(), fast_config(), None, checkpoint_dir=tmp_path / "ckpt")
    assert out.resumed == []
    gt = fd.synthetic_scene()[1].copy()
    gt[19, :] = 0  # other labels
    _canceled_run(tmp_path / "ckpt2")
    out = pipeline.train(scene_reader(), labels_from_array(gt), fast_config(), str(tmp_path / "a.hsnn"),
                         checkpoint_dir=tmp_path / "ckpt2")
    assert out.resumed == []
    # ignored means no trace of it: the same bytes as a run that never saw a checkpoint
    pipeline.train(scene_reader(), labels_from_array(gt), fast_config(), str(tmp_path / "b.hsnn"))
    assert (tmp_path / "a.hsnn").read_bytes() == (tmp_path / "b.hsnn").read_bytes()


def test_a_torn_checkpoint_is_ignored_and_the_stage_restarts(reference, tmp_path):
    ckpt = tmp_path / "ckpt"
    _canceled_run(ckpt)
    npz = ckpt / "cnn-epoch.npz"
    data = bytearray(npz.read_bytes())
    data[-100] ^= 0xFF  # as if killed while the npz was replaced: it no longer matches its JSON
    npz.write_bytes(bytes(data))
    out = pipeline.train(scene_reader(), scene_labels(), fast_config(), str(tmp_path / "m.hsnn"), checkpoint_dir=ckpt)
    assert out.resumed == []
    assert (tmp_path / "m.hsnn").read_bytes() == reference[1]


def test_same_seed_and_inputs_give_byte_identical_model_files_and_class_maps(reference, tmp_path):
    tif = fd.make_geotiff(tmp_path / "scene.tif")
    files = {}
    for run in ("a", "b"):
        d = tmp_path / run
        d.mkdir()
        with io.open_raster(tif) as reader:
            out = pipeline.train(reader, scene_labels(), fast_config(), str(d / "m.hsnn"))
            classify_raster(out.model, reader, io.RasterioWriter, str(d / "class.tif"), str(d / "conf.tif"),
                            str(d / "prob.tif"), cfg=ClassifyConfig(window=8))
        files[run] = folder_state(d)
    assert sorted(files["a"]) == ["class.tif", "class.tif.aux.xml", "conf.tif", "m.hsnn", "prob.tif"]
    assert files["a"] == files["b"]
    pipeline.train(scene_reader(), scene_labels(), fast_config(seed=5), str(tmp_path / "other.hsnn"))
    assert (tmp_path / "other.hsnn").read_bytes() != files["a"]["m.hsnn"]
