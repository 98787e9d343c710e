"""`make bench --quick` runs every benchmark section end to end on a tiny network and crop (seconds), so the
bench cannot rot; the figures themselves come from the full `make bench`."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_bench_runs_every_section_and_writes_the_table(tmp_path):
    from bench.run import main

    out, md = tmp_path / "results.json", tmp_path / "results.md"
    assert main(["--quick", "--out", str(out), "--md", str(md)]) == 0
    data = json.loads(out.read_text())
    s = data["sections"]
    for section in ("protocol", "front", "front_summary", "selection", "equivalent_ann", "headline_3d", "sweeps",
                    "baselines", "spatial", "grouped", "speed", "memory", "onnx", "dask"):
        assert section in s, section
    ox = s["onnx"]
    assert ox["class_map_identical"] and ox["max_confidence_diff"] < 1e-5
    assert [(r["engine"], r["torch_loaded"]) for r in ox["rows"]] == [("torch", True), ("onnx", False)]
    dk = s["dask"]
    assert {r["workers"] for r in dk["rows"]} == {0, 1, 2} and all(r["identical_to_single"] for r in dk["rows"]
                                                                   if r["workers"])
    g = s["grouped"]
    assert [r["split"] for r in g] == ["polygons", "blocks"]
    assert [b["model"] for b in g[0]["baselines"]] == ["RBF SVM", "Random forest"] and len(g[0]["verdicts"]) == 2
    assert "Spatially grouped splits" in md.read_text()
    front = s["front"]
    assert [r["default"] for r in front] == [True] + [False] * (len(front) - 1)
    assert front[1]["spike_penalty"] > 0 and front[1]["input_bits"] == 8 and front[1]["leak_mode"] == "pow2"
    row = front[0]
    assert set(row["energy"]) == {"horowitz45", "horowitz45_int", "CNN activations 8-bit", "accumulators 24-bit"}
    for conv in ("paper", "reuse", "complete"):
        assert row["energy"]["horowitz45"][conv]["per_patch"]["q_cnn_over_snn"] > 0
    assert row["snn"]["oa"] > 0 and row["cnn"]["oa"] > 0
    # the equivalent low-bit ANN: trained and scored beside the default and the efficient preset, in its own table
    ann = s["equivalent_ann"]
    assert [r["candidate"] for r in ann] == ["default", "efficient (T=2)"]
    assert [r["equivalent_ann_bits"] for r in ann] == [3, 2] and all(r["equivalent_ann"]["oa"] > 0 for r in ann)
    assert all(r["energy"]["horowitz45"]["complete"]["per_patch"]["equivalent_ann_over_snn"] > 0 for r in ann)
    assert all(r["memory"][flow]["ratios"]["equivalent_ann_over_snn"] > 0
               for r in ann for flow in ("no_reuse", "reuse"))
    assert "The equivalent low-bit ANN beside the SNN" in md.read_text()
    assert "equivalent_ann_over_snn" in json.dumps(row["energy"]) and row["equivalent_ann"] is None
    # the 64 x 64 crop's validation holds fewer than 50 pixels of some class (core/data/splits.MIN_VAL_PIXELS): the runs
    # train fixed epochs, and the rule that chooses on validation pixels says it cannot choose instead of choosing
    assert "too small to decide" in row["split_protocol"]
    assert row["val_oa"] is None and row["val_energy"] is None
    assert s["selection"]["chosen"] is None and "fixed-epoch fallback" in s["selection"]["note"]
    assert s["speed"]["class_agreement"] == 1.0  # fully convolutional == patch by patch
    assert s["speed"]["speedup"] > 0  # its size is the bench's to report (docs/results.md), not a timed test's
    assert all(m["rc"] == 0 and 0 < m["peak_rss_mb"] < 2048 for m in s["memory"]) and len(s["memory"]) == 2
    assert [r["model"] for r in s["baselines"]] == ["RBF SVM", "random forest"]
    assert all(r["val_oa"] is not None and r["params"] for r in s["baselines"])  # chosen on validation pixels
    # a tuned SVM and forest on the quick crop are far above what the barely trained quick networks reach (measured
    # 0.90 and 0.82 against 0.17-0.31): a baseline that silently broke (wrong labels, no tuning) would not be
    assert all(r["oa"] > 0.6 for r in s["baselines"]), [(r["model"], r["oa"]) for r in s["baselines"]]
    assert any(r.get("label") == "SNN hybrid blocks" and r["snn"]["oa"] > 0 for r in s["spatial"])
    text = md.read_text()
    assert "| OA % |" in text and "Spatially disjoint" in text and "speed-up" in text and "ONNX Runtime vs torch" in text
    assert "Classification on Dask" in text
    assert [r["mixup"] for r in s["mixup"]] == [0.4] * len(s["mixup"]) and "Mixup (alpha 0.4)" in text
    assert "Accuracy-energy front" in text and "complete convention (headline)" in text
    assert "paper convention" in text and "Where the energy goes" in text

    from bench.report import readme_summary
    block = readme_summary(data)
    assert "Hyper-SNN paper (reported) | - | 98.68" in block and "HyperSNN hybrid, demo settings" in block
    assert "peak RSS" in block and "complete convention (headline)" in block
    assert "First layer's share of the SNN's energy" in block


def test_first_layer_share_is_the_first_layers_part_of_the_snn_energy():
    from bench.report import first_layer_share

    row = {"energy_layers": [{"pj": {"snn": 30.0}}, {"pj": {"snn": 60.0}}, {"pj": {"snn": 10.0}}]}
    assert first_layer_share(row) == 0.3


def test_front_summary_uses_the_sample_std_and_the_rule_uses_validation_only():
    from bench.front import select, summarize

    def row(cand, seed, val_oa, val_ratio, test_oa, test_ratio):
        e = {c: {"per_patch": {"q_cnn_over_snn": test_ratio, "fp_cnn_over_snn": 10 * test_ratio},
                 "per_map_pixel": {"q_cnn_over_snn": test_ratio, "fp_cnn_over_snn": 10 * test_ratio},
                 "per_patch_pj": {"snn": 1.0}} for c in ("paper", "reuse", "complete")}
        return {"candidate": cand, "settings": {} if cand == "default" else {"train.time_steps": 2}, "seed": seed,
                "val_oa": val_oa, "val_energy": {"complete": {"q_cnn_over_snn": val_ratio}},
                "snn": {"oa": test_oa, "aa": test_oa, "kappa": test_oa}, "energy": {"horowitz45": e},
                "spike_rates": {"a": 0.1}}

    rows = [row("default", s, 0.99, 10, 0.99, 10) for s in range(3)]
    rows += [row("cheap", s, 0.97, 50, 0.995, 50) for s in range(3)]  # the best test OA, but too low on validation
    rows += [row("fair", s, v, 20, 0.9, 5) for s, v in enumerate((0.987, 0.988, 0.989))]  # poor on test: unseen
    summ = summarize(rows)
    assert abs(summ["fair"]["val_oa"]["std"] - 0.001) < 1e-9  # n - 1
    sel = select(summ)
    assert sel["chosen"] == "fair" and "cheap" not in sel["eligible"]


def test_child_peak_memory_is_the_childs_not_the_forking_parents():
    """ru_maxrss of a child carries its parent's high-water mark across exec (Linux), so the bench's memory
    rows once reported the bench's own size; VmHWM does not."""
    import numpy as np

    from bench.memory import run_child

    big = np.ones(700 * 2 ** 20, np.uint8)  # the parent touches 700 MB
    small = run_child('import json\nprint(json.dumps({"mb": peak_rss_mb()}))')["mb"]
    big[::4096] = 2
    grown = run_child('import json\nx = bytearray(300 * 2 ** 20)\nprint(json.dumps({"mb": peak_rss_mb()}))')["mb"]
    assert small < 200, small  # a bare interpreter, not the parent's 700 MB
    assert grown > small + 250  # and it does see the child's own allocations
    del big


