"""Files written at once get the umask's permissions; outputs are checked against inputs and each other."""
import os
import stat

import numpy as np
import pytest

from hypersnn.core.errors import OutputError
from hypersnn.core.io.files import (atomic_write, check_output_dir, check_output_file, check_outputs)
from hypersnn.core.models.modelfile import save_model


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda m: os.umask(m)
    os.umask(old)


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def test_model_files_checkpoints_and_reports_follow_the_umask(tmp_path, umask):
    from hypersnn.core.training.checkpoints import _atomic

    save_model(tmp_path / "m.hsnn", {"a": 1}, {"w": np.zeros(3)})
    _atomic(tmp_path / "c.npz", lambda fh: fh.write(b"x"))
    atomic_write(tmp_path / "r.json", "{}")
    for name in ("m.hsnn", "c.npz", "r.json"):
        assert _mode(tmp_path / name) == 0o644, name  # not mkstemp's 0600
    umask(0o077)
    save_model(tmp_path / "private.hsnn", {"a": 1}, {"w": np.zeros(3)})
    assert _mode(tmp_path / "private.hsnn") == 0o600
    os.chmod(tmp_path / "r.json", 0o640)
    atomic_write(tmp_path / "r.json", "{}")  # a replaced file keeps its permissions
    assert _mode(tmp_path / "r.json") == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz", "m.hsnn", "private.hsnn", "r.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    atomic_write(tmp_path / "a.txt", "old")

    def boom(fh):
        fh.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "a.txt", boom)
    assert (tmp_path / "a.txt").read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_outputs_must_differ_from_inputs_and_from_each_other(tmp_path):
    (tmp_path / "scene.hdr").write_text("ENVI")
    (tmp_path / "scene.img").write_bytes(b"0")
    (tmp_path / "m.hsnn").write_bytes(b"0")
    with pytest.raises(OutputError, match="class map .* is the model"):
        check_outputs([(str(tmp_path / "m.hsnn"), "class map")], [(str(tmp_path / "m.hsnn"), "model")])
    with pytest.raises(OutputError, match="is the input raster"):  # the ENVI data file behind the header
        check_outputs([(str(tmp_path / "scene.img"), "class map")], [(str(tmp_path / "scene.hdr"), "input raster")])
    with pytest.raises(OutputError, match="confidence map and the class map are the same file"):
        check_outputs([(str(tmp_path / "x.tif"), "class map"), (str(tmp_path / "./x.tif"), "confidence map")])
    check_outputs([(str(tmp_path / "a.tif"), "class map"), (None, "confidence map")], [(None, "labels")])


def test_output_locations_are_checked_before_any_work(tmp_path):
    assert check_output_dir(tmp_path / "new") == str(tmp_path / "new")  # created later, its parent exists
    with pytest.raises(OutputError, match="parent folder .* does not exist"):
        check_output_dir(tmp_path / "no" / "such")
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(OutputError, match="Output folder is not writable: /proc"):
        check_output_dir("/proc")
    with pytest.raises(OutputError, match="Output folder is not writable: /proc"):
        check_output_dir("/proc/x")
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path, "class map")
    with pytest.raises(OutputError, match="must end in .hsnn"):
        check_output_file(tmp_path / "m.tif", "model file", [".hsnn"])
