"""Benchmark scene registry, download (file:// and unreachable URLs) and loading."""
import hashlib
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from hypersnn.core.data import scenes
from hypersnn.core.errors import HyperSNNError, InputError
from hypersnn.workflows.rasterio_reader import open_raster
from hypersnn.core.data.scenes import RemoteFile, Scene

SHARED_GT = Path("/work/shared/data/indian_pines/Indian_pines_gt.mat")


def _tiny_scene(monkeypatch, tmp_path, cube_bytes=b"cube-bytes", gt_bytes=b"gt-bytes", cube_sha=None):
    src = tmp_path / "src"
    src.mkdir()
    (src / "c.mat").write_bytes(cube_bytes)
    (src / "g.mat").write_bytes(gt_bytes)
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    scene = Scene("tiny", "Tiny", "none", 1.0, (1, 1, 1), ("a",), (
        RemoteFile("cube", "c.mat", (src / "c.mat").as_uri(), "c", cube_sha or sha(cube_bytes)),
        RemoteFile("gt", "g.mat", (src / "g.mat").as_uri(), "g", sha(gt_bytes)),
    ))
    monkeypatch.setitem(scenes.SCENES, "tiny", scene)
    return src


def test_fetch_downloads_from_file_urls_and_checks_sha256(monkeypatch, tmp_path):
    _tiny_scene(monkeypatch, tmp_path)
    got = scenes.fetch("tiny", tmp_path / "dl")
    assert got["cube"].read_bytes() == b"cube-bytes" and got["gt"].read_bytes() == b"gt-bytes"
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["c.mat", "g.mat"]
    # second call: files are already there with the right checksum, so no download is attempted
    again = scenes.fetch("tiny", tmp_path / "dl", urls={"cube": "http://127.0.0.1:9/x", "gt": "http://127.0.0.1:9/y"})
    assert again == got


def test_fetch_checksum_mismatch_deletes_the_download(monkeypatch, tmp_path):
    _tiny_scene(monkeypatch, tmp_path, cube_sha="0" * 64)
    with pytest.raises(HyperSNNError, match=r"Checksum mismatch for c\.mat.*expected sha256 0{64}"):
        scenes.fetch("tiny", tmp_path / "dl")
    assert not (tmp_path / "dl" / "c.mat").exists()
    assert [p.name for p in (tmp_path / "dl").iterdir()] == []  # no partial/temporary file left


def test_fetch_real_registry_checksum_with_local_copy(tmp_path):
    if not SHARED_GT.is_file():
        pytest.skip("shared Indian Pines gt not available")
    got = scenes.fetch("indian_pines", tmp_path, urls={"gt": SHARED_GT.as_uri()}, roles=["gt"])
    assert list(got) == ["gt"]
    arr = scipy.io.loadmat(got["gt"])["indian_pines_gt"]
    assert arr.shape == (145, 145) and int((arr > 0).sum()) == 10249


def test_fetch_without_network_fails_fast_with_manual_instructions(tmp_path):
    t = time.monotonic()
    with pytest.raises(HyperSNNError, match=r"Could not reach http://127\.0\.0\.1:9/.*download it manually from .* place it at"):
        scenes.fetch("salinas", tmp_path, urls={"gt": "http://127.0.0.1:9/Salinas_gt.mat"}, roles=["gt"], timeout=5)
    assert time.monotonic() - t < 5
    assert list(tmp_path.iterdir()) == []


def test_fetch_unknown_scene_lists_known_ones(tmp_path):
    with pytest.raises(InputError, match="indian_pines"):
        scenes.fetch("moon", tmp_path)


def test_registry_has_canonical_urls_and_class_lists():
    assert set(scenes.SCENES) == {"indian_pines", "pavia_university", "salinas"}
    assert [len(s.class_names) for s in scenes.SCENES.values()] == [16, 9, 16]
    for s in scenes.SCENES.values():
        for f in s.files:
            assert f.url.startswith("https://www.ehu.eus/ccwintco/uploads/") and len(f.sha256) == 64


