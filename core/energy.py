"""Compute-energy estimate from counted operations.

CNN: every layer does dense multiply-accumulates (MACs): output elements x fan-in, per pixel.
SNN: the first layer sees analog input, so it does MACs, once per pixel (its weighted sum is the same
at every time step and is computed once and reused); every later layer only accumulates (ACs), one per
spike per target neuron: counted exactly from the measured spikes (conv of the spike map with an
all-ones kernel, times the output channels), summed over the T steps.

Energy = MACs x E_mac(bits) + ACs x E_add(bits). Full precision (bits = 0) uses the table's full-precision
figures; k-bit integer costs are derived from the 32-bit integer figures: a multiplier scales with the
square of the bit width, an adder linearly (Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm:
FP32 mult 3.7 pJ, add 0.9 pJ; INT32 mult 3.1 pJ, add 0.1 pJ; INT8 mult 0.2 pJ and add 0.03 pJ fit these
laws). Two published sets are built in, fixed before any measurement:
- horowitz45: full precision = FP32 (MAC 4.6 pJ, add 0.9 pJ), the usual choice for a float CNN;
- horowitz45_int: full precision = INT32 (MAC 3.2 pJ, add 0.1 pJ), the figures most SNN papers, the
  Hyper-SNN paper among them, use for both networks.
A reader can see how much a conclusion depends on the table by comparing the two.
"""
from __future__ import annotations

from dataclasses import asdict

import torch

from .config import ENERGY_TABLES as TABLES
from .config import EnergyConfig


def resolve_table(cfg: EnergyConfig) -> EnergyConfig:
    """A named published table, or the caller's own values under any other name."""
    return TABLES.get(cfg.table, cfg)


def mac_pj(cfg: EnergyConfig, bits: int) -> float:
    if bits == 0:
        return cfg.full_mult_pj + cfg.full_add_pj
    f = bits / 32.0
    return cfg.int32_mult_pj * f * f + cfg.int32_add_pj * f


def add_pj(cfg: EnergyConfig, bits: int) -> float:
    if bits == 0:
        return cfg.full_add_pj
    return cfg.int32_add_pj * bits / 32.0


@torch.no_grad()
def count_ops(net, batches) -> dict:
    """Per-pixel operation counts of `net` (a HSINet) on patch batches: CNN MACs and SNN MACs/ACs/spikes."""
    was_spiking, was_training = net.spiking, net.training
    net.eval()
    try:
        cnn_macs = net.dense_macs()
        net.spiking = True
        L = len(net.specs)
        acs = [0.0] * L
        spikes = [0.0] * L
        neurons = [0.0] * L
        n = 0
        for x in batches:
            rec = []
            net(x, record=rec)
            for r in rec:
                i = r["layer"]
                acs[i] += r.get("acs", 0.0)
                spikes[i] += r.get("spikes", 0.0)
                neurons[i] += r.get("neurons", 0.0)
            n += x.shape[0]
    finally:
        net.spiking, net.training = was_spiking, was_training
        net.train(was_training)
    T = net.time_steps
    layers = []
    for i, sp in enumerate(net.specs):
        layers.append({
            "name": sp.name, "kind": sp.kind, "role": sp.role,
            "cnn_macs": float(cnn_macs[i]),
            "snn_macs": float(cnn_macs[0]) if i == 0 else 0.0,
            "snn_acs": acs[i] / max(n, 1),
            "spike_rate": (spikes[i] / (neurons[i] * T)) if neurons[i] else None,
        })
    return {"pixels": n, "time_steps": T, "layers": layers}


def energy_report(counts: dict, bits: int, cfg: EnergyConfig = None) -> dict:
    """Energies per classified pixel (pJ) and ratios, in the report schema of core/report.py."""
    cfg = resolve_table(cfg or EnergyConfig())
    e_mac_fp, e_mac_q, e_add_q = mac_pj(cfg, 0), mac_pj(cfg, bits), add_pj(cfg, bits)
    layers, tot = [], {"cnn_fp_pj": 0.0, "cnn_q_pj": 0.0, "snn_pj": 0.0}
    for L in counts["layers"]:
        row = dict(L)
        row["cnn_fp_energy_pj"] = L["cnn_macs"] * e_mac_fp
        row["cnn_q_energy_pj"] = L["cnn_macs"] * e_mac_q
        row["snn_energy_pj"] = L["snn_macs"] * e_mac_q + L["snn_acs"] * e_add_q
        tot["cnn_fp_pj"] += row["cnn_fp_energy_pj"]
        tot["cnn_q_pj"] += row["cnn_q_energy_pj"]
        tot["snn_pj"] += row["snn_energy_pj"]
        layers.append(row)
    snn = max(tot["snn_pj"], 1e-30)
    first = layers[0]["snn_energy_pj"] if layers else 0.0
    return {
        "table": {"name": cfg.table, **{k: v for k, v in asdict(cfg).items() if k != "table"},
                  f"mac_{cfg.full_precision.lower()}_pj": e_mac_fp, f"mac_int{bits}_pj" if bits else "mac_q_pj": e_mac_q,
                  f"add_int{bits}_pj" if bits else "add_q_pj": e_add_q},
        "bits": bits,
        "weight_bits": bits,
        "time_steps": counts["time_steps"],
        "pixels_measured": counts["pixels"],
        "layers": layers,
        "totals": tot,
        "ratios": {"fp_cnn_over_snn": tot["cnn_fp_pj"] / snn, "q_cnn_over_snn": tot["cnn_q_pj"] / snn,
                   "fp_cnn_over_q_cnn": tot["cnn_fp_pj"] / max(tot["cnn_q_pj"], 1e-30)},
        "notes": [
            "Energies are per classified pixel (one patch), compute only (no memory access).",
            "SNN first layer: analog input, MACs counted once per pixel (weighted sum reused over T steps).",
            "SNN later layers: accumulates = measured spikes x fan-out, summed over T steps.",
            f"Full precision costed as {cfg.full_precision} (table {cfg.table}); k-bit costs: multiplier ~ (k/32)^2, "
            f"adder ~ k/32 of the INT32 figures; k = {bits or 'full precision'}.",
            f"SNN first layer share of SNN energy: {100 * first / snn:.1f} %.",
        ],
    }
