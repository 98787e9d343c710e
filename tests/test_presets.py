"""Presets: the `efficient` preset is the bench's choice on validation pixels, and applies like any settings."""
import json
from pathlib import Path

from hypersnn.cli import build_parser, config_from_args
from hypersnn.core.config.schema import PRESETS, RunConfig, apply_preset

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results.json"


def test_the_efficient_preset_is_what_the_bench_chose_on_validation_pixels():
    data = json.loads(RESULTS.read_text())
    sel = data["sections"]["selection"]
    assert "validation" in sel["rule"] and "No test pixel" in sel["rule"]
    # the choice was made on the whole front: every candidate over at least 3 seeds (the rest of the bench, e.g.
    # the sweeps, may still be partial)
    from bench.front import SHOWN_ONLY

    assert all(v["n"] >= 3 for k, v in data["sections"]["front_summary"].items() if k not in SHOWN_ONLY)
    want = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in sel["settings"].items()}
    got = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in PRESETS["efficient"].items()}
    assert got == want, f"config.PRESETS['efficient'] {got} differs from the bench's choice {sel['chosen']}: {want}"


def test_a_preset_applies_before_flags_and_the_default_preset_changes_nothing():
    assert apply_preset(RunConfig(), "default") == RunConfig()
    cfg = apply_preset(RunConfig(), "efficient")
    for key, value in PRESETS["efficient"].items():
        section, name = key.split(".")
        assert getattr(getattr(cfg, section), name) == value
    args = build_parser().parse_args(["train", "--raster", "r", "--labels", "l", "--out", "m.hsnn",
                                      "--preset", "efficient", "--time-steps", "7"])
    cfg = config_from_args(args)
    assert cfg.train.time_steps == 7  # a flag overrides the preset
    for key, value in PRESETS["efficient"].items():
        if key != "train.time_steps":
            section, name = key.split(".")
            assert getattr(getattr(cfg, section), name) == value
