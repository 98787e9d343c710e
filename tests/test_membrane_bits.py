"""A k-bit membrane with saturation (train.membrane_bits): training and inference keep v on the grid of step
v_th / 2^(k-2) inside the k-bit range, the model file and both engines carry it, and the energy model prices the
SNN's adds, compares, resets and leak at that width and nothing else (core/nn/lif.py, core/energy/costs.py)."""
import numpy as np
import pytest
import torch

from hypersnn.core.config.schema import EnergyConfig, RunConfig
from hypersnn.core.energy.costs import energy_report, int_add_pj, int_mult_pj, reprice, resolve_table, unit_costs
from hypersnn.core.energy.memory import memory_bits
from hypersnn.core.energy.ops import count_ops
from hypersnn.core.errors import InputError
from hypersnn.core.nn.lif import LIF, LIFFunction, quantize_membrane_


def _membranes(currents, leak, vth, bits):
    """Plain loop of the k-bit LIF (the oracle): every v it stores, before the reset."""
    levels = 2 ** (bits - 2)
    step = vth / levels
    u, vs = 0.5 * vth, []
    for t in range(currents.shape[0]):
        v = np.clip(np.round((currents[t] + leak * u) / step), -2 * levels, 2 * levels - 1) * step
        vs.append(v)
        u = np.where(v > vth, v - vth, v)
    return np.stack(vs)


@pytest.mark.parametrize("bits", [4, 8])
def test_membrane_stays_on_the_k_bit_grid_and_saturates(bits):
    torch.manual_seed(0)
    vth = 0.8
    cur = torch.randn(6, 500, dtype=torch.float64) * 1.5  # large currents: some membranes saturate
    n = LIF(threshold=vth, leak=0.875, leak_mode="pow2", membrane_bits=bits).double()
    with torch.no_grad():
        out = n(cur)
    # the SNN's spikes are those of the oracle's stored membranes
    v = _membranes(cur.numpy(), 0.875, vth, bits)
    np.testing.assert_array_equal(out.numpy() > 0, v > vth)
    levels = 2 ** (bits - 2)
    k = v / (vth / levels)
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)  # on the grid
    assert k.max() == 2 * levels - 1 and k.min() == -2 * levels  # both rails reached: saturation, not overflow
    # a real-valued membrane differs: the width is not a no-op
    n0 = LIF(threshold=vth, leak=0.875, leak_mode="pow2").double()
    with torch.no_grad():
        assert not torch.equal(n0(cur), out)


def test_training_sees_the_quantized_membrane_and_gradients_pass_straight_through():
    torch.manual_seed(1)
    cur = (torch.randn(5, 300, dtype=torch.float64) * 0.6).requires_grad_()
    n = LIF(threshold=1.0, leak=0.9, membrane_bits=6).double()
    train_out = n(cur)
    with torch.no_grad():
        infer_out = n(cur)
    assert torch.equal(train_out.detach(), infer_out)  # the forward training runs is the one inference runs
    train_out.sum().backward()
    assert torch.isfinite(cur.grad).all() and cur.grad.abs().sum() > 0
    assert n.threshold.grad is not None and n.leak.grad is not None
    # quantize_membrane_ keeps the threshold and half of it exact: the soft reset and the start stay on the grid
    v = torch.tensor([1.0, 0.5, 2.5, -3.0], dtype=torch.float64)
    assert quantize_membrane_(v, torch.tensor(1.0, dtype=torch.float64), 6).tolist() == [1.0, 0.5, 1.9375, -2.0]


def test_bad_widths_are_refused_with_the_setting_named():
    with pytest.raises(ValueError, match="membrane_bits"):
        LIF(membrane_bits=2)
    cfg = RunConfig()
    cfg.train.membrane_bits = 3
    with pytest.raises(InputError, match="membrane_bits must be 0 .* or 4..16, got 3"):
        cfg.validate()
    cfg.train.membrane_bits = 8
    assert cfg.validate().train.membrane_bits == 8


def _net(membrane_bits):
    from test_energy import _tiny
    net = _tiny(1, T=5, leaks=(0.75, 1.0, 0.875))
    for n in net.neurons:
        n.membrane_bits = membrane_bits
    net.membrane_bits = membrane_bits
    return net


