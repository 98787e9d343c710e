import base64
import csv
import json
import re

import numpy as np
import pytest

from hypersnn.core.config.schema import SplitConfig
from hypersnn.core.errors import OutputError
from hypersnn.core.assess.metrics import assess
from hypersnn.core.io.jsonable import to_jsonable
from hypersnn.core.report.html_report import write_report
from hypersnn.core.data.splits import make_split

CLASSES = [
    {"value": 1, "name": "Water", "color": (0, 0, 255)},
    {"value": 2, "name": "Trees <&> 'shrubs'", "color": (0, 160, 0)},
    {"value": 3, "name": "Asphalt", "color": (120, 120, 120)},
]


def _real_energy():
    """The energy section exactly as the engine emits it (a tiny network's counted operations)."""
    import torch

    from hypersnn.core.config.schema import ModelConfig
    from hypersnn.core.energy.costs import energy_report
    from hypersnn.core.nn.models import HSINet
    from hypersnn.core.energy.ops import count_ops

    torch.manual_seed(0)
    net = HSINet(ModelConfig(patch_size=5, conv3d_channels=[2], conv3d_spectral_kernels=[3], conv2d_channels=[3],
                             dense=[4]), in_bands=5, n_classes=3, bits=6, time_steps=3)
    net.set_thresholds([0.1, 0.1, 0.1])
    return energy_report(count_ops(net, [torch.randn(4, 5, 5, 5)]), scene_pixels=1000)


def _full_report():
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 4, (30, 40)).astype(np.int32)
    split = make_split(ref, SplitConfig(method="blocks", block_size=10, train_fraction=0.4), patch_size=3)
    pred = np.where(rng.random(ref.shape) < 0.8, ref, rng.integers(1, 4, ref.shape)).astype(np.int32)
    pred[ref == 0] = rng.integers(1, 4, int((ref == 0).sum()))
    acc = assess(ref, pred, [1, 2, 3], mask=split.test)
    report = {
        "title": "Test run <script>alert(1)</script>",
        "created": "2024-01-01T00:00:00",
        "model": {"arch": "hybrid", "patch_size": 11, "time_steps": 5, "weight_bits": 6,
                  "conv3d_channels": [8, 16], "train": {"cnn_lr": np.float32(1e-3)}},
        "split_protocol": split.protocol,
        "accuracy": acc.to_dict([c["name"] for c in CLASSES]),
        "energy": _real_energy(),
        "timing": {"train_s": np.float64(12.5), "classify_s": 3.25},
    }
    return report, pred


def test_full_report_writes_all_files(tmp_path):
    report, pred = _full_report()
    paths = write_report(tmp_path / "out", "run1", report, class_map=pred, classes=CLASSES)
    assert set(paths) == {"json", "html", "per_class_csv", "confusion_csv"}
    for p in paths.values():
        assert (tmp_path / "out" / p.split("/")[-1]).is_file()
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == sorted(
        ["run1.json", "run1.html", "run1_per_class.csv", "run1_confusion.csv"])  # no temp files left

    page = (tmp_path / "out" / "run1.html").read_text()
    imgs = re.findall(r'<img alt=\'([^\']*)\' src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    alts = [a for a, _ in imgs]
    for want in ("Class map", "Confusion matrix", "Producer's", "Spike rate per layer", "Energy per model",
                 "Energy by layer"):
        assert any(a.startswith(want.replace("'", "&#x27;")) for a in alts), want
    for _, b64 in imgs:
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Water" in page and "Asphalt" in page
    assert "Trees &lt;&amp;&gt; &#x27;shrubs&#x27;" in page and "<&>" not in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Overall accuracy" in page and "95% CI" in page and "Spatially disjoint block split" in page
    assert "6-bit CNN" in page and "conv2d_1" in page and "Horowitz" in page
    for conv in ("paper", "reuse", "complete (headline)"):
        assert f"<td class='l'>{conv}</td>" in page  # every ratio row names its convention
    assert "per map pixel" in page and "The classified scene: 1,000 pixels" in page
    assert "SNN compare" in page and "SNN inject" in page and "16-bit fixed point" in page
    assert "Operations per map pixel" in page

    data = json.loads((tmp_path / "out" / "run1.json").read_text())
    assert data["accuracy"]["oa"] == pytest.approx(report["accuracy"]["oa"])
    assert data["timing"]["train_s"] == 12.5

    rows = list(csv.reader((tmp_path / "out" / "run1_per_class.csv").open()))
    assert rows[0][:3] == ["value", "name", "producers_accuracy"]
    assert [r[1] for r in rows[1:]] == [c["name"] for c in CLASSES]
    assert float(rows[1][2]) == pytest.approx(report["accuracy"]["per_class"][0]["producers_accuracy"])
    cm_rows = list(csv.reader((tmp_path / "out" / "run1_confusion.csv").open()))
    assert len(cm_rows) == 4 and cm_rows[0][1:] == [c["name"] for c in CLASSES]
    assert [[int(x) for x in r[1:]] for r in cm_rows[1:]] == report["accuracy"]["confusion"]


def test_classify_only_report_renders_what_is_present(tmp_path):
    cm = np.array([[1, 2], [0, 5]])
    paths = write_report(tmp_path, "classify", {"title": "Classify", "timing": {"classify_s": 1.0}},
                         class_map=cm, classes=CLASSES[:2])
    assert set(paths) == {"json", "html"}
    page = (tmp_path / "classify.html").read_text()
    assert page.count("data:image/png;base64,") == 1
    assert "Overall accuracy" not in page and "<th class='l'>Classifying the raster</th><td class='l'>1.0 s</td>" in page
    write_report(tmp_path, "classify", {"title": "Again"})
    assert "Again" in (tmp_path / "classify.html").read_text()


def test_an_interrupted_rewrite_leaves_the_earlier_report_whole(tmp_path, monkeypatch):
    """A rewrite stopped while its file is being written (Ctrl+C, a full disk) leaves the earlier report as it
    was and no temporary file beside it."""
    write_report(tmp_path, "r", {"title": "First"})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    import hypersnn.core.report.html_report as report_module

    def half_written(path, data):
        with open(path, "wb") as fh:  # what a writer without a temporary file would leave behind
            fh.write(b"<!DOCTYPE html><html><head><title>Sec")
        raise KeyboardInterrupt

    def interrupted(path, data: bytes):
        return report_module.atomic_write(path, lambda fh: (fh.write(data[:40]), _stop()), what="report file")

    def _stop():
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "_atomic_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path, "r", {"title": "Second"})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    monkeypatch.setattr(report_module, "_atomic_write", half_written)  # the check itself: this one is caught
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path, "r", {"title": "Second"})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} != before


