"""A setting is declared once: a field added to core/config/schema.py, and nowhere else, reaches the command line,
Processing, the training dialog, the settings file and the CNN checkpoint's fingerprint (issue 21).

The test adds the field to a copy of the package (the real schema is not touched) and runs the checks in a fresh
Python process that imports that copy, as a new setting would be added by a developer.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEW_FIELD = ('    new_knob: float = opt(0.5, param="NEW_KNOB", lo=0.0, hi=1.0, advanced=True,\n'
             '                          help="a setting added by tests/qgis/test_new_setting_reaches_every_front_end.py")\n')

CHECKS = textwrap.dedent('''
    import json, sys
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    import hypersnn
    assert hypersnn.__file__.startswith(sys.argv[1]), hypersnn.__file__  # the copy, not the repository
    from hypersnn.cli import build_parser, config_from_args
    from hypersnn.core.config.schema import RunConfig, TrainConfig, ModelConfig
    out = {}
    # command line: a flag, with the range and help from the declaration
    args = build_parser().parse_args(["train", "--raster", "r", "--labels", "l", "--out", "m.hsnn", "--new-knob", "0.25"])
    out["cli"] = config_from_args(args).train.new_knob
    try:
        config_from_args(build_parser().parse_args(["train", "--raster", "r", "--labels", "l", "--out", "m.hsnn",
                                                    "--new-knob", "2"]))
        out["cli_range"] = "accepted"
    except Exception as e:
        out["cli_range"] = str(e)
    # Processing: a parameter of the train algorithm
    from hypersnn.plugin.algorithms.train import TrainAlgorithm
    alg = TrainAlgorithm()
    alg.initAlgorithm()
    p = alg.parameterDefinition("NEW_KNOB")
    out["processing"] = None if p is None else [p.defaultValue(), p.minimum(), p.maximum()]
    # the training dialog: a field of "More settings"
    from hypersnn.ui.settings_form import SettingsForm
    from hypersnn.core.config.settings import TRAIN_SECTIONS
    form = SettingsForm(TRAIN_SECTIONS)
    w = form.widgets.get("train.new_knob")
    out["dialog"] = None if w is None else type(w).__name__
    cfg = RunConfig()
    w.setValue(0.75)
    form.apply(cfg)
    out["dialog_value"] = cfg.train.new_knob
    # the settings file
    d = RunConfig().to_dict()
    out["file_default"] = d["train"]["new_knob"]
    out["file_read"] = RunConfig.from_dict({"train": {"new_knob": 0.125}}).train.new_knob
    # the CNN checkpoint's fingerprint (not declared SNN-only, so part of it)
    import numpy as np
    from hypersnn.core.training.trainer import PixelSet, Trainer
    pix = PixelSet(np.arange(4), np.arange(4), np.array([0, 1, 0, 1]))
    t = Trainer(ModelConfig(), TrainConfig(), 12, 2)
    before = t._fingerprint(pix, cnn_only=True)
    t.tcfg.new_knob = 0.9
    out["fingerprint_changes"] = t._fingerprint(pix, cnn_only=True) != before
    print("RESULT" + json.dumps(out))
''')


def _package_copy(tmp_path: Path) -> Path:
    """The package as `tmp_path/hypersnn`, its Python files only, with the new field added to TrainConfig."""
    dest = tmp_path / "hypersnn"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.tif", "*.png", "*.svg")
    for name in ("core", "workflows", "plugin", "ui", "cli"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("__init__.py", "cli.py", "metadata.txt"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, dest / name)
    schema = dest / "core" / "config" / "schema.py"
    text = schema.read_text()
    anchor = "class TrainConfig:\n"
    assert anchor in text
    start = text.index(anchor)
    end = text.index("\n\n\n", start)  # the class body ends at the first two blank lines
    schema.write_text(text[:end] + "\n" + NEW_FIELD.rstrip("\n") + text[end:])
    return tmp_path


def test_a_field_added_to_the_schema_reaches_cli_processing_dialog_settings_file_and_fingerprint(tmp_path):
    root = _package_copy(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               QT_QPA_PLATFORM="offscreen")
    p = subprocess.run([sys.executable, "-c", CHECKS, str(root / "hypersnn")], capture_output=True, text=True,
                       env=env, timeout=300, cwd=str(tmp_path))
    line = next((x for x in p.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line is not None, p.stdout[-2000:] + p.stderr[-4000:]
    out = json.loads(line[len("RESULT"):])
    assert out["cli"] == 0.25
    assert "train.new_knob (--new-knob) must be 0.0..1.0, got 2" in out["cli_range"]
    assert out["processing"] == [0.5, 0.0, 1.0]
    assert out["dialog"] == "QDoubleSpinBox" and out["dialog_value"] == 0.75
    assert out["file_default"] == 0.5 and out["file_read"] == 0.125
    assert out["fingerprint_changes"] is True
