"""Memory traffic per inference: the bits each network reads and writes, priced from a stated SRAM table.

Why: "data movement dominates" is the usual answer to an SNN's compute-energy ratio (Yan et al., arXiv 2409.08290):
an SNN keeps a membrane potential per neuron across T steps, which a ReLU network never stores. This estimate
answers it from the same counted operations as the compute estimate (core/energy/costs.py) and is kept apart
from it: the compute conventions never include memory, and this line never includes compute (a third, labelled
figure adds the two).

How much a network moves depends on the hardware's dataflow, so two are given, the two ends of the range
(per patch, one classified pixel; every access goes to one on-chip SRAM):

- `no_reuse`: nothing stays in registers. Every multiply-accumulate reads its weight (k bits; 32 at full
  precision) and its input (the first layer: the input width; later layers: the previous layer's activation
  width: `activation_bits` for the k-bit CNN, ceil(log2(T + 1)) for the equivalent ANN, 32 for the FP32 CNN).
  The SNN's first layer does the same once (its weighted sum is reused over the T steps, as costed); a later SNN
  layer reads a weight per accumulate (per spike and synapse, event-driven) and one bit per presynaptic neuron and
  step (its spike).
- `reuse`: each weight is read once per patch and each activation written once and read once (perfect reuse,
  as a weight-stationary accelerator approaches). The SNN still writes and reads each spike bit at every step.

Both: the input patch is read once; the SNN reads and writes every neuron's membrane (`accumulator_bits`, or the
model's k-bit membrane width when it has one) at every
step and its first layer's stored current is written once and read at every step; a ReLU network writes each
neuron's activation once (the output layer's score at `accumulator_bits`), its partial sums staying in the MAC
unit.

Per-bit costs: M. Horowitz, ISSCC 2014 (45 nm): a 64-bit SRAM read costs 10 pJ (8 KB), 20 pJ (32 KB) or 100 pJ
(1 MB); writes are taken to cost as much as reads. The figures use the 32 KB array; the others are shown beside.
"""
from __future__ import annotations

from ..config.schema import EnergyConfig

SRAM_PJ_PER_64_BITS = {"8 KB": 10.0, "32 KB": 20.0, "1 MB": 100.0}
HEADLINE_SRAM = "32 KB"
CITATION = "M. Horowitz, Computing's energy problem (and what we can do about it), ISSCC 2014 (45 nm SRAM reads)"
KINDS = ("weights", "inputs", "neuron_state", "spikes")
DATAFLOWS = {"no_reuse": "every operand fetched per operation, no register reuse",
             "reuse": "each weight read once per patch, each activation written and read once"}


def _widths(cfg: EnergyConfig, net: str, bits: int, input_bits: int, ann_bits: int) -> tuple:
    """(weight bits, input bits, hidden activation bits) of one network."""
    if net == "cnn_fp" or not bits:
        return 32, 32, 32
    first = input_bits or cfg.activation_bits
    return bits, first, (ann_bits if net == "equivalent_ann" else cfg.activation_bits)


def memory_bits(layers: list, input_values: int, net: str, cfg: EnergyConfig, bits: int, input_bits: int, T: int,
                ann_bits: int, dataflow: str = "no_reuse", membrane_bits: int = 0) -> dict:
    """{kind: bits moved} of one network for one patch, from an energy report's per-layer counts."""
    out = dict.fromkeys(KINDS, 0.0)
    acc = cfg.accumulator_bits
    membrane = membrane_bits or acc
    wb, first_in, act = _widths(cfg, net, bits, input_bits, ann_bits)
    reuse = dataflow == "reuse"
    if reuse:
        out["inputs"] += input_values * first_in
    prev = 0.0
    for i, L in enumerate(layers):
        neurons, macs = float(L["neurons"]), float(L["cnn_macs"])
        hidden = L["role"] != "output"
        fired = float(L.get("acs") or 0.0)
        if reuse:
            out["weights"] += float(L["weights"]) * wb
        elif net != "snn" or i == 0:
            out["weights"] += macs * wb
            out["inputs"] += macs * (first_in if i == 0 else act)
        else:
            out["weights"] += fired * wb
        if net != "snn":
            out["neuron_state"] += neurons * (act if hidden else acc)
            if reuse and i > 0:
                out["inputs"] += prev * act  # each activation of the layer below read once
        else:
            if i == 0:
                out["neuron_state"] += neurons * acc * (1 + T)  # the stored current: written once, read every step
            elif not reuse:
                out["inputs"] += prev * T  # a spike bit per presynaptic neuron and step
            else:
                out["spikes"] += prev * T  # each spike bit read once per step
            out["neuron_state"] += 2 * neurons * membrane * T
            if hidden:
                out["spikes"] += neurons * T
        prev = neurons
    return out


def memory_report(layers: list, input_values: int, cfg: EnergyConfig, bits: int, input_bits: int, T: int,
                  ann_bits: int, compute_pj: dict, networks: tuple, ratio_names: dict, membrane_bits: int = 0) -> dict:
    """Per dataflow: bits moved and their energy per network (per patch), the memory-only ratios to the SNN and,
    labelled apart, compute + memory. `compute_pj`: the complete convention's per-patch compute energy."""
    out = {"description": "memory traffic per patch, every access to one SRAM priced per bit; not part of any "
                          "compute convention",
           "citation": CITATION, "headline_sram": HEADLINE_SRAM, "pj_per_64_bits": dict(SRAM_PJ_PER_64_BITS),
           "dataflows": {}}
    for flow, text in DATAFLOWS.items():
        moved = {n: memory_bits(layers, input_values, n, cfg, bits, input_bits, T, ann_bits, flow, membrane_bits)
                 for n in networks}
        pj = {size: {n: sum(b.values()) * per / 64.0 for n, b in moved.items()}
              for size, per in SRAM_PJ_PER_64_BITS.items()}
        head = pj[HEADLINE_SRAM]
        both = {n: head[n] + compute_pj.get(n, 0.0) for n in networks}
        out["dataflows"][flow] = {
            "description": text, "bits": moved, "pj": pj,
            "ratios": {r: head[n] / max(head["snn"], 1e-30) for n, r in ratio_names.items()},
            "compute_plus_memory_pj": both,
            "compute_plus_memory_ratios": {r: both[n] / max(both["snn"], 1e-30) for n, r in ratio_names.items()},
        }
    return out


def _ratios_text(r: dict) -> str:
    names = {"fp_cnn_over_snn": "FP32 CNN", "q_cnn_over_snn": "k-bit CNN", "equivalent_ann_over_snn": "equivalent ANN"}
    return ", ".join(f"{names.get(k, k)} {v:.2f}x" for k, v in r.items())


def memory_lines(energy: dict) -> list:
    """The memory lines of the CLI and the report, one per dataflow: kept apart from the compute figures."""
    m = energy.get("memory")
    if not m:
        return []
    lines = []
    for flow, d in m["dataflows"].items():
        snn = d["pj"][m["headline_sram"]]["snn"]
        lines.append(f"memory traffic per patch, {flow.replace('_', ' ')} ({d['description']}; {m['headline_sram']} "
                     f"SRAM; not in any compute convention): SNN {snn / 1e6:.3f} uJ; ratio to the SNN, memory only: "
                     f"{_ratios_text(d['ratios'])}; compute (complete) + memory: "
                     f"{_ratios_text(d['compute_plus_memory_ratios'])}")
    return lines
