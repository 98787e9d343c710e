"""What a hostile user found on the command line, each fixed: outputs that replaced inputs or each other, report
folders checked only after training, SIGTERM leaving temporary files, a closed pipe ending in a traceback,
--json errors with an empty stdout, and warnings printed with Python's source lines."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.cli import main
from tiny import tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    raster = fd.make_geotiff(d / "scene.tif")
    labels = fd.make_geotiff(d / "gt.tif", fd.synthetic_scene()[1], nodata=0, wavelengths=None)
    cfg = d / "tiny.json"
    cfg.write_text(json.dumps(tiny_config(cnn_epochs=2, snn_epochs=1).to_dict()))
    model = d / "m.hsnn"
    assert main(["train", "--raster", str(raster), "--labels", str(labels), "--out", str(model), "--config", str(cfg),
                 "--quiet"]) == 0
    return d, raster, labels, cfg, model


def _listing(d):
    return sorted(p.name for p in d.iterdir())


def test_classify_refuses_outputs_that_are_inputs_or_each_other(trained, tmp_path, capsys):
    d, raster, labels, cfg, model = trained
    before = model.read_bytes()
    for extra, what in ((["--out", str(model)], "class map .* is the model file"),
                        (["--out", str(tmp_path / "c.tif"), "--confidence", str(model)], "confidence map .* model file"),
                        (["--out", str(tmp_path / "x.tif"), "--confidence", str(tmp_path / "x.tif")],
                         "confidence map and the class map are the same file"),
                        (["--out", str(tmp_path / "c.tif"), "--energy-map", str(raster)], "energy map .* input raster")):
        rc = main(["classify", "--model", str(model), "--raster", str(raster)] + extra)
        assert rc == 2
        import re
        assert re.search(what, capsys.readouterr().err), what
    assert model.read_bytes() == before and _listing(tmp_path) == []


def test_train_refuses_to_overwrite_its_settings_file_and_checks_report_folders_first(trained, tmp_path, capsys):
    d, raster, labels, cfg, model = trained
    settings = tmp_path / "settings.hsnn"  # a JSON settings file, named like a model
    settings.write_text(cfg.read_text())
    before = settings.read_bytes()
    rc = main(["train", "--raster", str(raster), "--labels", str(labels), "--config", str(settings),
               "--out", str(settings), "--quiet"])
    assert rc == 2 and "is the settings file of this run" in capsys.readouterr().err
    assert settings.read_bytes() == before
    for bad, why in (("/proc", "Output folder is not writable: /proc"),
                     ("/proc/x", "Output folder is not writable: /proc"),
                     (str(tmp_path / "settings.hsnn"), "is a file, not a folder")):
        t0 = time.monotonic()
        rc = main(["train", "--raster", str(raster), "--labels", str(labels), "--config", str(cfg),
                   "--out", str(tmp_path / "m.hsnn"), "--report-dir", bad, "--quiet", "--cnn-epochs", "500"])
        err = capsys.readouterr().err
        assert rc == 2 and why in err and "Traceback" not in err, err
        assert time.monotonic() - t0 < 10 and not (tmp_path / "m.hsnn").exists()  # refused before training
    rc = main(["report", "--model", str(model), "--raster", str(raster), "--labels", str(labels),
               "--out-dir", str(settings)])
    err = capsys.readouterr().err
    assert rc == 2 and "is a file, not a folder" in err and "Traceback" not in err


def test_json_errors_are_json_and_a_closed_pipe_is_quiet(trained, capsys):
    d, raster, labels, cfg, model = trained
    rc = main(["classify", "--model", str(d / "missing.hsnn"), "--raster", str(raster), "--out", str(d / "c.tif"),
               "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 2 and out["kind"] == "error" and "missing.hsnn" in out["error"] and out["exit_code"] == 2
    # `info --json | head`: the reader leaves before the writer is done (here: before it starts)
    p = subprocess.Popen([sys.executable, "-m", "hypersnn.cli", "info", str(model), "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_warnings_are_one_plain_line(trained, tmp_path):
    d, raster, labels, cfg, model = trained
    old = json.loads(cfg.read_text())
    old["train"]["device"] = "cpu"  # a setting that was never read: accepted with a warning
    (tmp_path / "old.json").write_text(json.dumps(old))
    r = subprocess.run([sys.executable, "-m", "hypersnn.cli", "train", "--raster", str(raster), "--labels",
                        str(labels), "--config", str(tmp_path / "old.json"), "--out", str(tmp_path / "m.hsnn"),
                        "--quiet", "--cnn-epochs", "1", "--snn-epochs", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "device" in ln]
    assert lines == ["hypersnn: warning: config.train: setting 'device' is no longer used (training runs on the "
                     "CPU); ignored"], r.stderr


def test_sigterm_during_classify_leaves_no_temporary_files_and_keeps_the_old_map(trained, tmp_path):
    d, raster, labels, cfg, model = trained
    big = fd.make_geotiff(tmp_path / "big.tif", np.tile(fd.synthetic_scene()[0], (12, 12, 1)))  # 240 x 288
    out = tmp_path / "out"
    out.mkdir()
    (out / "c.tif").write_bytes(b"the earlier map")
    p = subprocess.Popen([sys.executable, "-m", "hypersnn.cli", "classify", "--model", str(model), "--raster", str(big),
                          "--out", str(out / "c.tif"), "--confidence", str(out / "conf.tif"), "--window", "8"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not [n for n in os.listdir(out) if n.startswith(".")]:  # the writers have started
        assert p.poll() is None and time.monotonic() - t0 < 60, p.stderr.read() if p.poll() is not None else "slow"
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "canceled" in err and "Traceback" not in err, err
    assert _listing(out) == ["c.tif"] and (out / "c.tif").read_bytes() == b"the earlier map"