def test_ground_truth_regions_become_polygons_and_single_regions_are_cut():
    import numpy as np

    from bench.grouped import region_polygon_ids

    lab = np.zeros((6, 8), np.int32)
    lab[0:2, 0:2] = 1
    lab[4:6, 5:8] = 1  # class 1: two regions
    lab[2:4, 0:8] = 2  # class 2: one region, cut in two along its longer (column) axis
    ids = region_polygon_ids(lab)
    assert len(np.unique(ids[lab == 1])) == 2 and len(np.unique(ids[lab == 2])) == 2
    assert (ids[lab == 0] == 0).all() and not set(np.unique(ids[lab == 1])) & set(np.unique(ids[lab == 2]))
    left, right = ids[2, 0], ids[2, 7]
    assert left != right and (ids[2:4, :4] == left).all() and (ids[2:4, 4:] == right).all()


def test_the_generated_sensor_scene_has_the_enmap_layout(tmp_path):
    """bench/sensor_scene.py's scene is read as an analyst's EnMAP L2A file would be: 224 bands, the 6 flagged bad
    bands dropped by default, the reflectance scale applied, 5,670 labelled pixels in 6 classes."""
    import numpy as np

    from bench.sensor_scene import BAD, make_scene
    from hypersnn.core.data.bands import select_bands
    from hypersnn.core.config.schema import BandSelection
    from hypersnn.workflows.rasterio_reader import open_raster

    raster, labels, n = make_scene(tmp_path)
    with open_raster(raster) as r:
        info = r.info
        assert info.count == 224 and [i for i, b in enumerate(info.bad_bands) if b] == BAD
        assert len(select_bands(info, BandSelection())) == 218
        px = r.read((50, 50, 1, 1), [0, 60])[0, 0]
    assert 0 <= px.min() and px.max() <= 1.0  # reflectance, after the 1e-4 scale
    with open_raster(labels) as r:
        lab = r.read()[:, :, 0]
    assert n == 5670 and sorted(np.unique(lab).tolist()) == [0, 1, 2, 3, 4, 5, 6]


