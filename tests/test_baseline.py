"""Baselines beside the SNN: choices made on validation pixels, the paired test, and the verdict in the report."""
import json

import numpy as np
import pytest

from hypersnn.core.baseline import SVM_C, fit_baseline, mcnemar, verdict
from hypersnn.core.errors import InputError
from hypersnn.core.metrics import Assessment


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 5)) + 3.0 * np.eye(3, 5)[y]
    return x, y


def test_svm_chooses_on_validation_and_classifies_separable_spectra():
    x, y = _blobs(300, 0)
    xv, yv = _blobs(100, 1)
    model, params, val_oa, fit_s = fit_baseline("svm", x, y, xv, yv)
    assert params["C"] in SVM_C and params["chosen_on"] == "validation pixels" and fit_s > 0
    assert val_oa == pytest.approx((model.predict(xv) == yv).mean()) and val_oa > 0.85
    # without validation pixels nothing is chosen: the fixed default, and no validation score
    _, params, val_oa, _ = fit_baseline("svm", x, y, xv[:0], yv[:0])
    assert val_oa is None and params["C"] == 100.0 and params["gamma_vs_scale"] == 1.0
    rf, params, val_oa, _ = fit_baseline("rf", x, y, xv, yv, seed=3)
    assert params["n_estimators"] == 200 and val_oa > 0.85
    again, *_ = fit_baseline("rf", x, y, xv, yv, seed=3)
    np.testing.assert_array_equal(rf.predict(xv), again.predict(xv))  # the seed fixes the forest
    with pytest.raises(InputError, match="Unknown baseline 'knn'"):
        fit_baseline("knn", x, y, xv, yv)


def test_mcnemar_counts_and_p_value():
    y = np.zeros(100, int)
    a = np.zeros(100, int)
    b = np.zeros(100, int)
    a[:5] = 1   # a wrong on 5
    b[5:30] = 1  # b wrong on 25 others: a_only 25, b_only 5
    r = mcnemar(y, a, b)
    assert (r["a_only"], r["b_only"]) == (25, 5)
    assert r["chi2"] == pytest.approx((20 - 1) ** 2 / 30)
    assert r["p_value"] == pytest.approx(5.2258e-4, rel=1e-4)  # scipy.stats.chi2.sf(361 / 30, 1)
    assert mcnemar(y, a, a)["p_value"] == 1.0


def test_verdict_says_plainly_when_the_snn_loses():
    snn = Assessment.from_confusion(np.array([[40, 10], [10, 40]]))
    base = Assessment.from_confusion(np.array([[45, 5], [5, 45]]))
    text = verdict(snn, base, "RBF SVM", {"p_value": 0.01})
    assert text.startswith("The SNN loses to the RBF SVM: OA 80.00 % vs 90.00 %") and text.endswith("p = 0.01).")
    assert "not significant" in verdict(snn, base, "RBF SVM", {"p_value": 0.2})
    assert verdict(base, snn, "random forest", {"p_value": 0.01}).startswith("The SNN beats the random forest")


def test_cli_train_with_a_baseline_reports_both_on_the_same_pixels(tmp_path, geotiff, label_geotiff, capsys):
    from tiny import tiny_config

    from hypersnn.cli import main
    from hypersnn.core.model import HyperSNNModel

    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(tiny_config().to_dict()))
    model = tmp_path / "m.hsnn"
    assert main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--out", str(model),
                 "--config", str(cfg), "--baseline", "both", "--report-dir", str(tmp_path / "rep"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    comp = out["report"]["comparison"]
    snn, cnn, svm, rf = comp["rows"]
    assert (svm["model"], rf["model"]) == ("RBF SVM", "Random forest") and rf["test_pixels_per_s"] > 0
    assert snn["oa"] == pytest.approx(out["report"]["accuracy"]["oa"])
    n_test = out["report"]["accuracy"]["n_test"]
    for row, b in zip((svm, rf), comp["baselines"]):
        mc = b["mcnemar_snn_vs_baseline"]
        # the paired counts are consistent with both accuracies on the same n test pixels
        assert round((snn["oa"] - row["oa"]) * n_test) == mc["a_only"] - mc["b_only"] and b["oa"] == row["oa"]
        assert b["verdict"].startswith("The SNN ") and f"same {n_test} test pixels" in b["verdict"]
    assert comp["baselines"][0]["params"]["chosen_on"] == "validation pixels"
    assert "SNN against baselines" in (tmp_path / "rep" / "m_report.html").read_text()
    meta = HyperSNNModel.load(model).meta["metrics"]["baselines"]
    assert [b["verdict"] for b in meta] == [b["verdict"] for b in comp["baselines"]]