def test_energy_prices_the_snns_membrane_work_at_its_width_and_nothing_else():
    cfg = resolve_table(EnergyConfig())
    u0, u8 = unit_costs(cfg, 6, 0, 5), unit_costs(cfg, 6, 0, 5, membrane_bits=8)
    assert u8["snn"]["add"] == pytest.approx(int_add_pj(cfg, 8)) and u0["snn"]["add"] == pytest.approx(
        int_add_pj(cfg, 16))
    assert u8["snn"]["mult"] == pytest.approx(int_mult_pj(cfg, 8, 8))
    assert u8["snn"]["mac0"] == u0["snn"]["mac0"]  # the first layer's dot product: its wide accumulator
    for other in ("cnn_q", "cnn_fp", "equivalent_ann"):
        assert u8[other] == u0[other]
    x = [torch.randn(4, 5, 5, 5, dtype=torch.float64)]
    torch.manual_seed(0)
    c8 = count_ops(_net(8), x)
    assert c8["membrane_bits"] == 8
    e8 = energy_report(c8, EnergyConfig())
    e0 = energy_report(dict(c8, membrane_bits=0), EnergyConfig())  # the same counts at the 16-bit accumulator
    t8, t0 = (e["conventions"]["complete"]["per_patch"]["totals_pj"] for e in (e8, e0))
    assert t8["snn"] < t0["snn"] and t8["cnn_q"] == t0["cnn_q"] and t8["equivalent_ann"] == t0["equivalent_ann"]
    k8, k0 = e8["by_kind_pj"]["snn"], e0["by_kind_pj"]["snn"]
    assert k8["mac"] == pytest.approx(k0["mac"])
    for kind in ("ac", "compare", "reset", "bias", "inject"):
        assert k8[kind] == pytest.approx(k0[kind] / 2)  # 8-bit adds cost half the 16-bit ones
    assert e8["widths"]["membrane_bits"] == 8 and "8-bit with saturation" in e8["widths"]["membrane"]
    assert any("membranes 8 bits with saturation" in n for n in e8["notes"])
    # repricing under another table keeps the width
    assert reprice(e8, EnergyConfig())["conventions"]["complete"]["per_patch"]["totals_pj"]["snn"] == \
        pytest.approx(t8["snn"])
    # memory: the SNN's membranes move 8 bits per access instead of 16
    layers = e8["layers"]
    m8 = memory_bits(layers, c8["input_values"], "snn", cfg, 6, 0, 5, 3, "reuse", 8)
    m0 = memory_bits(layers, c8["input_values"], "snn", cfg, 6, 0, 5, 3, "reuse", 0)
    assert m8["neuron_state"] < m0["neuron_state"] and m8["weights"] == m0["weights"]


def test_model_file_carries_the_width_and_refuses_a_bad_one(tmp_path):
    import fixtures_data as fd
    from hypersnn.core.data.labels import labels_from_array
    from hypersnn.core.errors import ModelFileError
    from hypersnn.core.io.raster import ArrayReader, RasterInfo
    from hypersnn.core.models.modelfile import load_model, save_model
    from hypersnn.core.models.summary import summary_rows
    from hypersnn.core.models.torch_model import HyperSNNModel
    from hypersnn.core.training import pipeline
    from tiny import tiny_config

    cube, gt = fd.synthetic_scene()[:2]
    h, w, b = cube.shape
    reader = ArrayReader(cube, RasterInfo(width=w, height=h, count=b, dtype=str(cube.dtype), nodata=fd.NODATA))
    out = pipeline.train(reader, labels_from_array(gt), tiny_config(cnn_epochs=2, snn_epochs=1, threads=1,
                                                                     membrane_bits=8))
    assert all(n.membrane_bits == 8 for n in out.model.net.neurons)
    assert out.energy["widths"]["membrane_bits"] == 8
    path = tmp_path / "m.hsnn"
    out.model.save(path)
    back = HyperSNNModel.load(path)
    assert back.net.membrane_bits == 8 and all(n.membrane_bits == 8 for n in back.net.neurons)
    assert ("Membrane", "8-bit with saturation") in summary_rows(back.summary())
    meta, tensors = load_model(path)
    meta["membrane_bits"] = 3
    save_model(tmp_path / "bad.hsnn", meta, tensors)
    with pytest.raises(ModelFileError, match="membrane_bits 3 is not 0 or 4..16"):
        HyperSNNModel.load(tmp_path / "bad.hsnn")
