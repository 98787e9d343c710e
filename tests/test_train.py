"""Trainer details that the end-to-end tests do not pin down."""
import numpy as np
import pytest

from hypersnn.core.config import RunConfig
from hypersnn.core.errors import InputError
from hypersnn.core.train import class_weights


def test_class_weights_lift_rare_classes_and_average_one():
    y = np.array([0] * 90 + [1] * 9 + [2] * 1)
    assert class_weights(y, 3, "none") is None
    w = class_weights(y, 3, "sqrt_inverse").numpy()
    assert np.isclose(w.mean(), 1) and w[2] > w[1] > w[0]
    np.testing.assert_allclose(w[1] / w[0], np.sqrt(10), rtol=1e-5)
    wi = class_weights(y, 4, "inverse").numpy()
    assert wi[3] == 0 and np.isclose(wi[:3].mean(), 1)  # an absent class gets no weight
    np.testing.assert_allclose(wi[2] / wi[0], 90, rtol=1e-5)


def test_unknown_class_weighting_is_refused():
    cfg = RunConfig()
    cfg.train.class_weighting = "balanced"
    with pytest.raises(InputError, match="class_weighting"):
        cfg.validate()