def test_bad_stem_and_jsonable(tmp_path):
    with pytest.raises(OutputError, match="plain file name"):
        write_report(tmp_path, "../x", {})
    assert list(tmp_path.iterdir()) == []
    out = to_jsonable({"a": np.int64(3), "b": np.array([1.5, np.nan]), 1: (np.bool_(True),)})
    assert out == {"a": 3, "b": [1.5, None], "1": [True]}
    json.dumps(out, allow_nan=False)


def test_class_names_in_cjk_scripts_draw_as_glyphs_not_boxes(tmp_path):
    """Matplotlib's default font has no CJK glyphs; the report falls back to a CJK font (bootstrap installs
    fonts-droid-fallback) inside its own rc_context, leaving matplotlib's global settings alone."""
    import warnings

    import matplotlib

    before = dict(matplotlib.rcParams)
    per = [{"value": 1, "name": "水体", "producers_accuracy": 0.9, "users_accuracy": 0.8},
           {"value": 2, "name": "森林", "producers_accuracy": 0.7, "users_accuracy": 0.6}]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_report(tmp_path, "cjk", {"accuracy": {"oa": 0.8, "per_class": per, "confusion": [[5, 1], [2, 7]]}},
                     class_map=np.array([[1, 2]]), classes=[{"value": 1, "name": "水体", "color": (0, 0, 255)},
                                                            {"value": 2, "name": "森林", "color": (0, 160, 0)}])
    # matplotlib's wording varies ("Glyph 27700 missing from current font." before 3.6, "... missing from font(s)
    # DejaVu Sans." since): any glyph warning fails
    assert not [w for w in caught if re.search(r"[Gg]lyph .*missing from", str(w.message))]
    assert dict(matplotlib.rcParams) == before


def test_untrustworthy_results_are_said_at_the_top_of_the_report():
    from hypersnn.core.report.html_report import render_html
    from hypersnn.core.training.trust import trust_warnings

    rep = {"split_protocol": {"validation_check": {"pixels": 4, "units": 1, "min_pixels": 50, "fallback": "fixed epochs"},
                              "per_class": [{"class": 1, "train": 3, "val": 0}, {"class": 2, "train": 40, "val": 5}],
                              "warnings": ["The leakage guard dropped 64 % of the labelled pixels (...)"]},
           "accuracy": {"class_values": [1, 2], "class_names": ["water", "roof"], "oa": 0.5, "aa": 0.5, "kappa": 0.0,
                        "per_class": [{"name": "water", "support": 5, "predicted": 0},
                                      {"name": "roof", "support": 5, "predicted": 10}]},
           "comparison": {"baselines": [{"verdict": "The SNN loses to the RBF SVM: OA 50.00 % vs 70.00 % (...)."}]}}
    w = trust_warnings(rep)
    assert w[0].startswith("Validation too small to decide (4 pixels, 1 whole unit(s) apart from training; the minimum "
                           "is 50 pixels")
    assert any("never predicted" in x and "water" in x for x in w)
    assert any("1 (water) (3)" in x for x in w) and any(x.startswith("The leakage guard dropped 64 %") for x in w)
    assert w[-1].startswith("The SNN loses to the RBF SVM")
    assert trust_warnings({"split_protocol": {"per_class": [{"class": 1, "train": 40, "val": 5}]}}) == []
    html = render_html(dict(rep, trust_warnings=w, title="t"))
    top = html.index("This result cannot be trusted")
    assert top < html.index("<h2>Summary</h2>")  # before any figure


def test_map_production_fixed_epochs_is_no_warning_but_a_class_in_one_fold_is():
    """Under split 'cv' nothing is held out by design (the cross-validation assesses that procedure), so the
    fixed-epoch schedule is not flagged; a class whose labels lie in a single fold cannot be assessed there, and
    that is flagged."""
    from hypersnn.core.training.trust import trust_warnings

    one_fold = "Class 6 (water) lies in a single fold: cross-validation cannot test it on areas its model did not ..."
    proto = {"method": "cv", "validation_check": {"pixels": 0, "min_pixels": 50, "fallback": "fixed epochs (map "
                                                                                              "production)"},
             "per_class": [{"class": 1, "train": 400, "val": 0}], "warnings": []}
    assert trust_warnings({"split_protocol": proto}) == []
    assert trust_warnings({"split_protocol": dict(proto, warnings=[one_fold])}) == [one_fold]
    held_out = dict(proto, method="polygons")
    assert trust_warnings({"split_protocol": held_out})[0].startswith("Validation too small to decide")
