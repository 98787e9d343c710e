"""Baselines beside the SNN: choices made by grouped cross-validation, the paired test, and the verdict in the report."""
import json

import numpy as np
import pytest

from hypersnn.core.training.baselines import SVM_C, fit_baseline, grouped_folds, mcnemar, verdict
from hypersnn.core.errors import InputError
from hypersnn.core.assess.metrics import Assessment


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 5)) + 3.0 * np.eye(3, 5)[y]
    return x, y


def _fields(n_fields, per_field, seed, shift=0.0):
    """Spectra of fields (spatial groups): each field's pixels share a field-level offset, as real fields do."""
    rng = np.random.default_rng(seed)
    ys, xs, gs = [], [], []
    for g in range(n_fields):
        c = g % 3
        offset = rng.normal(scale=0.8, size=5) + shift
        ys.append(np.full(per_field, c))
        xs.append(rng.normal(size=(per_field, 5)) + 3.0 * np.eye(3, 5)[c] + offset)
        gs.append(np.full(per_field, g))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def test_baselines_choose_settings_and_features_by_grouped_cross_validation():
    x, y, g = _fields(12, 25, 0)
    noisy = np.concatenate([x, np.random.default_rng(1).normal(scale=5.0, size=(len(x), 20))], 1)
    model, fname, params, cv_oa, fit_s = fit_baseline("svm", {"clean": x, "noisy": noisy}, y, g)
    assert params["C"] in SVM_C and fit_s > 0 and fname == "clean" and params["features"] == "clean"
    assert params["chosen_on"].startswith("grouped 5-fold cross-validation") and "12 spatial groups" in params["chosen_on"]
    assert "5 draws of folds" in params["chosen_on"]  # 300 pixels: the folds are drawn again to steady the ranking
    assert params["cv_oa_per_features"]["clean"] == pytest.approx(cv_oa)
    assert cv_oa > params["cv_oa_per_features"]["noisy"]
    xt, yt, _ = _fields(6, 25, 2)
    assert (model.predict(xt) == yt).mean() > 0.85
    rf, fname, params, cv_oa, _ = fit_baseline("rf", {"clean": x}, y, g, seed=3)
    assert params["n_estimators"] == 200 and cv_oa > 0.6
    again, *_ = fit_baseline("rf", {"clean": x}, y, g, seed=3)
    np.testing.assert_array_equal(rf.predict(xt), again.predict(xt))  # the seed fixes the forest
    with pytest.raises(InputError, match="Unknown baseline 'knn'"):
        fit_baseline("knn", {"clean": x}, y, g)


def test_grouped_folds_never_score_a_group_they_fitted_on_and_say_when_they_cannot():
    _, y, g = _fields(9, 10, 0)
    folds, how = grouped_folds(y, g, 3, seed=0)
    for a, b in folds:
        assert not set(g[a]) & set(g[b])
    assert how.startswith("grouped 3-fold")
    folds, how = grouped_folds(y, np.zeros(len(y), int), 3, seed=0)  # one group: pixel folds, said to be optimistic
    assert "pixel cross-validation" in how and "optimistic" in how and len(folds) == 3


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
    from hypersnn.core.models.torch_model import HyperSNNModel

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
    assert "cross-validation on the training side" in comp["baselines"][0]["params"]["chosen_on"]
    assert comp["strongest"] in ("RBF SVM", "random forest") and comp["verdict"] in [b["verdict"] for b in comp["baselines"]]
    assert "SNN against baselines" in (tmp_path / "rep" / "m_report.html").read_text()
    meta = HyperSNNModel.load(model).meta["metrics"]["baselines"]
    assert [b["verdict"] for b in meta] == [b["verdict"] for b in comp["baselines"]]
