"""Issue 20, the engine's side of "results that say when they are bad" and "a report that reads": the trust
warnings (a silent change of split method included), the report's warnings box before everything else, the model
as tables, times with units, a confusion matrix that stays narrow, and class colours that follow the names."""
import re

import numpy as np

from hypersnn.core.config.schema import SplitConfig
from hypersnn.core.data.labels import labels_from_array
from hypersnn.core.report.palette import class_colors, class_color, land_cover_kind
from hypersnn.core.report.html_report import render_html
from hypersnn.core.data.splits import FEW_PIXELS, make_split
from hypersnn.core.training.trust import FEW_TRAINING, trust_warnings


def _labels(h=40, w=40):
    lab = np.zeros((h, w), np.int32)
    lab[2:18, 2:38] = 1
    lab[22:38, 2:38] = 2
    return lab


def test_auto_split_on_a_label_raster_says_it_fell_back_to_random_and_that_is_a_trust_warning():
    """On Indian Pines (a label raster) 'Automatic' became a random split without a word."""
    s = make_split(_labels(), SplitConfig(method="auto", val_fraction=0.0))
    assert s.protocol["method"] == "random" and s.protocol["requested"] == "auto"
    w = trust_warnings({"split_protocol": s.protocol})
    assert any(x.startswith("Split 'auto': the labels have no polygons") and "random pixel split" in x for x in w), w
    # asked for by name, a random split is what the user chose: nothing to warn about
    r = make_split(_labels(), SplitConfig(method="random", val_fraction=0.0))
    assert not [x for x in trust_warnings({"split_protocol": r.protocol}) if x.startswith("Split")]


def test_untrustworthy_reasons_each_give_a_warning():
    assert FEW_TRAINING == FEW_PIXELS  # declared once (core/data/splits/common.py)
    rep = {"split_protocol": {"method": "random", "validation_check": {"fallback": True, "pixels": 2, "min_pixels": 50},
                              "per_class": [{"class": 1, "train": 1, "val": 0}, {"class": 2, "train": 400, "val": 40}]},
           "accuracy": {"class_values": [1, 2], "class_names": ["water", "tree"],
                        "per_class": [{"name": "water", "support": 5, "predicted": 0},
                                      {"name": "tree", "support": 90, "predicted": 95}]},
           "comparison": {"baselines": [{"verdict": "The SNN loses to the SVM: OA 56.10 % vs 67.09 % on 1,234 test "
                                                    "pixels"}]}}
    w = trust_warnings(rep)
    assert w[0].startswith("Validation too small to decide (2 pixels")
    assert any("never predicted" in x and "water" in x for x in w)
    assert any(x.startswith("Too few training pixels for 1 (water) (1)") for x in w)
    assert any(x.startswith("The SNN loses to the SVM") for x in w)


def _report():
    names = ["Alfalfa", "Buildings-Grass-Trees-Drives", "Stone-Steel-Towers"]
    per = [{"value": v, "name": n, "producers_accuracy": 0.9, "users_accuracy": 0.8, "f1": 0.85, "support": 931,
            "predicted": 900} for v, n in zip((1, 15, 16), names)]
    return {"title": "t", "trust_warnings": ["Validation too small to decide (2 pixels; the minimum is 50 pixels)"],
            "accuracy": {"oa": 0.9, "aa": 0.8, "kappa": 0.7, "n_test": 2793, "class_values": [1, 15, 16],
                         "class_names": names, "per_class": per,
                         "confusion": [[931, 0, 0], [1, 900, 30], [0, 0, 931]]},
            "model": {"architecture": "hybrid", "patch_size": 11, "wavelength_range_nm": [400.02, 2498.96],
                      "layers": [{"name": "conv3d_1", "kind": "conv3d", "in": 1, "out": 8, "kernel": [7, 1, 1],
                                  "role": "conv"},
                                 {"name": "output", "kind": "conv2d", "in": 128, "out": 3, "kernel": [1, 1],
                                  "role": "output"}],
                      "neurons": [{"threshold": 4.209222316741943, "leak": 1.0, "leak_mode": "trained"}]},
            "timing": {"prepare": 0.30476, "cnn": 75.366, "total": 6.19495, "classify_pixels_per_s": 13730.35}}


def test_report_top_model_tables_times_with_units_and_a_narrow_confusion_matrix():
    page = render_html(_report())
    body = page[page.index("<body>"):]
    # the warnings box comes before everything but the title
    assert body.index("This result cannot be trusted") < body.index("<h2>Summary") < body.index("<h2>Model")
    # the model as tables (never raw JSON), a row per layer with its spiking threshold and leak
    assert '"threshold"' not in page and '[{"' not in page
    assert "<h3>Layers</h3>" in page and "7 x 1 x 1" in page and ">4.209<" in page and "1.0000 (trained)" in page
    assert ">Wavelengths<" in page and "400.0-2499.0 nm" in page  # the summary's rows, as info and the dialog
    # times in s or min, rates with their unit
    assert ">6.2 s<" in page and ">1.3 min<" in page and ">0.3 s<" in page
    assert "13,730 pixels / s" in page and "6.19495" not in page
    # the confusion matrix is headed by class values (names on its rows), and every table can scroll sideways
    cm = page[page.index("<h3>Confusion matrix"):]
    cm = cm[:cm.index("</table>")]
    assert re.findall(r"<th title='[^']*'>(\d+)</th>", cm) == ["1", "15", "16"]
    assert "<th class='l'>15 Buildings-Grass-Trees-Drives</th>" in cm
    assert page.count("<div class='scroll'><table>") == page.count("<table>")
    assert "td,th{white-space:nowrap}" in page


def test_class_colours_follow_land_cover_names_where_clear():
    potsdam = dict(enumerate(["roof", "pavement", "soil", "low vegetation", "tree", "water"], start=1))
    c = class_colors(potsdam.items())
    assert [land_cover_kind(n) for n in potsdam.values()] == ["built", "paved", "bare", "grass", "trees", "water"]
    r, g, b = c[6]
    assert b > r + 80 and b > g  # water blue (the default palette gave it purple)
    assert all(c[v][1] > c[v][0] + 40 and c[v][1] > c[v][2] + 40 for v in (4, 5))  # vegetation green
    assert c[1][0] > c[1][1] + 100 and max(c[2]) - min(c[2]) < 25  # roofs red, pavement grey
    # several classes of one kind get distinct shades; names that say nothing keep the default palette
    pines = {2: "Corn-notill", 3: "Corn-mintill", 4: "Corn", 7: "Class 7"}
    pc = class_colors(pines.items())
    assert len({pc[2], pc[3], pc[4]}) == 3 and pc[7] == class_color(7)
    assert class_colors([(1, "Class 1"), (2, "Class 2")]) == {1: class_color(1), 2: class_color(2)}
    # more classes of a kind than it has shades (Indian Pines' ten crops): they keep the distinct default colours
    crops = {v: f"Corn-{v}" for v in range(1, 11)}
    crops[11] = "Woods"
    cc = class_colors(crops.items())
    assert [cc[v] for v in range(1, 11)] == [class_color(v) for v in range(1, 11)] and cc[11] != class_color(11)
    # labels get them unless the user's table or style gives colours
    arr = np.array([[1, 2, 6]], np.int32)
    lab = labels_from_array(arr, potsdam)
    assert {k.value: k.color for k in lab.classes} == {v: c[v] for v in (1, 2, 6)}
    assert labels_from_array(arr, potsdam, {6: (255, 0, 255)}).classes[2].color == (255, 0, 255)
