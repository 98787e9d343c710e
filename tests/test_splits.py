import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypersnn.core.config.schema import SplitConfig
from hypersnn.core.errors import HyperSNNError, SplitError
from hypersnn.core.data.splits import Split, check_disjoint, make_split


def _labels(h=40, w=50, k=4, seed=0, p0=0.3):
    rng = np.random.default_rng(seed)
    a = rng.integers(1, k + 1, (h, w)).astype(np.int32)
    a[rng.random((h, w)) < p0] = 0
    return a


def _assert_valid(split, labels):
    check_disjoint(split)
    used = split.train | split.val | split.test
    assert not (used & (labels == 0)).any(), "unlabelled pixel in a set"
    json.dumps(split.protocol)  # report-ready
    for row in split.protocol["per_class"]:
        m = labels == row["class"]
        assert row["train"] == int((m & split.train).sum())
        assert row["val"] == int((m & split.val).sum())
        assert row["test"] == int((m & split.test).sum())


def test_random_is_stratified_and_complete(monkeypatch):
    import hypersnn.core.data.splits as splits

    monkeypatch.setattr(splits, "MIN_VAL_PIXELS", 1)  # how validation is taken, not whether it can decide
    lab = _labels()
    s = make_split(lab, SplitConfig(method="random", train_fraction=0.25, val_fraction=0.2, seed=3))
    _assert_valid(s, lab)
    assert ((s.train | s.val | s.test) == (lab > 0)).all()
    for row in s.protocol["per_class"]:
        n = row["labelled"]
        side = row["train"] + row["val"]
        assert side == math.floor(n * 0.25 + 0.5)
        assert row["val"] == math.floor(side * 0.2 + 0.5)
        assert row["test"] == n - side
    assert s.protocol["method"] == "random" and s.protocol["seed"] == 3


def test_random_small_classes_get_train_and_test():
    lab = np.zeros((5, 5), np.int32)
    lab[0, :2] = 1  # 2 pixels
    lab[1, :3] = 2
    lab[2:, :] = 3
    s = make_split(lab, SplitConfig(method="random", train_fraction=0.01, val_fraction=0.0))
    for c in (1, 2, 3):
        assert (s.train & (lab == c)).sum() >= 1
        assert (s.test & (lab == c)).sum() >= 1


def test_single_pixel_class_is_refused_with_its_value_and_count():
    lab = np.zeros((6, 6), np.int32)
    lab[:3] = 1
    lab[5, 5] = 7
    with pytest.raises(SplitError, match=r"Class 7 has 1 labelled pixel.*at least 2"):
        make_split(lab, SplitConfig(method="random"))


def test_one_class_is_refused():
    lab = np.ones((4, 4), np.int32)
    with pytest.raises(SplitError, match="at least 2 classes"):
        make_split(lab, SplitConfig())
    with pytest.raises(SplitError, match="no labelled pixels"):
        make_split(np.zeros((4, 4), np.int32), SplitConfig())


def test_seed_reproducible_and_seed_matters():
    lab = _labels()
    for method in ("random", "count", "blocks"):
        cfg = SplitConfig(method=method, seed=5, block_size=8, train_count=20)
        a, b = make_split(lab, cfg), make_split(lab, cfg)
        assert (a.train == b.train).all() and (a.val == b.val).all() and (a.test == b.test).all()
    a = make_split(lab, SplitConfig(method="random", seed=1))
    b = make_split(lab, SplitConfig(method="random", seed=2))
    assert not (a.train == b.train).all()
    a, b = (make_split(lab, SplitConfig(seed=1), patch_size=5) for _ in range(2))  # the default, cv
    assert (a.train == b.train).all() and (a.folds == b.folds).all() and a.protocol["method"] == "cv"


