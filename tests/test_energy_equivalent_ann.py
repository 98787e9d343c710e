"""The equivalent low-bit ANN (activations at ceil(log2(T + 1)) bits) as the fourth costed network, and the memory
traffic line kept apart from the compute conventions (core/energy/costs.py, core/energy/memory.py)."""
import numpy as np
import pytest
import torch

from hypersnn.core.config.schema import EnergyConfig
from hypersnn.core.energy.costs import (CONVENTIONS, energy_lines, energy_report, int_add_pj, int_mult_pj,
                                        resolve_table, unit_costs)
from hypersnn.core.energy.memory import SRAM_PJ_PER_64_BITS, memory_bits
from hypersnn.core.energy.ops import count_ops
from hypersnn.core.nn.equivalent_ann import equivalent_ann_bits
from test_energy import _tiny


@pytest.mark.parametrize("T, bits", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 3), (8, 4), (15, 4), (16, 5)])
def test_equivalent_ann_carries_as_many_levels_as_t_binary_spikes(T, bits):
    assert equivalent_ann_bits(T) == bits
    assert 2 ** bits >= T + 1 > 2 ** (bits - 1)


def test_equivalent_ann_costs_the_cnns_operations_at_its_activation_width():
    c = count_ops(_tiny(1, T=5, leaks=(0.8, 1.0, 0.75)), [torch.randn(4, 5, 5, 5, dtype=torch.float64)])
    cfg = resolve_table(EnergyConfig())
    u = unit_costs(cfg, 6, 0, 5)
    assert u["equivalent_ann"]["mac"] == pytest.approx(int_mult_pj(cfg, 6, 3) + int_add_pj(cfg, 16))
    assert u["equivalent_ann"]["mac0"] == u["cnn_q"]["mac0"]  # the same analog input as every network
    e = energy_report(c, EnergyConfig())
    assert e["widths"]["equivalent_ann_activation_bits"] == 3
    for conv in CONVENTIONS:
        for view in ("per_patch", "per_map_pixel"):
            t = e["conventions"][conv][view]["totals_pj"]
            r = e["conventions"][conv][view]["ratios"]
            assert t["equivalent_ann"] < t["cnn_q"] < t["cnn_fp"]  # 3-bit activations below 16-bit ones
            assert r["equivalent_ann_over_snn"] == pytest.approx(t["equivalent_ann"] / t["snn"])
    # operation by operation: the CNN's kinds, first-layer MACs as the k-bit CNN's, the rest at 3-bit activations
    q, ann = e["by_kind_pj"]["cnn_q"], e["by_kind_pj"]["equivalent_ann"]
    assert set(q) == set(ann) and q["bias"] == pytest.approx(ann["bias"]) and q["relu"] == pytest.approx(ann["relu"])
    first, later = c["layers"][0]["cnn_macs"], sum(L["cnn_macs"] for L in c["layers"][1:])
    assert ann["mac"] == pytest.approx(first * u["cnn_q"]["mac0"] + later * u["equivalent_ann"]["mac"])
    text = "\n".join(energy_lines(e))
    assert "equivalent 3-bit-activation ANN" in text


def test_a_full_precision_model_has_a_full_precision_equivalent_ann():
    u = unit_costs(EnergyConfig(), 0, 0, 5)
    assert u["equivalent_ann"] == u["cnn_fp"]