def test_npz_with_cube_gt_or_data_labels_keys(tmp_path):
    cube = np.arange(24, dtype=np.uint16).reshape(2, 3, 4)
    gt = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    np.savez(tmp_path / "a.npz", cube=cube, gt=gt)
    np.savez(tmp_path / "b.npz", data=cube, labels=gt)
    np.savez(tmp_path / "c.npz", data=cube)
    for name in ("a.npz", "b.npz"):
        c, g = scenes.load_scene_file(tmp_path / name)
        assert np.array_equal(c, cube) and np.array_equal(g, gt)
    assert scenes.load_scene_file(tmp_path / "c.npz")[1] is None


def test_mat_picks_largest_3d_cube_and_2d_integer_gt(tmp_path):
    cube = np.random.default_rng(0).random((5, 4, 6))
    gt = np.ones((5, 4), np.uint8)
    scipy.io.savemat(tmp_path / "s.mat", {"small": np.zeros((2, 2, 2)), "img": cube, "gt": gt,
                                          "meta": np.zeros((5, 4))})
    c, g = scenes.load_scene_file(tmp_path / "s.mat")
    assert np.allclose(c, cube) and np.array_equal(g, gt)
    scipy.io.savemat(tmp_path / "cube.mat", {"x": cube})
    scipy.io.savemat(tmp_path / "gt.mat", {"y": gt})
    c, g = scenes.load_scene_file(tmp_path / "cube.mat", gt_path=tmp_path / "gt.mat")
    assert np.array_equal(g, gt)


def test_mat_v73_gets_a_conversion_hint(tmp_path):
    p = tmp_path / "big.mat"
    p.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan 1 2024 HDF5 schema 1.00 .".ljust(512, b" "))
    with pytest.raises(InputError, match=r"v7\.3.*convert"):
        scenes.load_scene_file(p)


def test_gt_of_another_size_is_refused(tmp_path):
    np.savez(tmp_path / "bad.npz", cube=np.zeros((3, 3, 2)), gt=np.zeros((2, 3), np.uint8))
    with pytest.raises(InputError, match=r"shape \(2, 3\).*3x3"):
        scenes.load_scene_file(tmp_path / "bad.npz")


def test_scene_to_labels_uses_published_class_names():
    gt = np.array([[0, 1], [9, 2]], np.uint8)
    lab = scenes.scene_to_labels(gt, "pavia_university")
    assert [(c.value, c.name) for c in lab.classes] == [(1, "Asphalt"), (2, "Meadows"), (9, "Shadows")]
    with pytest.raises(InputError, match="class value 10"):
        scenes.scene_to_labels(np.array([[10]]), "pavia_university")


def test_bundled_sample_is_georeferenced_with_wavelengths_and_labels():
    p = scenes.sample_scene_paths()
    total = sum(f.stat().st_size for f in p["cube"].parent.iterdir())
    assert total < 10 * 1024 * 1024
    with open_raster(p["cube"]) as r:
        info = r.info
        assert (info.height, info.width, info.count, info.dtype) == (145, 145, 200, "uint16")
        assert info.transform == (500000.0, 20.0, 0.0, 4494000.0, 0.0, -20.0)
        assert "UTM zone 16N" in info.crs_wkt
        assert info.wavelengths[0] == pytest.approx(400.02) and len(info.wavelengths) == 200
        assert r.read((0, 0, 1, 1), [0, 1, 2, 3, 4]).ravel().tolist() == [3172, 4142, 4506, 4279, 4782]
    with open_raster(p["gt"]) as g:
        gt = g.read()[:, :, 0]
    lab = scenes.scene_to_labels(gt, "indian_pines")
    assert len(lab.classes) == 16 and int((lab.array > 0).sum()) == 10249
    from hypersnn.core.data.labels import read_class_table
    assert read_class_table(p["classes"]) == lab.classes
