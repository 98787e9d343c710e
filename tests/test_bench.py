"""`make bench --quick` runs every benchmark section end to end, so the bench cannot rot."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_bench_runs_every_section_and_writes_the_table(tmp_path):
    sys.path.insert(0, str(ROOT))
    from bench.run import main

    out, md = tmp_path / "results.json", tmp_path / "results.md"
    assert main(["--quick", "--out", str(out), "--md", str(md)]) == 0
    data = json.loads(out.read_text())
    s = data["sections"]
    for section in ("protocol", "paper_table", "front", "sweeps", "baselines", "spatial", "speed", "memory"):
        assert section in s, section
    front = s["front"]
    assert [r["default"] for r in front] == [True] + [False] * (len(front) - 1)
    assert front[1]["spike_penalty"] > 0 and front[1]["snn"]["oa"] > 0
    models = {r["label"] for r in s["paper_table"]}
    assert any("FP" in m for m in models) and any("6" in m for m in models)
    row = s["paper_table"][0]
    assert set(row["energy"]) == {"horowitz45", "horowitz45_int"}  # two published tables
    assert row["snn"]["oa"] > 0 and row["cnn"]["oa"] > 0
    assert s["speed"]["class_agreement"] == 1.0  # fully convolutional == patch by patch
    assert s["speed"]["speedup"] > 1
    assert all(m["rc"] == 0 and m["peak_rss_mb"] > 0 for m in s["memory"])
    text = md.read_text()
    assert "| OA % |" in text and "Spatially disjoint" in text and "speed-up" in text
    assert "Accuracy-energy front" in text and "**default**" in text

    from bench.report import readme_summary
    block = readme_summary(data)
    assert "Hyper-SNN paper (target) | 98.68" in block and "HyperSNN hybrid SNN, seed 0" in block
    assert "peak RSS" in block and "target < 2048 MB" in block


def test_child_peak_memory_is_the_childs_not_the_forking_parents():
    """ru_maxrss of a child carries its parent's high-water mark across exec (Linux), so the bench's memory
    rows once reported the bench's own size; VmHWM does not."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from bench.memory import run_child

    big = np.ones(700 * 2 ** 20, np.uint8)  # the parent touches 700 MB
    small = run_child('import json\nprint(json.dumps({"mb": peak_rss_mb()}))')["mb"]
    big[::4096] = 2
    grown = run_child('import json\nx = bytearray(300 * 2 ** 20)\nprint(json.dumps({"mb": peak_rss_mb()}))')["mb"]
    assert small < 200, small  # a bare interpreter, not the parent's 700 MB
    assert grown > small + 250  # and it does see the child's own allocations
    del big
