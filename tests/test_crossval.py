"""Map production (split 'cv'): the final model trains on every label; grouped k-fold cross-validation over
spatial clusters gives the accuracy, with the leakage guard between folds."""
import json

import numpy as np
import pytest

from hypersnn.core.config.schema import SplitConfig
from hypersnn.core.data.splits import make_split


def _tiling(h=48, w=72, cell=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    r, c = np.indices((h, w))
    pid = (r // cell) * (w // cell + 1) + c // cell + 1
    return rng.integers(1, k + 1, pid.max() + 1)[pid].astype(np.int64), pid.astype(np.int64)


def test_cv_trains_on_every_label_and_scores_each_fold_away_from_the_others():
    lab, pid = _tiling()
    s = make_split(lab, SplitConfig(method="cv", folds=3, seed=1), polygon_ids=pid, patch_size=5)
    p = s.protocol
    assert s.train.all() and not s.val.any() and not s.test.any()  # the map model sees every label
    assert p["method"] == "cv" and p["folds"] == 3 and "Map production" in p["description"]
    assert set(np.unique(s.folds)) == {1, 2, 3}
    for f, scored in enumerate(s.scored, 1):
        assert scored.any() and (s.folds[scored] == f).all()
        others = np.argwhere((s.folds > 0) & (s.folds != f))
        for rr, cc in np.argwhere(scored)[::7]:  # no scored pixel lies inside another fold's training patch
            assert np.abs(others - (rr, cc)).max(axis=1).min() > 2
        for q in np.unique(pid):  # polygons stay whole within a fold
            assert np.unique(s.folds[pid == q]).size == 1
    assert p["totals"]["test"] == sum(int(m.sum()) for m in s.scored) == lab.size - p["cv_dropped_for_leakage"]
    assert p["validation_check"]["fallback"].startswith("fixed epochs")
    again = make_split(lab, SplitConfig(method="cv", folds=3, seed=1), polygon_ids=pid, patch_size=5)
    np.testing.assert_array_equal(again.folds, s.folds)  # the seed fixes the folds


def test_cv_needs_two_clusters():
    from hypersnn.core.errors import SplitError

    lab = np.ones((6, 6), np.int64)
    lab[:, 3:] = 2
    pid = np.ones((6, 6), np.int64)
    with pytest.raises(SplitError, match="at least 2 spatial clusters"):
        make_split(lab, SplitConfig(method="cv"), polygon_ids=pid, patch_size=5)


def test_cli_cv_reports_the_pooled_fold_accuracy_and_baselines_on_the_same_folds(tmp_path, geotiff, label_geotiff,
                                                                               capsys):
    from tiny import tiny_config

    from hypersnn.cli import main
    from hypersnn.core.models.torch_model import HyperSNNModel

    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(tiny_config().to_dict()))
    model = tmp_path / "m.hsnn"
    assert main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--out", str(model), "--config",
                 str(cfg), "--split", "cv", "--folds", "2", "--baseline", "svm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rep = out["report"]
    proto = rep["split_protocol"]
    assert proto["method"] == "cv" and len(proto["cv_folds"]) == proto["folds"] == 2
    assert rep["accuracy"]["n_test"] == sum(f["scored"] for f in proto["cv_folds"]) == proto["totals"]["test"]
    assert any("cross-validated" in n for n in rep["accuracy"]["notes"])
    assert rep["timing"]["cross_validation"] > 0
    svm = rep["comparison"]["baselines"][0]
    assert "2-fold cross-validation (split cv)" in rep["comparison"]["basis"]
    assert f"same {rep['accuracy']['n_test']} test pixels" in svm["verdict"]
    m = HyperSNNModel.load(model)
    assert int(np.unpackbits(m.train_mask).sum()) == proto["totals"]["train"]  # the map model trained on every label


def test_cli_says_an_untrustworthy_result_even_when_quiet(tmp_path, geotiff, label_geotiff, capsys):
    """The tiny scene's validation set is below the minimum: the run falls back to fixed epochs and the CLI says
    so on stderr even with --quiet, and the last line of its output says the result cannot be trusted."""
    from tiny import tiny_config

    from hypersnn.cli import main

    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(tiny_config().to_dict()))
    assert main(["train", "--raster", str(geotiff), "--labels", str(label_geotiff), "--out", str(tmp_path / "m.hsnn"),
                 "--config", str(cfg), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "WARNING: Validation too small to decide" in err
    assert out.strip().splitlines()[-1].endswith("this result cannot be trusted as it stands")


def test_folds_keep_neighbouring_clusters_together_without_losing_balance_or_a_class(monkeypatch):
    """A 4 x 4 grid of touching clusters, one class in the top half, another in the bottom: balancing classes alone
    scatters neighbours over the folds and the guard drops a seam between most of them; the seam-aware assignment
    drops about half as many pixels, leaves no fold empty and keeps each class in at least two folds."""
    from hypersnn.core.training import crossval

    clusters = np.zeros((40, 40), np.int64)
    labels = np.zeros((40, 40), np.int64)
    for i in range(4):
        for j in range(4):
            clusters[10 * i:10 * i + 10, 10 * j:10 * j + 10] = 4 * i + j + 1
            labels[10 * i:10 * i + 10, 10 * j:10 * j + 10] = 1 + (i >= 2)
    seams = crossval.seam_lengths(clusters, 2)
    assert seams[1, 2] == seams[2, 1] > 0 and seams[1, 3] == 0  # only touching clusters share a seam

    def dropped(fold_of):
        fold = fold_of[clusters]
        return sum(int(((fold == f) & crossval.seam_drops(clusters, np.r_[False, fold_of[1:] != f], 2)).sum())
                   for f in (1, 2, 3))

    out = {}
    for tol in (0.0, crossval.SEAM_TOLERANCE):
        monkeypatch.setattr(crossval, "SEAM_TOLERANCE", tol)
        fold_of = crossval.assign_folds(labels, clusters, [1, 2], 3, np.random.default_rng(0), radius=2)
        assert set(fold_of[1:]) == {1, 2, 3}
        for c in (1, 2):
            assert np.unique(fold_of[np.unique(clusters[labels == c])]).size >= 2
        out[tol] = dropped(fold_of)
    assert out[crossval.SEAM_TOLERANCE] < 0.6 * out[0.0]
