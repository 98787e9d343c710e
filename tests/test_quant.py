import pytest
import numpy as np
import torch

from hypersnn.core.nn.quant import fake_quant, from_codes, qmax, to_codes


def test_k_bit_weights_take_at_most_2k_minus_1_levels():
    w = torch.rand(4000) * 2 - 1
    for bits in (2, 4, 6, 8):
        levels = torch.unique(fake_quant(w, bits))
        assert len(levels) <= 2 * qmax(bits) + 1
        assert len(levels) > 2 * qmax(bits) - 2  # the grid is used, not collapsed


def test_full_precision_is_identity():
    w = torch.randn(50)
    assert torch.equal(fake_quant(w, 0), w)


def test_straight_through_gradient_is_identity():
    w = torch.randn(20, requires_grad=True)
    fake_quant(w, 4).mul(torch.arange(20.0)).sum().backward()
    assert torch.allclose(w.grad, torch.arange(20.0))


def test_codes_round_trip_reproduces_the_quantized_weights_exactly():
    w = np.random.default_rng(0).normal(size=(8, 3, 3)).astype(np.float32)
    for bits in (3, 6, 12):
        codes, scale = to_codes(w, bits)
        assert codes.dtype == (np.int8 if bits <= 8 else np.int16)
        assert np.abs(codes).max() == qmax(bits)
        restored = from_codes(codes, scale)
        expected = fake_quant(torch.from_numpy(w), bits).numpy()
        np.testing.assert_allclose(restored, expected, rtol=1e-6, atol=1e-7)
        # quantizing the restored weights again changes nothing (loading a model is exact)
        np.testing.assert_allclose(fake_quant(torch.from_numpy(restored), bits).numpy(), restored, rtol=1e-6)


def test_k_bit_input_gives_integer_codes_per_feature_and_clips_beyond_the_scale():
    import torch
    from hypersnn.core.nn.quant import quantize_input
    x = torch.tensor([[[[0.5]], [[-3.0]], [[10.0]]]])  # (1, 3 features, 1, 1)
    scale = torch.tensor([1.0, 2.0, 4.0])
    q = quantize_input(x, scale, 4)  # qmax 7
    codes = (q / scale.view(1, -1, 1, 1) * 7).flatten().tolist()
    assert codes == [round(0.5 * 7), -7.0, 7.0]  # feature 2 clips at -scale, feature 3 at +scale
    assert q.flatten().tolist() == pytest.approx([4 / 7, -2.0, 4.0])  # on the features' own scale
    assert all(float(c).is_integer() for c in codes)