def test_memory_traffic_counts_every_access_of_the_stated_model_and_stays_out_of_compute():
    c = count_ops(_tiny(1, T=3, leaks=(0.8, 1.0, 0.75)), [torch.randn(4, 5, 5, 5, dtype=torch.float64)])
    e = energy_report(c, EnergyConfig())
    L, T, cfg, inp = e["layers"], 3, resolve_table(EnergyConfig()), e["input_values"]
    assert inp == 5 * 5 * 5 and [x["weights"] for x in L] == [x["out_channels"] * x["fan_in"] for x in L]
    n = [x["neurons"] for x in L]
    hidden = sum(n[:-1])
    membranes = 16 * n[0] * (1 + T) + 2 * 16 * T * sum(n)
    # no reuse, by hand from the docstring: an operand fetched per operation, the SNN's event-driven
    snn = memory_bits(L, inp, "snn", cfg, 6, 0, T, 2)
    assert snn["weights"] == pytest.approx(6 * (L[0]["cnn_macs"] + sum(x["acs"] for x in L[1:])))
    assert snn["inputs"] == pytest.approx(16 * L[0]["cnn_macs"] + T * hidden)
    assert snn["spikes"] == pytest.approx(T * hidden) and snn["neuron_state"] == pytest.approx(membranes)
    ann = memory_bits(L, inp, "equivalent_ann", cfg, 6, 0, T, 2)
    macs = [x["cnn_macs"] for x in L]
    assert ann["weights"] == pytest.approx(6 * sum(macs))
    assert ann["inputs"] == pytest.approx(16 * macs[0] + 2 * sum(macs[1:]))
    assert ann["neuron_state"] == pytest.approx(2 * hidden + 16 * n[-1]) and ann["spikes"] == 0
    # reuse: each weight once, each activation written once and read once, the SNN's membranes at every step
    snn_r = memory_bits(L, inp, "snn", cfg, 6, 0, T, 2, "reuse")
    ann_r = memory_bits(L, inp, "equivalent_ann", cfg, 6, 0, T, 2, "reuse")
    params = sum(x["weights"] for x in L)
    assert snn_r["weights"] == ann_r["weights"] == 6 * params
    assert snn_r["inputs"] == ann_r["inputs"] - 2 * hidden == 16 * inp
    assert snn_r["spikes"] == pytest.approx(2 * T * hidden) and snn_r["neuron_state"] == pytest.approx(membranes)
    m = e["memory"]
    for flow in ("no_reuse", "reuse"):
        d = m["dataflows"][flow]
        for size, per in SRAM_PJ_PER_64_BITS.items():
            assert d["pj"][size]["snn"] == pytest.approx(sum(d["bits"]["snn"].values()) * per / 64)
        head = d["pj"]["32 KB"]
        assert d["ratios"]["equivalent_ann_over_snn"] == pytest.approx(head["equivalent_ann"] / head["snn"])
        # the compute conventions are unchanged by it, and compute + memory is labelled apart
        comp = e["conventions"]["complete"]["per_patch"]["totals_pj"]
        assert d["compute_plus_memory_pj"]["snn"] == pytest.approx(comp["snn"] + head["snn"])
    complete = e["conventions"]["complete"]["per_patch"]["totals_pj"]["snn"]
    assert np.isclose(sum(e["by_kind_pj"]["snn"].values()), complete)
    text = "\n".join(energy_lines(e))
    assert "memory traffic per patch, no reuse" in text and "memory traffic per patch, reuse" in text


def test_the_sentence_on_where_the_snn_wins_follows_the_numbers():
    import copy

    from hypersnn.core.energy.costs import where_snn_wins
    from hypersnn.core.report.html_report import render_html

    e = energy_report(count_ops(_tiny(1, T=3), [torch.randn(4, 5, 5, 5, dtype=torch.float64)]), EnergyConfig())
    flip = copy.deepcopy(e)
    flip["conventions"]["complete"]["per_patch"]["ratios"]["equivalent_ann_over_snn"] = 0.5
    for d in flip["memory"]["dataflows"].values():
        d["compute_plus_memory_ratios"]["equivalent_ann_over_snn"] = 2.0
    text = where_snn_wins(flip)
    assert text.startswith("Against the equivalent 2-bit-activation ANN (per patch), the SNN wins on compute + memory")
    assert "it does not on compute (complete convention): the equivalent ANN spends 0.50x the SNN's" in text
    for d in flip["memory"]["dataflows"].values():
        d["compute_plus_memory_ratios"]["equivalent_ann_over_snn"] = 0.9
    assert "wins on nothing measured here; it does not on compute" in where_snn_wins(flip)
    assert where_snn_wins(e) in "\n".join(energy_lines(e))
    assert where_snn_wins(e).replace("'", "&#x27;") in render_html({"energy": e})
