"""Hostile inputs on the command line and in settings files (issue 20): each case fails with a message that names
the setting, file or flag at fault, or runs as the user meant, never with a traceback or a meaningless result."""
import json
import zipfile

import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.cli import build_parser, main
from hypersnn.core.config.schema import RunConfig
from hypersnn.core.errors import InputError, LabelError
from hypersnn.core.config.settings import SETTINGS


def _cfg(d: dict) -> RunConfig:
    return RunConfig.from_dict(d).validate()


# -- the settings registry ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("section,name,value,want", [
    ("train", "cnn_epochs", 1.0, 1), ("train", "batch_size", 1e9, 10 ** 9), ("train", "time_steps", 3.0, 3),
    ("model", "first_spatial_kernel", 3.0, 3), ("model", "dense", [16.0, 8.0], [16, 8]),
])
def test_whole_number_floats_of_a_json_file_become_ints(section, name, value, want):
    """JSON writes 1.0 and 1e9 for numbers; torch's range() and zeros() take ints only (TypeError before)."""
    got = getattr(getattr(_cfg({section: {name: value}}), section), name)
    assert got == want and type(got) is type(want)
    if isinstance(got, list):
        assert all(type(v) is int for v in got)


def test_a_fraction_where_a_whole_number_belongs_names_the_setting():
    with pytest.raises(InputError, match=r"train\.time_steps \(--time-steps\) must be a whole number, got 3\.7"):
        _cfg({"train": {"time_steps": 3.7}})


@pytest.mark.parametrize("model,words", [
    ({"conv3d_channels": ["a", "b"]}, ["model.conv3d_channels", "item 1", "must be a number", "'a'"]),
    ({"dense": [0]}, ["model.dense", "must be 1..4096", "got 0"]),
    ({"conv3d_channels": [8, -16]}, ["model.conv3d_channels", "item 2", "got -16"]),
    ({"conv2d_channels": 32}, ["model.conv2d_channels must be a list of whole numbers", "got 32"]),
    ({"conv3d_channels": [], "conv3d_spectral_kernels": []}, ["model.conv3d_channels must list 1 to 16", "got 0"]),
    ({"dense": [8] * 17}, ["model.dense must list at most 16", "got 17"]),
    ({"conv2d_channels": [True]}, ["model.conv2d_channels", "must be a number", "True"]),
])
def test_list_settings_are_checked_in_the_registry(model, words):
    """Before: 'zeros() takes 1 positional argument', ZeroDivisionError, a torch RuntimeError deep in training."""
    with pytest.raises(InputError) as e:
        _cfg({"model": model})
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_spectral_kernels_say_how_many_are_needed():
    with pytest.raises(InputError) as e:
        _cfg({"model": {"conv3d_channels": [8, 16, 32], "conv3d_spectral_kernels": [7, 5]}})
    text = str(e.value)
    assert "model.conv3d_spectral_kernels" in text and "model.conv3d_channels" in text
    assert "give 3 kernel(s)" in text and "got 2" in text


@pytest.mark.parametrize("name,value", [("full_mult_pj", -5), ("full_add_pj", 0), ("int32_mult_pj", -0.1),
                                        ("int32_add_pj", -1e-9)])
def test_energy_costs_must_be_positive(name, value):
    """Before: a settings file with full_mult_pj = -5 gave 'FP32 CNN -15.2 uJ' and an energy ratio of -98.2."""
    with pytest.raises(InputError, match=rf"energy\.{name} must be > 0, got {value}"):
        _cfg({"energy": {"table": "mine", name: value}})


def test_text_settings_refuse_other_types():
    with pytest.raises(InputError, match=r"bands\.indices \(--bands\) must be text"):
        _cfg({"bands": {"indices": 5}})


def test_every_default_passes_its_own_check():
    for s in SETTINGS:
        assert s.check(s.default) == s.default, s.key


# -- command line --------------------------------------------------------------------------------------------------
def test_negated_flags_say_what_the_flag_does(capsys):
    """--keep-bad-bands said 'drop bands flagged bad ... (default True)', --no-standardize 'standardise each band'."""
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--keep-bad-bands keep the bands flagged bad" in out
    assert "--no-standardize do not standardise the bands" in out
    assert "--no-leakage-guard turn off the leakage guard" in out
    p = build_parser()
    for sub in p._subparsers._group_actions[0].choices.values():
        for a in sub._actions:
            setting = next((s for s in SETTINGS if s.negate and s.flag in a.option_strings), None)
            if setting is not None:
                assert "default True" not in a.help and "drop bands flagged" not in a.help, a.help


def test_every_argument_has_help_text():
    """classify --model/--raster, report --out-dir, demo --out-dir/--seed and info's model had none."""
    p = build_parser()
    missing = [(name, a.option_strings or a.dest) for name, sub in p._subparsers._group_actions[0].choices.items()
               for a in sub._actions if not a.help]
    assert not missing


def _settings_file(tmp_path, **sections):
    """A tiny training configuration (seconds) with `sections` merged in."""
    d = {"split": {"method": "random", "train_fraction": 0.5}, "preprocess": {"pca_components": 0},
         "model": {"patch_size": 5, "conv3d_channels": [4], "conv3d_spectral_kernels": [3], "conv2d_channels": [8],
                   "dense": [16], "dropout": 0.0},
         "train": {"cnn_epochs": 2, "snn_epochs": 1, "time_steps": 2, "batch_size": 32, "threads": 1}}
    for sec, vals in sections.items():
        d.setdefault(sec, {}).update(vals)
    p = tmp_path / "settings.json"
    p.write_text(json.dumps(d))
    return p