def test_count_method_and_small_class_warning():
    lab = _labels(k=3)
    lab[lab == 3] = 0
    lab[0, :6] = 3  # 6 pixels of class 3
    s = make_split(lab, SplitConfig(method="count", train_count=10, val_fraction=0.0))
    _assert_valid(s, lab)
    rows = {r["class"]: r for r in s.protocol["per_class"]}
    assert rows[1]["train"] == 10 and rows[2]["train"] == 10
    assert rows[3]["train"] == 3 and rows[3]["test"] == 3
    assert any("train_count" in w and "3 (6 px" in w for w in s.protocol["warnings"])


def test_blocks_are_spatially_disjoint():
    lab = _labels(64, 64, k=3, p0=0.0)
    bs = 8
    s = make_split(lab, SplitConfig(method="blocks", block_size=bs, train_fraction=0.3, val_fraction=0.1))
    _assert_valid(s, lab)
    side = s.train | s.val
    for r in range(0, 64, bs):
        for c in range(0, 64, bs):
            blk_train = side[r:r + bs, c:c + bs].any()
            blk_test = s.test[r:r + bs, c:c + bs].any()
            assert not (blk_train and blk_test), f"block {r},{c} on both sides"
    for row in s.protocol["per_class"]:
        assert 0.15 < row["train_share"] < 0.45
    assert s.protocol["block_size"] == bs


def test_leakage_guard_drops_test_pixels_near_train():
    lab = _labels(64, 64, k=3, p0=0.0)
    cfg = SplitConfig(method="blocks", block_size=8, train_fraction=0.3, val_fraction=0.0, seed=1)
    plain = make_split(lab, cfg)
    guarded = make_split(lab, cfg, patch_size=5)
    assert (plain.train == guarded.train).all()
    dropped = plain.test & ~guarded.test
    assert guarded.protocol["dropped_for_leakage"] == int(dropped.sum()) > 0
    assert not (guarded.test & ~plain.test).any()
    tr = np.argwhere(plain.train)
    for r, c in np.argwhere(guarded.test):  # every kept test pixel is > 2 away (Chebyshev) from train
        assert np.abs(tr - (r, c)).max(axis=1).min() > 2
    for r, c in np.argwhere(dropped):
        assert np.abs(tr - (r, c)).max(axis=1).min() <= 2


def test_leakage_guard_not_applied_to_random_but_stated():
    lab = _labels()
    s = make_split(lab, SplitConfig(method="random"), patch_size=11)
    assert s.protocol["dropped_for_leakage"] == 0
    assert any("not applied" in n for n in s.protocol["notes"])


def test_polygons_keep_whole_polygons_together():
    lab = np.zeros((40, 40), np.int32)
    pid = np.zeros((40, 40), np.int32)
    n = 0
    for i in range(4):
        for j in range(4):
            n += 1
            r, c = 10 * i, 10 * j
            pid[r + 1:r + 8, c + 1:c + 8] = n
            lab[r + 1:r + 8, c + 1:c + 8] = 1 + (i + j) % 2
    s = make_split(lab, SplitConfig(method="polygons", train_fraction=0.5, val_fraction=0.0), polygon_ids=pid)
    _assert_valid(s, lab)
    for p in range(1, n + 1):
        m = pid == p
        assert s.train[m].all() or s.test[m].all()
    for row in s.protocol["per_class"]:
        assert row["train"] > 0 and row["test"] > 0
    assert s.protocol["polygons_train"] + s.protocol["polygons_test"] == 16


def _polygon_grid(n_side=6, size=10, inner=7):
    lab = np.zeros((n_side * size, n_side * size), np.int32)
    pid = np.zeros_like(lab)
    n = 0
    for i in range(n_side):
        for j in range(n_side):
            n += 1
            r, c = size * i, size * j
            pid[r + 1:r + 1 + inner, c + 1:c + 1 + inner] = n
            lab[r + 1:r + 1 + inner, c + 1:c + 1 + inner] = 1 + (i + j) % 3
    return lab, pid


