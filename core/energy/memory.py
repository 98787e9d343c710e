"""Memory traffic per inference: the bits each network reads and writes, priced from a stated SRAM table.

Why: "data movement dominates" is the usual answer to an SNN's compute-energy ratio (Yan et al., arXiv 2409.08290):
an SNN keeps a membrane potential per neuron across T steps, which a ReLU network never stores. This estimate
answers it with the same counted operations as the compute estimate (core/energy/costs.py), and is kept apart
from it: the compute conventions never include memory, and this line never includes compute (a third,
clearly labelled figure adds the two).

Model (per patch, one classified pixel; every access goes to one on-chip SRAM, no reuse in registers):
- weights: every multiply-accumulate reads its weight (k bits; 32 at full precision). The SNN's first layer
  reads its weights once (its weighted sum is computed once and reused, as costed); later SNN layers read a
  weight per accumulate, that is per spike and synapse (event-driven).
- inputs: every MAC reads its input (the first layer: the input width; later layers: the previous layer's
  activation width: `activation_bits` for the k-bit CNN, ceil(log2(T + 1)) for the equivalent ANN, 32 for the
  full-precision CNN). A spiking layer reads one bit per presynaptic neuron and step (its spike).
- neuron state: the SNN reads and writes every neuron's membrane (`accumulator_bits`) at every step, and the first
  layer's stored current is written once and read at every step. A ReLU network writes each neuron's activation
  once (the output layer's score at `accumulator_bits`); its partial sums stay in the MAC unit.
- spikes: a hidden spiking neuron writes one bit per step.

Per-bit costs: M. Horowitz, ISSCC 2014 (45 nm): a 64-bit SRAM read costs 10 pJ (8 KB), 20 pJ (32 KB) or 100 pJ
(1 MB); writes are taken to cost as much as reads. The headline is the 32 KB array; the others are shown beside.
"""
from __future__ import annotations

from ..config.schema import EnergyConfig

SRAM_PJ_PER_64_BITS = {"8 KB": 10.0, "32 KB": 20.0, "1 MB": 100.0}
HEADLINE_SRAM = "32 KB"
CITATION = "M. Horowitz, Computing's energy problem (and what we can do about it), ISSCC 2014 (45 nm SRAM reads)"
KINDS = ("weights", "inputs", "neuron_state", "spikes")


def _network_widths(cfg: EnergyConfig, net: str, bits: int, input_bits: int, ann_bits: int) -> tuple:
    """(weight bits, input bits, hidden activation bits) of one network."""
    if net == "cnn_fp" or not bits:
        return 32, 32, 32
    first = input_bits or cfg.activation_bits
    return bits, first, (ann_bits if net == "equivalent_ann" else cfg.activation_bits)


def memory_bits(layers: list, net: str, cfg: EnergyConfig, bits: int, input_bits: int, T: int,
                ann_bits: int) -> dict:
    """{kind: bits moved} of one network for one patch, from an energy report's per-layer counts."""
    out = dict.fromkeys(KINDS, 0.0)
    acc = cfg.accumulator_bits
    wb, first_in, act = _network_widths(cfg, net, bits, input_bits, ann_bits)
    if net == "snn":
        wb = bits or 32
    prev_neurons = 0.0
    for i, L in enumerate(layers):
        neurons, macs = float(L["neurons"]), float(L["cnn_macs"])
        hidden = L["role"] != "output"
        if net != "snn":
            out["weights"] += macs * wb
            out["inputs"] += macs * (first_in if i == 0 else act)
            out["neuron_state"] += neurons * (act if hidden else acc)
        else:
            if i == 0:
                out["weights"] += macs * wb
                out["inputs"] += macs * first_in
                out["neuron_state"] += neurons * acc * (1 + T)  # the stored current: written once, read every step
            else:
                out["weights"] += float(L.get("acs") or 0.0) * wb
                out["inputs"] += prev_neurons * T
            out["neuron_state"] += 2 * neurons * acc * T
            if hidden:
                out["spikes"] += neurons * T
        prev_neurons = neurons
    return out


def memory_report(layers: list, cfg: EnergyConfig, bits: int, input_bits: int, T: int, ann_bits: int,
                  compute_pj: dict, networks: tuple, ratio_names: dict) -> dict:
    """Bits moved and their energy per network (per patch), the memory-only ratios to the SNN, and, labelled
    apart, compute + memory. `compute_pj`: the complete convention's per-patch compute energy per network."""
    bits_by_net = {n: memory_bits(layers, n, cfg, bits, input_bits, T, ann_bits) for n in networks}
    pj = {size: {n: sum(b.values()) * per / 64.0 for n, b in bits_by_net.items()}
          for size, per in SRAM_PJ_PER_64_BITS.items()}
    head = pj[HEADLINE_SRAM]
    snn = max(head["snn"], 1e-30)
    both = {n: head[n] + compute_pj.get(n, 0.0) for n in networks}
    return {
        "description": "memory traffic per patch: every weight, input, membrane and spike access to one SRAM "
                       "(no register reuse), priced per bit; not part of any compute convention",
        "citation": CITATION, "headline_sram": HEADLINE_SRAM, "pj_per_64_bits": dict(SRAM_PJ_PER_64_BITS),
        "bits": bits_by_net,
        "pj": pj,
        "ratios": {r: head[n] / snn for n, r in ratio_names.items()},
        "compute_plus_memory_pj": both,
        "compute_plus_memory_ratios": {r: both[n] / max(both["snn"], 1e-30) for n, r in ratio_names.items()},
    }


def memory_lines(energy: dict) -> list:
    """The memory line of the CLI and the report: kept apart from the compute figures."""
    m = energy.get("memory")
    if not m:
        return []
    head = m["pj"][m["headline_sram"]]
    r, rb = m["ratios"], m["compute_plus_memory_ratios"]
    text = (f"memory traffic per patch ({m['headline_sram']} SRAM, not in the compute convention): SNN "
            f"{head['snn'] / 1e6:.4f} uJ; memory-only ratios to the SNN: " +
            ", ".join(f"{k.replace('_over_snn', '').replace('_', ' ')} {v:.2f}x" for k, v in r.items()))
    both = ("compute + memory (complete convention + SRAM traffic): " +
            ", ".join(f"{k.replace('_over_snn', '').replace('_', ' ')} {v:.2f}x" for k, v in rb.items()))
    return [text, both]