def test_train_with_whole_number_floats_in_the_settings_file(tmp_path, geotiff, label_geotiff, capsys):
    """The end-to-end case of the issue: exit 0 and a model, not `TypeError: 'float' object cannot be interpreted
    as an integer`."""
    cfg = _settings_file(tmp_path, train={"cnn_epochs": 1.0, "snn_epochs": 1.0, "time_steps": 2.0,
                                          "batch_size": 1e9, "threads": 1})
    rc = main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--config", str(cfg),
               "--out", str(tmp_path / "m.hsnn"), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "m.hsnn").is_file()


def test_train_refuses_negative_energy_costs_before_any_work(tmp_path, geotiff, label_geotiff, capsys):
    cfg = _settings_file(tmp_path, energy={"table": "mine", "full_mult_pj": -5})
    rc = main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--config", str(cfg),
               "--out", str(tmp_path / "m.hsnn"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "energy.full_mult_pj must be > 0, got -5" in err
    assert not (tmp_path / "m.hsnn").exists()


def test_quiet_drops_progress_but_keeps_warnings(tmp_path, label_geotiff, capsys):
    """A label raster on another grid is resampled with a warning; --quiet hid it."""
    _, gt = fd.synthetic_scene()
    shifted = fd.make_geotiff(tmp_path / "shifted.tif", gt, nodata=0, wavelengths=None,
                              transform=(fd.ORIGIN[0] + 2 * fd.PIXEL, fd.PIXEL, 0.0, fd.ORIGIN[1], 0.0, -fd.PIXEL))
    rc = main(["evaluate", "--map", str(label_geotiff), "--labels", str(shifted), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 0
    assert "warning" in err and "resampled to the image grid" in err
    assert "%" not in err.replace("warning", "")  # no progress bar


def test_a_folder_given_as_model_is_called_a_folder(tmp_path, capsys):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.hsnn").write_bytes(b"")
    rc = main(["info", str(tmp_path / "models")])
    err = capsys.readouterr().err
    assert rc == 2 and "is a folder, not a file" in err and "a.hsnn" in err and "not found" not in err


def test_an_edited_model_file_is_named_with_what_is_damaged(tmp_path, capsys):
    from tiny import tiny_model_file

    path = tiny_model_file(tmp_path)
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("hypersnn.json"))
        tensors = z.read("tensors.npz")
    meta["preprocessing"]["format"] = "edited"
    edited = tmp_path / "edited.hsnn"
    with zipfile.ZipFile(edited, "w") as z:
        z.writestr("hypersnn.json", json.dumps(meta))
        z.writestr("tensors.npz", tensors)
    rc = main(["info", str(edited)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{edited} is damaged" in err and "'format' is 'edited'" in err and "'preprocessing'" in err
    assert "train again" in err


# -- grids: CRSs by equivalence, rasters without georeferencing ------------------------------------------------------
def _read_labels(path, image):
    from hypersnn.workflows.labels import read_label_raster
    from hypersnn.workflows.rasterio_backend import RasterioBackend

    backend = RasterioBackend()
    r = backend.open_raster(image)
    try:
        info = r.info
    finally:
        r.close()
    return read_label_raster(backend, str(path), info)


def test_envi_map_info_and_the_epsg_code_of_the_same_zone_are_one_crs(tmp_path):
    """The ENVI header's 'map info' UTM 33N is written as an unnamed projected CRS, the GeoTIFF's as EPSG:32633:
    their WKT texts differ, the CRS is the same (refused as 'different coordinate reference systems' before)."""
    data, _ = fd.make_envi(tmp_path / "scene.img")
    _, gt = fd.synthetic_scene()
    labels = fd.make_geotiff(tmp_path / "gt.tif", gt, nodata=0, wavelengths=None, crs="EPSG:32633")
    lab = _read_labels(labels, data)
    assert (lab.array > 0).sum() > 0


def test_a_really_different_crs_is_still_refused(tmp_path):
    data, _ = fd.make_envi(tmp_path / "scene.img")
    _, gt = fd.synthetic_scene()
    labels = fd.make_geotiff(tmp_path / "gt.tif", gt, nodata=0, wavelengths=None, crs="EPSG:32615")
    with pytest.raises(LabelError, match="different coordinate reference systems"):
        _read_labels(labels, data)


def test_a_label_raster_without_georeferencing_is_matched_by_pixel_and_said_to_have_none(tmp_path, geotiff):
    import rasterio

    _, gt = fd.synthetic_scene()
    plain = tmp_path / "plain.tif"
    with rasterio.open(plain, "w", driver="GTiff", width=gt.shape[1], height=gt.shape[0], count=1,
                       dtype="uint8") as dst:  # no CRS, no transform: GDAL reports (0, 1, 0, 0, 0, 1)
        dst.write(gt[None])
    with pytest.warns(UserWarning, match="has no georeferencing.*pixel for pixel"):
        lab = _read_labels(plain, geotiff)
    assert int((lab.array > 0).sum()) == int((gt > 0).sum())
    small = tmp_path / "small.tif"
    with rasterio.open(small, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8") as dst:
        dst.write(np.ones((1, 10, 10), np.uint8))
    with pytest.raises(LabelError) as e:
        _read_labels(small, geotiff)
    assert "has no georeferencing" in str(e.value) and "reproject" not in str(e.value)
