import json
import math

import numpy as np
import pytest

from hypersnn.core.errors import InputError, LabelError
from hypersnn.core.assess.metrics import Assessment, assess, confusion_matrix

# Hand-computed example (rows: reference, columns: prediction), n = 100.
CM = np.array([[45, 5, 0],
               [10, 25, 5],
               [5, 0, 5]])


def _pairs(cm):
    t, p = [], []
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            t += [i] * int(cm[i, j])
            p += [j] * int(cm[i, j])
    return np.array(t), np.array(p)


def test_confusion_matrix_counts():
    t, p = _pairs(CM)
    rng = np.random.default_rng(0)
    order = rng.permutation(t.size)
    np.testing.assert_array_equal(confusion_matrix(t[order], p[order], 3), CM)
    with pytest.raises(InputError, match="outside 0..2"):
        confusion_matrix([0, 3], [0, 1], 3)


def test_hand_computed_oa_aa_kappa():
    a = Assessment.from_confusion(CM, [3, 7, 9])
    assert a.oa == pytest.approx(0.75)
    # PA = 45/50, 25/40, 5/10 -> AA = (0.9 + 0.625 + 0.5) / 3
    np.testing.assert_allclose(a.producers, [0.9, 0.625, 0.5])
    assert a.aa == pytest.approx(0.675)
    # UA = 45/60, 25/30, 5/10
    np.testing.assert_allclose(a.users, [0.75, 25 / 30, 0.5])
    # pe = (50*60 + 40*30 + 10*10) / 100^2 = 0.43 ; kappa = (0.75 - 0.43) / (1 - 0.43)
    assert a.kappa == pytest.approx(0.32 / 0.57)
    assert a.f1[0] == pytest.approx(2 * 0.9 * 0.75 / 1.65)
    half = 1.959964 * math.sqrt(0.75 * 0.25 / 100)
    assert a.oa_ci95[0] == pytest.approx(0.75 - half, abs=1e-6)
    assert a.oa_ci95[1] == pytest.approx(0.75 + half, abs=1e-6)
    np.testing.assert_array_equal(a.support, [50, 40, 10])
    assert a.n == 100 and a.notes == []


def test_absent_class_is_nan_and_left_out_of_aa():
    cm = np.array([[8, 2, 0], [0, 0, 0], [1, 1, 8]])
    a = Assessment.from_confusion(cm, [1, 2, 3])
    assert math.isnan(a.producers[1]) and math.isnan(a.f1[1])
    assert a.users[1] == 0.0
    assert a.aa == pytest.approx((0.8 + 0.8) / 2)
    assert any("[2]" in n and "AA" in n for n in a.notes)
    d = a.to_dict(["a", "b", "c"])
    assert d["per_class"][1]["producers_accuracy"] is None
    json.dumps(d, allow_nan=False)


def test_never_predicted_class_has_f1_zero():
    a = Assessment.from_confusion(np.array([[5, 0], [3, 0]]), [1, 2])
    assert math.isnan(a.users[1]) and a.f1[1] == 0 and a.producers[1] == 0
    assert any("never predicted" in n for n in a.notes)


def test_assess_maps_class_values_and_ignores_unlabelled_and_nodata():
    values = [3, 7, 9]
    t, p = _pairs(CM)
    v = np.array(values)
    ref = np.zeros(120, np.int32)
    pred = np.zeros(120, np.int32)
    ref[:100], pred[:100] = v[t], v[p]
    pred[100:110] = 3  # unlabelled reference: ignored
    ref[110:] = 7      # nodata prediction: ignored but noted
    a = assess(ref.reshape(10, 12), pred.reshape(10, 12), values)
    np.testing.assert_array_equal(a.confusion, CM)
    assert a.class_values == values
    assert any("10 reference pixel(s) have no prediction" in n for n in a.notes)
    mask = np.zeros(120, bool)
    mask[:50] = True
    b = assess(ref.reshape(10, 12), pred.reshape(10, 12), values, mask=mask.reshape(10, 12))
    assert b.n == 50


def test_assess_refuses_unknown_values_and_shapes():
    ref = np.array([[1, 2], [5, 0]])
    pred = np.array([[1, 2], [1, 1]])
    with pytest.raises(LabelError, match=r"\[5\].*\[1, 2\]"):
        assess(ref, pred, [1, 2])
    with pytest.raises(InputError, match=r"class map holds class value\(s\) \[4\]"):
        assess(np.array([[1, 2]]), np.array([[4, 2]]), [1, 2])
    with pytest.raises(InputError, match="shape"):
        assess(ref, pred[:1], [1, 2])
    with pytest.raises(InputError, match="No test pixels"):
        assess(np.zeros((2, 2), int), pred, [1, 2])


def test_to_dict_names():
    a = Assessment.from_confusion(CM, [3, 7, 9])
    d = a.to_dict({3: "water", 7: "trees"})
    assert [r["name"] for r in d["per_class"]] == ["water", "trees", "Class 9"]
    assert d["oa"] == pytest.approx(0.75) and d["confusion"] == CM.tolist()
    with pytest.raises(InputError, match="2 class names given for 3"):
        a.to_dict(["a", "b"])