def test_grouped_screen_table_averages_each_setting_over_its_seeds():
    from bench.grouped_screen import screen_lines

    def row(seed, val, snn, sets=()):
        return {"split": "polygons", "patch": 11, "seed": seed, "set": list(sets), "val_oa": val, "snn_oa": snn,
                "cnn_oa": 0.5, "svm_oa": 0.45}

    rows = [row(0, 0.80, 0.40), row(1, 0.70, 0.50), row(0, 0.90, 0.41, ["train.mixup=0.4"]),
            row(1, 0.86, 0.43, ["train.mixup=0.4"])]
    lines = screen_lines(rows)
    base = next(l for l in lines if "| defaults |" in l)
    mix = next(l for l in lines if "train.mixup=0.4 |" in l)
    assert "| 0, 1 | 75.00 +/- 7.07 | 45.00 +/- 7.07 |" in base
    assert "| 88.00 +/- 2.83 | 42.00 +/- 1.41 |" in mix and mix.endswith("| -3.00 +/- 1.41 |")
    assert lines[-2].endswith("defaults 75.00; train.mixup=0.4 88.00.")  # the rule's seeds 0-1 means


def test_disjoint_table_groups_rows_by_section_and_settings_and_names_the_published_figures():
    """bench/disjoint.py's markdown: mean +/- sample std per section and settings, the published figures only beside
    the standard split's default rows (quoted, labelled as such), the engine's time without the baselines."""
    from bench.disjoint import engine_seconds, markdown

    def row(seed, oa, svm):
        return {"seed": seed, "rc": 0, "seconds": 100.0 + seed, "peak_rss_mb": 900.0, "commit": "abc",
                "stage_seconds": {"prepare": 1.0, "cnn": 10.0, "convert": 2.0, "snn": 30.0, "assess": 1.0},
                "snn": {"oa": oa, "aa": oa, "kappa": oa, "n_test": 10}, "cnn": None,
                "svm": {"oa": svm}, "rf": {"oa": svm - 0.01}, "validation_check": {"fallback": "fixed epochs"}}

    data = {"commit": "abc", "sections": {"standard": [row(0, 0.90, 0.72), row(1, 0.92, 0.72)],
                                          "standard | train.distillation=0.5": [row(0, 0.80, 0.72)]}}
    text = markdown(data)
    assert "| SNN (T=5, 6-bit) | 91.00 +/- 1.41 |" in text and "| RBF SVM (grouped-CV tuned) | 72.00 +/- 0.00 |" in text
    assert text.count("(published, not re-measured)") == 6  # once: under the default rows only
    assert "with train.distillation=0.5" in text and "| SNN (T=5, 6-bit) | 80.00 |" in text
    assert engine_seconds(row(0, 0.9, 0.7)["stage_seconds"]) == 44.0 and "Training time per run: 44 s" in text


