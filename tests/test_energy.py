"""Operation counts are exact: an explicit, event-driven simulation of a tiny SNN, which counts every
operation as it performs it, agrees with core/energy/ops.py kind by kind; the energies follow the documented
per-operation costs and conventions."""
import itertools

import numpy as np
import pytest
import torch

from hypersnn.core.config.schema import EnergyConfig, ModelConfig
from hypersnn.core.energy.costs import (CONVENTIONS, energy_report, int_add_pj, int_mult_pj, layer_ops,
                                  pixel_energy_maps, resolve_table, unit_costs)
from hypersnn.core.nn.models import HSINet
from hypersnn.core.energy.ops import count_ops, window_op_maps


def _tiny(first=1, arch="hybrid", T=3, input_bits=0, leaks=(0.8, 0.75, 1.0), seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(arch=arch, patch_size=5, conv3d_channels=[2], conv3d_spectral_kernels=[3], conv2d_channels=[3],
                      dense=[4], first_spatial_kernel=first, input_bits=input_bits)
    net = HSINet(cfg, in_bands=5, n_classes=2, bits=6, time_steps=T).double()
    net.set_thresholds([0.15, 0.2, 0.2])
    with torch.no_grad():
        for n, lk in zip(net.neurons, leaks):
            n.leak.fill_(lk)
    net.spiking = True
    net.eval()
    return net


def _connections(sp, in_shape):
    """Brute-force synapse list of one layer: for every target neuron (flat index in the layer's output),
    the (source flat index, weight index) pairs of its receptive field."""
    if sp.fold_before:
        c, d, h, w = in_shape
        in_shape = (c * d, h, w)
    if sp.kind == "conv3d":
        C, D, H, W = in_shape
        kd, kh, kw = sp.kernel
        out = (sp.out_ch, D - kd + 1, H - kh + 1, W - kw + 1)
        conns = {}
        for o, z, y, x in itertools.product(*map(range, out)):
            t = np.ravel_multi_index((o, z, y, x), out)
            conns[t] = [(np.ravel_multi_index((c, z + a, y + b, x + e), in_shape), (o, c, a, b, e))
                        for c, a, b, e in itertools.product(range(C), range(kd), range(kh), range(kw))]
        if sp.squeeze_after:
            out = (out[0],) + out[2:]
        return conns, out
    C, H, W = in_shape
    kh, kw = sp.kernel
    out = (sp.out_ch, H - kh + 1, W - kw + 1)
    conns = {}
    for o, y, x in itertools.product(*map(range, out)):
        t = np.ravel_multi_index((o, y, x), out)
        conns[t] = [(np.ravel_multi_index((c, y + b, x + e), in_shape), (o, c, b, e))
                    for c, b, e in itertools.product(range(C), range(kh), range(kw))]
    return conns, out


def simulate(net, x):
    """Step-by-step, neuron-by-neuron simulation of one sample x (bands, p, p), counting each operation."""
    T = net.time_steps
    ops = [dict.fromkeys(("mac", "bias", "inject", "ac", "leak_mult", "leak_shift", "compare", "reset"), 0)
           for _ in net.specs]
    shape = (1,) + tuple(net.quantize_input(x[None])[0].shape)  # (1, D, H, W): one input channel
    inp = net.quantize_input(x[None])[0].reshape(-1).numpy()
    layers = []
    for i, sp in enumerate(net.specs):
        conns, shape_out = _connections(sp, shape)
        layers.append((conns, shape_out, net.qweight(i).detach().numpy(), net.biases[i].detach().numpy()))
        shape = shape_out
    params = net.neuron_params()

    def integrate(i, u, cur, spikes_out):
        leak, vth = params[i]["leak"], params[i]["threshold"]
        kind = "leak_mult" if leak not in (1.0, 0.5, 0.75, 0.875) else ("leak_shift" if leak != 1.0 else None)
        for k in range(len(u)):
            if kind:
                ops[i][kind] += 1
            v = leak * u[k] + cur[k]
            ops[i]["compare"] += 1
            if v > vth:
                ops[i]["reset"] += 1
                u[k] = v - vth
                spikes_out.append(k)
            else:
                u[k] = v

    # layer 0: the analog current, computed once
    conns, out0, w0, b0 = layers[0]
    i0 = np.zeros(int(np.prod(out0)))
    for k, rf in conns.items():
        i0[k] = b0[np.unravel_index(k, out0)[0]]
        ops[0]["bias"] += 1
        for j, wi in rf:
            i0[k] += w0[wi] * inp[j]
            ops[0]["mac"] += 1
    us = [np.full(int(np.prod(layers[i][1])), params[i]["threshold"] / 2) for i in range(len(net.neurons))]
    readout = np.zeros(int(np.prod(layers[-1][1])))
    spike_total = [0] * len(net.specs)
    for t in range(T):
        ops[0]["inject"] += len(i0)
        fired = []
        integrate(0, us[0], i0, fired)
        for i in range(1, len(net.specs)):
            conns, out, w, b = layers[i]
            vth_prev = params[i - 1]["threshold"]
            spike_total[i - 1] += len(fired)
            targets = {}
            for k, rf in conns.items():
                for j, wi in rf:
                    targets.setdefault(j, []).append((k, wi))
            cur = np.zeros(len(conns))
            for j in fired:  # event-driven: only spikes cause accumulates
                for k, wi in targets.get(j, []):
                    cur[k] += w[wi] * vth_prev
                    ops[i]["ac"] += 1
            if net.specs[i].role == "output":
                readout += cur
                break
            for k in range(len(cur)):
                cur[k] += b[np.unravel_index(k, out)[0]]
                ops[i]["bias"] += 1
            fired = []
            integrate(i, us[i], cur, fired)
    out_shape, b_out = layers[-1][1], layers[-1][3]
    logits = readout / T
    for k in range(len(logits)):
        logits[k] += b_out[np.unravel_index(k, out_shape)[0]]
        ops[-1]["bias"] += 1
    return logits, ops, spike_total


@pytest.mark.parametrize("first,arch,input_bits", [(1, "hybrid", 0), (3, "hybrid", 0), (1, "3d", 0), (1, "hybrid", 4)])
def test_every_counted_operation_equals_an_event_driven_simulation(first, arch, input_bits):
    net = _tiny(first, arch, input_bits=input_bits)
    if input_bits:
        net.set_input_scale(torch.rand(64, 5, dtype=torch.float64) * 2)
    torch.manual_seed(3)
    x = torch.randn(3, 5, 5, 5, dtype=torch.float64)
    counts = count_ops(net, [x])
    with torch.no_grad():
        logits = net(x).flatten(1).numpy()
    sims = [simulate(net, x[n]) for n in range(len(x))]
    for n, (lg, _, _) in enumerate(sims):  # the simulation is the network: same scores
        np.testing.assert_allclose(lg, logits[n], rtol=1e-9, atol=1e-9)
    assert sum(sum(s[2]) for s in sims) > 0, "the tiny net must spike for the test to mean anything"
    T = net.time_steps
    for i, L in enumerate(counts["layers"]):
        want = {k: np.mean([s[1][i][k] for s in sims]) for k in sims[0][1][i]}
        got = {k: n for k, (n, _) in layer_ops(L, i, "snn", "complete", T, "per_patch").items()}
        assert got.get("mac", 0) == want["mac"]
        assert got.get("inject", 0) == want["inject"]
        assert got.get("bias", 0) == want["bias"]
        assert got.get("ac", 0) == pytest.approx(want["ac"])
        assert got.get("compare", 0) == want["compare"]
        assert got.get("reset", 0) == pytest.approx(want["reset"])
        leak = got.get("leak", 0)
        assert leak == want["leak_mult"] + want["leak_shift"]
        if leak:
            assert L["leak_kind"] == ("shift" if want["leak_shift"] else "multiply")
        # the paper convention counts the analog first layer at every step, reuse once
        paper = dict(layer_ops(L, i, "snn", "paper", T, "per_patch"))
        reuse = dict(layer_ops(L, i, "snn", "reuse", T, "per_patch"))
        assert set(paper) == set(reuse) == ({"mac"} if i == 0 else {"ac"})
        if i == 0:
            assert paper["mac"][0] == T * reuse["mac"][0] == T * want["mac"]
        # CNN: one MAC per synapse, a bias add per neuron, a ReLU compare per hidden neuron
        cnn = {k: n for k, (n, _) in layer_ops(L, i, "cnn", "complete", T, "per_patch").items()}
        n_syn = sum(len(rf) for rf in _connections(net.specs[i], _in_shape(net, i))[0].values())
        assert cnn["mac"] == n_syn == L["cnn_macs"]
        assert cnn["bias"] == L["neurons"]
        assert cnn.get("relu", 0) == (L["neurons"] if L["role"] != "output" else 0)


def _in_shape(net, i):
    shapes = []
    with torch.no_grad():
        net.spiking = False
        net(torch.zeros(1, 5, 5, 5, dtype=torch.float64), observer=lambda j, t: shapes.append(tuple(t.shape[1:])))
        net.spiking = True
    return (1, 5, 5, 5) if i == 0 else shapes[i - 1]


def test_map_pixel_counts_from_a_patch_centre_equal_the_window_maps():
    """The per-map-pixel counts read at a patch's centre are what a fully convolutional window charges to
    that pixel, and the energy map does not depend on the window size."""
    net = _tiny(1, leaks=(0.75, 1.0, 0.9))
    torch.manual_seed(5)
    img = torch.randn(5, 9, 9, dtype=torch.float64)
    r = 2
    padded = torch.nn.functional.pad(img[None], (r, r, r, r), mode="reflect")[0]
    _, tally = window_op_maps(net, padded[None], (9, 9))
    e_map, s_map = pixel_energy_maps(net, tally)
    for (y, x) in [(4, 4), (0, 0), (8, 3)]:
        patch = padded[:, y:y + 5, x:x + 5][None]
        c = count_ops(net, [patch])
        for i, L in enumerate(c["layers"]):
            if L["fc_spikes"] is not None:
                assert L["fc_spikes"] == tally.spike_maps[i][y, x]
            if i:
                assert L["fc_acs"] == pytest.approx(tally.ac_maps[i][y, x])
        e = energy_report(c)
        assert e["conventions"]["complete"]["per_map_pixel"]["totals_pj"]["snn"] == pytest.approx(e_map[y, x])
        assert s_map[y, x] == sum(L["fc_spikes"] for L in c["layers"] if L["fc_spikes"] is not None)
    # a smaller window over the same pixels charges them the same
    win = padded[:, 0:4 + 2 * r, 0:5 + 2 * r]
    _, t2 = window_op_maps(net, win[None], (4, 5))
    e2, s2 = pixel_energy_maps(net, t2)
    np.testing.assert_allclose(e2, e_map[:4, :5])
    np.testing.assert_array_equal(s2, s_map[:4, :5])


def test_unit_costs_follow_the_documented_widths():
    c = EnergyConfig()
    u = unit_costs(c, bits=6, input_bits=0)
    assert np.isclose(int_mult_pj(c, 8, 8), 3.1 / 16)  # ~0.2 pJ, Horowitz's INT8 multiply
    assert np.isclose(int_add_pj(c, 8), 0.025)  # ~0.03 pJ, Horowitz's INT8 add
    assert np.isclose(u["snn"]["add"], 0.1 * 16 / 32)  # a 16-bit accumulator
    assert np.isclose(u["cnn_q"]["mac"], 3.1 * 6 * 16 / 1024 + 0.05)  # 6-bit weight x 16-bit activation
    assert np.isclose(u["cnn_fp"]["mac"], 4.6) and np.isclose(u["cnn_fp"]["add"], 0.9)
    assert np.isclose(unit_costs(c, 6, input_bits=8)["snn"]["mac0"], 3.1 * 48 / 1024 + 0.05)
    assert np.isclose(u["snn"]["mult"], 3.1 * 256 / 1024)  # a leak multiply of two 16-bit numbers
    wide = EnergyConfig(accumulator_bits=24, activation_bits=8)
    assert np.isclose(unit_costs(wide, 6)["cnn_q"]["mac"], 3.1 * 48 / 1024 + 0.1 * 24 / 32)
    full = unit_costs(c, bits=0)
    assert full["snn"] == full["cnn_fp"]  # a full-precision SNN does every operation at full precision


def test_conventions_differ_only_in_what_they_count():
    net = _tiny(1, leaks=(0.8, 1.0, 0.75))
    c = count_ops(net, [torch.randn(4, 5, 5, 5, dtype=torch.float64)])
    e = energy_report(c, EnergyConfig())
    u = unit_costs(resolve_table(EnergyConfig()), 6)
    T, L0 = c["time_steps"], c["layers"][0]
    pp = {k: e["conventions"][k]["per_patch"]["totals_pj"] for k in CONVENTIONS}
    assert pp["paper"]["snn"] - pp["reuse"]["snn"] == pytest.approx((T - 1) * L0["cnn_macs"] * u["snn"]["mac0"])
    assert pp["paper"]["cnn_q"] == pp["reuse"]["cnn_q"]
    assert pp["complete"]["snn"] > pp["reuse"]["snn"] and pp["complete"]["cnn_q"] > pp["reuse"]["cnn_q"]
    for k in CONVENTIONS:
        r = e["conventions"][k]["per_patch"]["ratios"]
        assert r["q_cnn_over_snn"] == pytest.approx(pp[k]["cnn_q"] / pp[k]["snn"])
    # operations per map pixel: what fully convolutional classification does for one pixel
    om = e["ops_per_map_pixel"]
    assert om["snn"]["ac"] == pytest.approx(sum(L["fc_acs"] for L in c["layers"][1:]))
    assert om["cnn"]["mac"] == sum(L["fc_cnn_macs"] for L in c["layers"]) < sum(L["cnn_macs"] for L in c["layers"])
    # the complete SNN total is the sum of its kinds, and a leak of 0.8 is costed as a multiply
    assert sum(e["by_kind_pj"]["snn"].values()) == pytest.approx(pp["complete"]["snn"])
    assert e["layers"][0]["leak_kind"] == "multiply" and e["layers"][2]["leak_kind"] == "shift"
    assert e["layers"][1]["leak_kind"] == "none" and "leak" not in e["layers"][1]["snn_ops"]
    assert e["widths"]["accumulator_bits"] == 16 and "16-bit fixed point" in e["widths"]["input"]
    assert "Horowitz" in e["table"]["citation"]
    # the INT32 table changes only the full-precision CNN
    e_int = energy_report(c, EnergyConfig(table="horowitz45_int"))
    t_int = e_int["conventions"]["complete"]["per_patch"]["totals_pj"]
    assert t_int["snn"] == pytest.approx(pp["complete"]["snn"]) and t_int["cnn_fp"] < pp["complete"]["cnn_fp"]


def test_published_tables_are_selectable_by_name_and_custom_values_by_another():
    from hypersnn.core.energy.costs import TABLES
    assert resolve_table(EnergyConfig(table="horowitz45_int")).full_mult_pj == TABLES["horowitz45_int"].full_mult_pj
    assert resolve_table(EnergyConfig(table="horowitz45", accumulator_bits=24)).accumulator_bits == 24
    mine = EnergyConfig(table="my-7nm", full_mult_pj=1.0, full_add_pj=0.2)
    assert resolve_table(mine) is mine and np.isclose(unit_costs(mine, 0)["cnn_fp"]["mac"], 1.2)


def test_a_leak_that_costs_a_multiply_never_prints_as_one():
    from hypersnn.core.energy.costs import leak_text

    assert leak_text(0.99996, "multiply") == "0.999960 (multiply)"
    assert leak_text(0.9939, "multiply") == "0.9939 (multiply)"
    assert leak_text(1.0, "none") == "1 (none)" and leak_text(0.75, "pow2") == "0.75 (pow2)"
