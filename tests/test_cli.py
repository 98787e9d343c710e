"""The command line as an analyst meets it: help, config files, clear errors, no network."""
import json
import subprocess
import sys

import pytest

from hypersnn.cli import build_parser, config_from_args, main
from hypersnn.core.config.schema import RunConfig
from hypersnn.core.errors import InputError


def test_console_script_help_lists_every_command():
    """The names also occur in the prose of the help, so read the sub-command list argparse prints: one line
    per command, indented by four spaces, between "COMMAND" and the end of the positional arguments."""
    r = subprocess.run([sys.executable, "-m", "hypersnn.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    start = lines.index("  COMMAND") + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    listed = [ln.split()[0] for ln in lines[start:end] if ln.startswith("    ") and not ln.startswith("     ")]
    assert listed == ["train", "classify", "batch", "evaluate", "sample", "report", "demo", "export", "info",
                      "datasets"], \
        r.stdout


def test_train_help_explains_the_options_in_analyst_terms(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "wavelength windows" in out and "spatially disjoint" in out and "--class-field" in out


def test_config_file_then_flags(tmp_path):
    cfg = RunConfig()
    cfg.train.time_steps = 8
    cfg.preprocess.pca_components = 12
    p = tmp_path / "c.json"
    p.write_text(json.dumps(cfg.to_dict()))
    args = build_parser().parse_args(["train", "--raster", "x", "--labels", "y", "--out", "m", "--config", str(p),
                                      "--bits", "4", "--seed", "9"])
    got = config_from_args(args)
    assert got.train.time_steps == 8 and got.preprocess.pca_components == 12
    assert got.train.weight_bits == 4 and got.train.seed == 9 and got.split.seed == 9


def test_config_file_with_an_unknown_setting_names_it(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"train": {"time_step": 5}}))
    with pytest.raises(InputError, match="time_step"):
        RunConfig.load(p)


def test_datasets_fetch_without_network_fails_clearly(tmp_path, capsys):
    rc = main(["datasets", "fetch", "indian_pines", "--dest", str(tmp_path),
               "--url", "cube=http://127.0.0.1:9/Indian_pines_corrected.mat",
               "--url", "gt=http://127.0.0.1:9/Indian_pines_gt.mat"])
    err = capsys.readouterr().err
    assert rc == 2 and "127.0.0.1" in err and "manually" in err
    assert not any(tmp_path.iterdir())  # nothing half-downloaded left behind


def test_datasets_list(capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "indian_pines" in out and "salinas" in out


def _train_flags(parser) -> set:
    train = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    return {o for a in train._actions for o in a.option_strings}


def test_every_registered_setting_has_its_flag_and_a_new_one_would_too(monkeypatch):
    """The flags come from the settings registry: every CLI setting of the training sections (all of them, the
    baseline's included) is a flag of `train`, a flag sets exactly its field, and a setting added to the registry
    becomes a flag without any change to the CLI."""
    import dataclasses

    from hypersnn.core.config import settings as registry
    from hypersnn.core.config.settings import TRAIN_SECTIONS, settings

    assert "baseline" in TRAIN_SECTIONS
    p = build_parser()
    flags = _train_flags(p)
    for s in settings(*TRAIN_SECTIONS, where="cli"):
        assert s.flag in flags, s.key
    assert "--baseline" in flags
    knob = dataclasses.replace(registry.BY_KEY["train.seed"], name="new_knob", flag="--new-knob", param="NEW_KNOB",
                               help="a setting added for this test", default=3)
    monkeypatch.setattr(registry, "SETTINGS", registry.SETTINGS + [knob])
    p2 = build_parser()
    assert "--new-knob" in _train_flags(p2) and "--new-knob" not in flags
    cfg = config_from_args(p2.parse_args(["train", "--raster", "r", "--labels", "l", "--out", "m.hsnn",
                                          "--new-knob", "7"]))
    assert cfg.train.new_knob == 7
    args = p.parse_args(["train", "--raster", "r", "--labels", "l", "--out", "m.hsnn", "--leak-mode", "pow2",
                         "--input-bits", "8", "--keep-bad-bands", "--drop-water-bands", "--seed", "4"])
    cfg = config_from_args(args)
    assert (cfg.train.leak_mode, cfg.model.input_bits, cfg.bands.drop_bad_bands, cfg.bands.drop_water_bands) == \
        ("pow2", 8, False, True)
    assert cfg.train.seed == cfg.split.seed == 4  # the one seed rule
    with pytest.raises(InputError, match="input_bits must be 0"):
        config_from_args(p.parse_args(["train", "--raster", "r", "--labels", "l", "--out", "m.hsnn",
                                       "--input-bits", "1"]))