def test_region_polygons_hold_every_ground_truth_region_with_its_class(tmp_path):
    """The polygon-grouped Indian Pines section gives `hypersnn train` the ground truth's regions as a polygon layer,
    as an analyst would: rasterised back on the sample's grid, the layer is the ground truth."""
    import fiona
    import numpy as np
    import rasterio
    from rasterio.features import rasterize

    from bench.disjoint import region_polygons

    path = region_polygons(tmp_path)
    with rasterio.open(ROOT / "resources" / "indian_pines" / "indian_pines_gt.tif") as src:
        gt, transform = src.read(1), src.transform
    with fiona.open(path) as layer:
        shapes = [(f["geometry"], f["properties"]["class"]) for f in layer]
    back = rasterize(shapes, out_shape=gt.shape, transform=transform, fill=0, dtype="uint8")
    assert len(shapes) > 2 * len(np.unique(gt[gt > 0])) and np.array_equal(back, gt)


def test_disjoint_readme_block_compares_the_snn_with_the_strongest_baseline_and_each_option_with_the_defaults():
    from bench.disjoint import readme_lines

    def row(seed, oa, svm, rf):
        return {"seed": seed, "rc": 0, "seconds": 80.0, "peak_rss_mb": 700.0, "commit": "abc", "engine_seconds": 60.0,
                "snn": {"oa": oa}, "cnn": {"oa": oa - 0.01}, "svm": {"oa": svm}, "rf": {"oa": rf}}

    data = {"machine": json.dumps({"cpu": "test cpu"}),
            "sections": {"standard": [row(0, 0.90, 0.72, 0.70), row(1, 0.88, 0.72, 0.69)],
                         "potsdam": [row(0, 0.55, 0.57, 0.60)],
                         "standard | model.patch_size=11": [row(0, 0.92, 0.72, 0.70), row(1, 0.91, 0.72, 0.69)],
                         "time": [dict(row(0, 0.5, 0, 0), seconds=87.0)]}}
    text = "\n".join(readme_lines(data))
    assert "| 0, 1 | 89.00 +/- 1.41 | 88.00 +/- 1.41 | 72.00 +/- 0.00 | 69.50 +/- 0.71 | +17.00 +/- 1.41 | 60 | 700 |" in text
    assert "| EnMAP Potsdam west, defaults: map production, 3-fold grouped CV | 0 | 55.00 |" in text and "| -5.00 |" in text
    assert "| 11 x 11 patches | 0, 1 | 91.50 +/- 0.71 | +2.50 +/- 0.71 |" in text
    assert "whole process: 87 s mean" in text and "SpectralFormer 81.76" in text
