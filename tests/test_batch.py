"""`hypersnn batch` (workflows/batch.py): one map per scene and a manifest with checksums; a failed scene is
recorded and the others finish (exit code 1); a rerun skips what is done and unchanged, and redoes what changed;
a canceled batch keeps the finished scenes and resumes; with a Dask scheduler the maps are the same bytes."""
import json

import pytest

import fixtures_data as fd
from checksums import file_sha256
from hypersnn.cli import main
from hypersnn.workflows.rasterio_backend import RasterioBackend
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.errors import Canceled, InputError
from hypersnn.workflows.batch import BatchJob, expand_inputs, run_batch
from hypersnn.workflows.callbacks import Callbacks

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def scenes(tmp_path):
    """a/ holds two good scenes; b_bad.tif has 5 bands instead of 12 (the model refuses it)."""
    (tmp_path / "a").mkdir()
    good = [fd.make_geotiff(tmp_path / "a" / f"s{i}.tif", fd.synthetic_scene(seed=i)[0]) for i in (1, 2)]
    bad = fd.make_geotiff(tmp_path / "b_bad.tif", fd.synthetic_scene()[0][..., :5], wavelengths=None)
    return good, bad


def _batch(model, out, *inputs, extra=()):
    return main(["batch", "--model", str(model), "--out-dir", str(out), "--confidence", "--window", "8", "--quiet",
                 *extra, *[str(i) for i in inputs]])


def test_batch_writes_maps_and_a_manifest_and_reports_the_failed_scene(model_file, scenes, tmp_path):
    good, bad = scenes
    out = tmp_path / "maps"
    assert _batch(model_file, out, tmp_path / "a", str(tmp_path / "b_*.tif")) == 1  # one scene failed
    m = json.loads((out / "manifest.json").read_text())
    assert m["model"] == {"path": str(model_file), "sha256": file_sha256(model_file)}
    by = m["scenes"]
    assert list(by) == [str(p) for p in good] + [str(bad)]
    for p in good:
        e = by[str(p)]
        assert e["status"] == "done" and e["input_sha256"] == {str(p): file_sha256(p)}
        for kind, name in (("class_map", "classes"), ("confidence", "confidence")):
            path = out / f"{p.stem}_{name}.tif"
            assert e["outputs"][kind]["path"] == str(path) and e["outputs"][kind]["sha256"] == file_sha256(path)
        assert e["outputs"]["class_map"]["aux_xml_sha256"] == file_sha256(f"{out / p.stem}_classes.tif.aux.xml")
        assert e["valid_pixels"] == fd.H * fd.W - len(fd.NODATA_PIXELS) and e["seconds"] >= 0
    assert by[str(bad)]["status"] == "failed" and "5 bands" in by[str(bad)]["error"]
    assert str(bad) in by[str(bad)]["error"] or "raster" in by[str(bad)]["error"]
    assert not list(out.glob("b_bad*")) and not list(out.glob(".*"))


def test_rerun_skips_done_scenes_and_redoes_changed_ones(model_file, scenes, tmp_path):
    good, bad = scenes
    out = tmp_path / "maps"
    job = BatchJob([str(p) for p in good], str(model_file), str(out), confidence=True, cfg=ClassifyConfig(window=8))
    first = run_batch(job, RasterioBackend())
    assert (first.done, first.skipped, first.failed) == (2, 0, 0)
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.tif")}
    again = run_batch(job, RasterioBackend())
    assert (again.done, again.skipped, again.failed) == (0, 2, 0)
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.tif")} == stamps  # nothing rewritten
    # a changed input and a deleted output are classified again; the other scene is not
    fd.make_geotiff(good[0], fd.synthetic_scene(seed=7)[0])
    (out / "s2_classes.tif.aux.xml").write_text("<PAMDataset/>")  # class names lost: the map is redone
    third = run_batch(job, RasterioBackend())
    assert (third.done, third.skipped) == (2, 0)
    m = json.loads((out / "manifest.json").read_text())
    assert m["scenes"][str(good[0])]["input_sha256"] == {str(good[0]): file_sha256(good[0])}
    # other settings (here the mode) are a different result: not skipped
    job.cfg = ClassifyConfig(window=8, mode="cnn")
    assert run_batch(job, RasterioBackend()).skipped == 0


def test_canceled_batch_keeps_finished_scenes_and_resumes(model_file, scenes, tmp_path):
    good, _ = scenes
    out = tmp_path / "maps"
    job = BatchJob([str(p) for p in good], str(model_file), str(out), cfg=ClassifyConfig(window=8))
    progress = []
    cb = Callbacks(progress=lambda f, m: progress.append(f), is_canceled=lambda: bool(progress) and progress[-1] >= 0.5)
    with pytest.raises(Canceled, match="batch canceled before scene 2/2"):
        run_batch(job, RasterioBackend(), cb)
    m = json.loads((out / "manifest.json").read_text())
    assert [m["scenes"][str(p)]["status"] for p in good] == ["done", "pending"]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "s1_classes.tif", "s1_classes.tif.aux.xml"]
    res = run_batch(job, RasterioBackend())
    assert (res.done, res.skipped) == (1, 1)


def test_batch_on_a_dask_cluster_writes_the_same_maps(model_file, scenes, tmp_path):
    pytest.importorskip("distributed")
    good, _ = scenes
    assert _batch(model_file, tmp_path / "one", *good) == 0
    assert _batch(model_file, tmp_path / "two", *good, extra=("--scheduler", "local:2")) == 0
    for p in good:
        for name in ("classes", "confidence"):
            assert (file_sha256(tmp_path / "one" / f"{p.stem}_{name}.tif")
                    == file_sha256(tmp_path / "two" / f"{p.stem}_{name}.tif"))
    m = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert m["scheduler"] == "local:2" and "scheduler" not in m["settings"]["classify"]


def test_inputs_and_manifest_errors_name_the_file(model_file, scenes, tmp_path):
    good, _ = scenes
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty holds no raster"):
        expand_inputs([tmp_path / "empty"])
    with pytest.raises(InputError, match="no raster matches"):
        expand_inputs([str(tmp_path / "nothing_*.tif")])
    (tmp_path / "c").mkdir()
    fd.make_geotiff(tmp_path / "c" / "s1.tif")
    with pytest.raises(InputError, match="same name"):
        expand_inputs([good[0], tmp_path / "c" / "s1.tif"])
    out = tmp_path / "maps"
    out.mkdir()
    (out / "manifest.json").write_text("{not json")
    assert _batch(model_file, out, good[0]) == 2
    assert (out / "manifest.json").read_text() == "{not json"