def test_polygon_split_validates_on_whole_polygons_it_did_not_train_on():
    """Validation pixels drawn from training polygons read ~100 % (near-copies of training pixels), so they
    cannot steer early stopping: validation takes whole training-side polygons instead."""
    lab, pid = _polygon_grid()
    s = make_split(lab, SplitConfig(method="polygons", train_fraction=0.6, val_fraction=0.25, seed=3),
                   polygon_ids=pid, patch_size=3)
    _assert_valid(s, lab)
    for p in range(1, pid.max() + 1):
        m = pid == p
        assert sum(bool(x[m].any()) for x in (s.train, s.val, s.test)) == 1, f"polygon {p} split across sets"
    for row in s.protocol["per_class"]:
        assert row["train"] > 0 and row["val"] > 0 and row["test"] > 0
    v = s.protocol["validation"]
    assert v["method"] == "whole polygon clusters" and v["units"] >= 3 and v["pixels"] == int(s.val.sum())
    assert "whole polygon clusters" in s.protocol["description"] and not v["pixel_level_classes"]


def test_block_split_validation_is_whole_blocks_with_the_leakage_guard():
    lab = _labels(64, 64, k=3, p0=0.0)
    s = make_split(lab, SplitConfig(method="blocks", block_size=8, train_fraction=0.5, val_fraction=0.2, seed=2),
                   patch_size=5)
    _assert_valid(s, lab)
    assert s.protocol["validation"]["method"] == "whole blocks" and s.val.any()
    tr = np.argwhere(s.train)
    for r, c in np.argwhere(s.val):  # no validation pixel lies inside a training patch
        assert np.abs(tr - (r, c)).max(axis=1).min() > 2
    blocks = (np.indices(lab.shape)[0] // 8) * 8 + np.indices(lab.shape)[1] // 8
    for b in np.unique(blocks[s.val]):
        assert not s.train[blocks == b].any(), f"block {b} has both training and validation pixels"


def test_a_class_with_one_training_polygon_keeps_it_and_is_validated_inside_it(monkeypatch):
    import hypersnn.core.data.splits as splits

    monkeypatch.setattr(splits, "MIN_VAL_PIXELS", 1)  # how validation is taken, not whether it can decide
    monkeypatch.setattr(splits, "MIN_VAL_UNITS", 1)
    lab, pid = _polygon_grid(n_side=4)
    lab[pid == 1] = 4  # class 4: polygons 1 and 16, one per side
    lab[pid == 16] = 4
    s = make_split(lab, SplitConfig(method="polygons", train_fraction=0.5, val_fraction=0.2, seed=0),
                   polygon_ids=pid)
    _assert_valid(s, lab)
    four = [row for row in s.protocol["per_class"] if row["class"] == 4][0]
    assert four["train"] > 0 and four["val"] > 0
    assert s.protocol["validation"]["pixel_level_classes"] == [4]
    assert "single training polygon" in s.protocol["validation"]["text"]


def test_auto_splits_polygon_data_by_polygon_and_says_when_it_cannot():
    """The default: polygon labels with 2+ polygons per class are split by whole polygons (the way map producers
    validate); a raster, or a class drawn in a single polygon, falls back to a random split, with a warning in
    the latter case."""
    lab = np.zeros((40, 40), np.int32)
    pid = np.zeros((40, 40), np.int32)
    for n, (i, j) in enumerate(((i, j) for i in range(4) for j in range(4)), start=1):
        pid[10 * i + 1:10 * i + 8, 10 * j + 1:10 * j + 8] = n
        lab[10 * i + 1:10 * i + 8, 10 * j + 1:10 * j + 8] = 1 + (i + j) % 2
    assert SplitConfig().method == "cv"  # map production is the default; 'auto' is the hold-out that adapts
    s = make_split(lab, SplitConfig(method="auto", val_fraction=0.0), polygon_ids=pid, patch_size=3)
    _assert_valid(s, lab)
    assert s.protocol["method"] == "polygons" and s.protocol["requested"] == "auto"
    assert all(s.train[pid == p].all() or not s.train[pid == p].any() for p in range(1, 17))
    assert s.protocol["dropped_for_leakage"] >= 0 and "Polygon split" in s.protocol["description"]
    r = make_split(lab, SplitConfig(method="auto", val_fraction=0.0))  # no polygon ids: a label raster
    assert r.protocol["method"] == "random"  # and says so: never a silent change of method (issue 20)
    assert any(x.startswith("Split 'auto': the labels have no polygons") for x in r.protocol["warnings"])
    one = pid.copy()
    one[lab == 1] = 99  # every class-1 pixel in one polygon
    w = make_split(lab, SplitConfig(method="auto", val_fraction=0.0), polygon_ids=one,
                   class_names={1: "corn", 2: "soy"})
    assert w.protocol["method"] == "random"
    assert any("class(es) 1 (corn) in 1 polygon(s), fewer than 2" in x for x in w.protocol["warnings"])


def test_polygons_need_ids_and_two_per_class():
    lab = np.zeros((10, 10), np.int32)
    lab[:5] = 1
    lab[5:] = 2
    with pytest.raises(SplitError, match="needs polygon ids"):
        make_split(lab, SplitConfig(method="polygons"))
    pid = np.where(lab == 1, 1, 0).astype(np.int32)
    pid[5:, :5] = 2
    pid[5:, 5:] = 3
    with pytest.raises(SplitError, match=r"Class 1 is drawn in 1 polygon"):
        make_split(lab, SplitConfig(method="polygons"), polygon_ids=pid)
    with pytest.raises(SplitError, match="polygon_ids has shape"):
        make_split(lab, SplitConfig(method="polygons"), polygon_ids=pid[:5])


def test_given_map():
    lab = _labels(10, 10, k=2, p0=0.0)
    g = np.zeros((10, 10), np.uint8)
    g[:5] = 1
    g[5:8] = 2
    s = make_split(lab, SplitConfig(method="given", val_fraction=0.2), given_map=g)
    _assert_valid(s, lab)
    assert ((s.train | s.val) == (g == 1)).all() and (s.test == (g == 2)).all()
    with pytest.raises(SplitError, match="has shape"):
        make_split(lab, SplitConfig(method="given"), given_map=g[:, :5])
    with pytest.raises(SplitError, match=r"value\(s\) \[3\]"):
        make_split(lab, SplitConfig(method="given"), given_map=np.where(g == 2, 3, g))
    with pytest.raises(SplitError, match="as test"):
        make_split(lab, SplitConfig(method="given"), given_map=np.where(g == 2, 0, g))
    with pytest.raises(SplitError, match="needs a split map"):
        make_split(lab, SplitConfig(method="given"))


def test_valid_mask_removes_invalid_pixels_everywhere():
    lab = _labels(30, 30)
    valid = np.ones((30, 30), bool)
    valid[:, :10] = False
    s = make_split(lab, SplitConfig(method="random", train_fraction=0.5), valid_mask=valid)
    assert not ((s.train | s.val | s.test) & ~valid).any()
    assert s.protocol["excluded_invalid"] == int(((lab > 0) & ~valid).sum())
    with pytest.raises(SplitError, match="valid_mask has shape"):
        make_split(lab, SplitConfig(), valid_mask=valid[:5])


def test_bad_config_names_the_field():
    lab = _labels()
    with pytest.raises(SplitError, match=r"split.method \(--split\) must be one of"):
        make_split(lab, SplitConfig(method="stripes"))
    with pytest.raises(SplitError, match=r"split.train_fraction \(--train-fraction\) must be 0.001..0.999"):
        make_split(lab, SplitConfig(method="random", train_fraction=1.0))
    with pytest.raises(SplitError, match=r"split.block_size \(--block-size\) must be >= 1"):
        make_split(lab, SplitConfig(method="blocks", block_size=0))
    # the registry's bounds, the ones RunConfig.validate applies (they once differed: [0, 1) here, 0..0.9 there)
    with pytest.raises(SplitError, match=r"split.val_fraction \(--val-fraction\) must be 0.0..0.9, got 0.95"):
        make_split(lab, SplitConfig(method="random", val_fraction=0.95))
    with pytest.raises(SplitError, match=r"split.seed must be >= 0"):
        make_split(lab, SplitConfig(method="random", seed=-1))
    with pytest.raises(SplitError, match="integer class values"):
        make_split(lab.astype(float), SplitConfig())


def test_check_disjoint_detects_overlap():
    m = np.zeros((3, 3), bool)
    a = m.copy()
    a[1, 1] = True
    check_disjoint(Split(a, m.copy(), m.copy()))
    with pytest.raises(SplitError, match="'train' and 'test' share 1 pixel"):
        check_disjoint(Split(a, m.copy(), a.copy()))
    with pytest.raises(SplitError, match="boolean"):
        check_disjoint(Split(a.astype(int), m, m))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=st.integers(1, 14), w=st.integers(1, 14), k=st.integers(1, 4), p0=st.floats(0, 0.9),
    data_seed=st.integers(0, 2 ** 16), seed=st.integers(0, 50),
    method=st.sampled_from(["auto", "random", "count", "blocks", "polygons", "given"]),
    frac=st.floats(0.05, 0.95), vf=st.floats(0, 0.5), tc=st.integers(1, 20), bs=st.integers(1, 6),
    patch=st.one_of(st.none(), st.integers(1, 7)),
)
def test_property_disjoint_reproducible_project_errors(h, w, k, p0, data_seed, seed, method, frac, vf, tc, bs,
                                                       patch):
    rng = np.random.default_rng(data_seed)
    lab = rng.integers(1, k + 1, (h, w)).astype(np.int32)
    lab[rng.random((h, w)) < p0] = 0
    pid = (np.arange(h * w).reshape(h, w) // 3 + 1).astype(np.int32)
    given_map = rng.integers(0, 3, (h, w))
    cfg = SplitConfig(method=method, train_fraction=frac, val_fraction=vf, train_count=tc, block_size=bs,
                      seed=seed)
    kwargs = dict(polygon_ids=pid, given_map=given_map, patch_size=patch)
    try:
        a = make_split(lab, cfg, **kwargs)
    except SplitError:
        return
    except HyperSNNError as e:  # pragma: no cover - any other project error is still a failure here
        raise AssertionError(f"unexpected error type {type(e).__name__}: {e}")
    _assert_valid(a, lab)
    assert a.train.any() and a.test.any()
    classes = np.unique(lab[lab > 0])
    for c in classes:
        assert (a.train & (lab == c)).any()
    b = make_split(lab, cfg, **kwargs)
    assert (a.train == b.train).all() and (a.val == b.val).all() and (a.test == b.test).all()
    assert a.protocol == b.protocol


def test_messages_name_classes_when_names_are_known():
    labels = np.zeros((10, 10), np.int32)
    labels[:5] = 1
    labels[9, 9] = 2
    with pytest.raises(SplitError, match=r"Class 2 \(Corn-notill\) has 1 labelled pixel"):
        make_split(labels, SplitConfig(method="random", train_fraction=0.5), class_names={1: "Water", 2: "Corn-notill"})
    with pytest.raises(SplitError, match=r"Class 2 has 1 labelled pixel"):
        make_split(labels, SplitConfig(method="random", train_fraction=0.5))


def test_classes_with_too_few_pixels_to_learn_or_test_are_named_in_a_warning():
    labels = np.zeros((30, 30), np.int32)
    labels[:20] = 1
    labels[25, :12] = 2  # 12 pixels: a 50 % split leaves 6 to train and 6 to test
    s = make_split(labels, SplitConfig(method="random", train_fraction=0.5, val_fraction=0.0),
                   class_names={1: "Water", 2: "Reed"})
    w = " | ".join(s.protocol["warnings"])
    assert "Class 2 (Reed) has only 6 training pixel(s): too few to learn" in w
    assert "Class 2 (Reed) has only 6 test pixel(s)" in w and "Water" not in w
