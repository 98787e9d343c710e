"""Compute-energy estimates from counted operations (core/energy/ops.py), per layer and per kind of operation.

Per-operation energies (45 nm CMOS): M. Horowitz, "Computing's energy problem (and what we can do about
it)", ISSCC 2014: FP32 multiply 3.7 pJ, FP32 add 0.9 pJ, INT32 multiply 3.1 pJ, INT32 add 0.1 pJ
(INT8: 0.2 and 0.03 pJ). Integer operations are scaled to their own widths: an a-bit x b-bit multiply
costs 3.1 pJ x a*b / 32^2 (an array multiplier grows with the product of the widths; INT8 gives
0.19 pJ against the table's 0.2), an n-bit add, compare or subtract 0.1 pJ x n / 32 (INT8 0.025 against
0.03). Memory access (weights, membrane potentials, spikes, activations) is not part of any convention, for
any network; core/energy/memory.py estimates it as a separate line. Preprocessing (standardisation, PCA), which
every network shares, is not counted.

Bit widths (config.EnergyConfig, stated in every report):
- weights: the model's k bits in both networks (iso-architecture); k = 0 means the table's full precision;
- input: the model's `input_bits` when it quantizes its input (ModelConfig.input_bits), otherwise the
  input features are real numbers and are costed as `activation_bits` fixed point;
- CNN activations: real numbers in training, costed as `activation_bits` (16) fixed point;
- accumulators and membrane potentials: `accumulator_bits` (16); every add, compare and reset is this wide.
A full-precision network (k = 0) does every operation at the table's full precision (FP32 or INT32).

Operations per layer:
- CNN: mac (dense multiply-accumulates), bias (one add per neuron), relu (one compare per hidden neuron).
- SNN: mac (first layer only: analog input); inject (the first layer's stored current added to the
  membrane, per neuron and step); ac (accumulates: spikes x fan-out, the readout's included); bias (per
  neuron and step after the first layer, whose bias is part of its stored current; the readout once);
  leak (per neuron and step: no operation for a leak of exactly 1, a shift and an add for 1 - 2^-n, a
  multiply otherwise); compare (threshold, per neuron and step); reset (soft reset: a subtract per spike).

Conventions (every ratio is labelled with one):
- paper: MACs and accumulates only, the analog first layer counted at every time step (the convention
  common for direct-input SNNs);
- reuse: MACs and accumulates only, the first layer's weighted sum computed once and reused over the T
  steps (what this code computes);
- complete: every operation above (the headline).
Views: per patch (one classified pixel = one patch inference, as in the SNN literature) and per map pixel
(what fully convolutional `classify` computes, each neuron once per image position; core/energy/ops.py).
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Optional

import numpy as np

from ..config.schema import ENERGY_TABLE_TITLES
from ..config.schema import ENERGY_TABLES as TABLES
from ..config.schema import EnergyConfig
from ..nn.equivalent_ann import equivalent_ann_bits
from ..nn.lif import leak_kind
from .memory import memory_lines, memory_report

CONVENTIONS = ("paper", "reuse", "complete")
HEADLINE = "complete"
CONVENTION_TEXT = {
    "paper": "MACs and accumulates only; the analog first layer counted at every time step",
    "reuse": "MACs and accumulates only; the first layer's weighted sum computed once and reused over T steps",
    "complete": "every operation: MACs, accumulates, current injection, bias adds, leak, threshold compares "
                "and resets (SNN); MACs, bias adds and ReLU compares (CNN)",
}
CITATION = "M. Horowitz, Computing's energy problem (and what we can do about it), ISSCC 2014 (45 nm CMOS)"
VIEWS = ("per_patch", "per_map_pixel")
NETWORKS = ("snn", "cnn_q", "cnn_fp", "equivalent_ann")
"""The SNN; the iso-architecture CNN at the SNN's weight bits with activation_bits activations; the same CNN in full
precision; and the equivalent low-bit ANN (Yan et al., arXiv 2409.08290): the same CNN with its hidden activations
quantized to ceil(log2(T + 1)) bits, as much information per neuron as T binary spikes carry."""
RATIOS = {"cnn_fp": "fp_cnn_over_snn", "cnn_q": "q_cnn_over_snn", "equivalent_ann": "equivalent_ann_over_snn"}


def resolve_table(cfg: EnergyConfig) -> EnergyConfig:
    """A named published table (its per-operation energies), with the caller's widths; or the caller's own
    values under any other name."""
    base = TABLES.get(cfg.table)
    if base is None:
        return cfg
    return EnergyConfig(**dict(asdict(base), accumulator_bits=cfg.accumulator_bits,
                               activation_bits=cfg.activation_bits))


def int_mult_pj(cfg: EnergyConfig, a: int, b: int) -> float:
    return cfg.int32_mult_pj * a * b / 1024.0


def int_add_pj(cfg: EnergyConfig, n: int) -> float:
    return cfg.int32_add_pj * n / 32.0


def unit_costs(cfg: EnergyConfig, bits: int, input_bits: int = 0, time_steps: int = 1, membrane_bits: int = 0) -> dict:
    """pJ per operation for each network: {network: {operation: pJ}}. The equivalent ANN's first layer sees the
    same input as the others; its later MACs multiply k-bit weights by ceil(log2(T + 1))-bit activations. A k-bit
    membrane (`membrane_bits`, which training saw: core/nn/lif.py) makes the SNN's adds k bits wide and its leak
    multiply k x k; the first layer's dot product stays in an `accumulator_bits` accumulator (its MAC)."""
    full = {"mac0": cfg.full_mult_pj + cfg.full_add_pj, "mac": cfg.full_mult_pj + cfg.full_add_pj,
            "add": cfg.full_add_pj, "mult": cfg.full_mult_pj}
    if not bits:
        q = dict(full)
    else:
        acc, act = cfg.accumulator_bits, cfg.activation_bits
        inb = input_bits or act
        q = {"mac0": int_mult_pj(cfg, bits, inb) + int_add_pj(cfg, acc),
             "mac": int_mult_pj(cfg, bits, act) + int_add_pj(cfg, acc),
             "add": int_add_pj(cfg, acc), "mult": int_mult_pj(cfg, acc, acc)}
    ann = dict(q, mac=int_mult_pj(cfg, bits, equivalent_ann_bits(time_steps)) + int_add_pj(cfg, cfg.accumulator_bits)) \
        if bits else dict(full)
    snn = dict(q, add=int_add_pj(cfg, membrane_bits), mult=int_mult_pj(cfg, membrane_bits, membrane_bits)) \
        if bits and membrane_bits else q
    return {"snn": snn, "cnn_q": q, "cnn_fp": full, "equivalent_ann": ann}


def layer_ops(layer: dict, index: int, network: str, convention: str, T: int, view: str) -> dict:
    """{operation kind: (count, unit cost key)} of one layer, per sample, in one view and convention."""
    fc = view == "per_map_pixel"
    neurons = layer["neurons_per_position"] if fc else layer["neurons"]
    macs = layer["fc_cnn_macs"] if fc else layer["cnn_macs"]
    hidden = layer["role"] != "output"
    complete = convention == "complete"
    ops = {}
    if network != "snn":
        ops["mac"] = (macs, "mac0" if index == 0 else "mac")
        if complete:
            ops["bias"] = (neurons, "add")
            if hidden:
                ops["relu"] = (neurons, "add")
        return ops
    if index == 0:
        ops["mac"] = (macs * (T if convention == "paper" else 1), "mac0")
        if complete:
            ops["bias"] = (neurons, "add")
            ops["inject"] = (neurons * T, "add")
    else:
        ops["ac"] = (layer["fc_acs"] if fc else layer["acs"], "add")
        if complete:
            ops["bias"] = (neurons * (T if hidden else 1), "add")
    if complete and hidden:
        kind = layer.get("leak_kind", "multiply")
        if kind != "none":
            ops["leak"] = (neurons * T, "add" if kind == "shift" else "mult")
        ops["compare"] = (neurons * T, "add")
        ops["reset"] = (layer["fc_spikes"] if fc else layer["spikes"], "add")
    return ops


def energy_report(counts: dict, cfg: Optional[EnergyConfig] = None, scene_pixels: Optional[int] = None) -> dict:
    """Energies per classified pixel (pJ) and ratios under each convention and view (core/report/schema.py's
    schema). `scene_pixels`: also estimate the whole classified scene's energy (mJ) from the per-map-pixel
    energies of the measured sample."""
    cfg = resolve_table(cfg or EnergyConfig())
    bits, input_bits, T = counts["weight_bits"], counts.get("input_bits", 0), counts["time_steps"]
    membrane_bits = counts.get("membrane_bits", 0)
    unit = unit_costs(cfg, bits, input_bits, T, membrane_bits)
    layers = []
    totals = {v: {c: {n: 0.0 for n in NETWORKS} for c in CONVENTIONS} for v in VIEWS}
    by_kind = {n: {} for n in NETWORKS}
    ops_map = {"snn": {}, "cnn": {}}
    for i, L in enumerate(counts["layers"]):
        for net in ops_map:
            for k, (n, _) in layer_ops(L, i, net, HEADLINE, T, "per_map_pixel").items():
                ops_map[net][k] = ops_map[net].get(k, 0.0) + float(n)
        row = {k: L[k] for k in ("name", "kind", "role", "spike_rate", "neurons", "neurons_per_position",
                                 "cnn_macs", "fc_cnn_macs", "spikes", "fc_spikes", "acs", "fc_acs", "fan_in",
                                 "out_channels", "weights") if k in L}
        for k in ("leak", "leak_kind", "threshold"):
            if k in L:
                row[k] = L[k]
        row["pj"] = {}
        for view in VIEWS:
            for conv in CONVENTIONS:
                for net in NETWORKS:
                    ops = layer_ops(L, i, "snn" if net == "snn" else "cnn", conv, T, view)
                    pj = sum(n * unit[net][key] for n, key in ops.values())
                    totals[view][conv][net] += pj
                    if view == "per_patch" and conv == HEADLINE:
                        row["pj"][net] = pj
                        row[f"{net}_ops"] = {k: n for k, (n, _) in ops.items()}
                        for k, (n, key) in ops.items():
                            by_kind[net][k] = by_kind[net].get(k, 0.0) + n * unit[net][key]
        layers.append(row)
    conventions = {}
    for conv in CONVENTIONS:
        conventions[conv] = {"description": CONVENTION_TEXT[conv]}
        for view in VIEWS:
            t = totals[view][conv]
            snn = max(t["snn"], 1e-30)
            conventions[conv][view] = {"totals_pj": dict(t),
                                       "ratios": {r: t[net] / snn for net, r in RATIOS.items()}}
    head = conventions[HEADLINE]["per_patch"]["totals_pj"]["snn"]
    first = layers[0]["pj"]["snn"] if layers else 0.0
    full = cfg.full_precision
    rep = {
        "headline": {"convention": HEADLINE, "view": "per_patch"},
        "table": {"name": cfg.table, "title": ENERGY_TABLE_TITLES.get(cfg.table, "custom values"),
                  "citation": CITATION, "full_precision": full, "full_mult_pj": cfg.full_mult_pj,
                  "full_add_pj": cfg.full_add_pj, "int32_mult_pj": cfg.int32_mult_pj,
                  "int32_add_pj": cfg.int32_add_pj,
                  "unit_pj": {n: {k: unit[n][k] for k in ("mac0", "mac", "add", "mult")} for n in NETWORKS}},
        "widths": {"weight_bits": bits, "input_bits": input_bits,
                   "input": f"{input_bits}-bit integers" if input_bits else
                            f"real-valued, costed as {cfg.activation_bits}-bit fixed point",
                   "cnn_activation_bits": cfg.activation_bits, "accumulator_bits": cfg.accumulator_bits,
                   "membrane_bits": membrane_bits,
                   "membrane": f"{membrane_bits}-bit with saturation (trained so)" if membrane_bits else
                               f"real-valued, costed as {cfg.accumulator_bits}-bit",
                   "equivalent_ann_activation_bits": equivalent_ann_bits(T)},
        "bits": bits,
        "weight_bits": bits,
        "time_steps": T,
        "pixels_measured": counts["pixels"],
        "conventions": conventions,
        "layers": layers,
        "by_kind_pj": by_kind,
        "ops_per_map_pixel": ops_map,
        "first_layer_share": first / max(head, 1e-30),
        "leaks": [{"layer": l["name"], "leak": l["leak"], "kind": l["leak_kind"]} for l in layers if "leak" in l],
        "notes": notes(cfg, bits, input_bits, T, layers, membrane_bits),
    }
    if counts.get("input_values") is not None:
        rep["input_values"] = counts["input_values"]
        rep["memory"] = memory_report(layers, counts["input_values"], cfg, bits, input_bits, T, equivalent_ann_bits(T),
                                      conventions[HEADLINE]["per_patch"]["totals_pj"], NETWORKS, RATIOS, membrane_bits)
    if scene_pixels is not None:
        rep["scene"] = scene_energy(rep, scene_pixels)
    return rep


def scene_energy(energy: dict, pixels: int, basis: str = "") -> dict:
    """Energy of a classified scene (mJ), complete convention, fully convolutional execution."""
    per = energy["conventions"][HEADLINE]["per_map_pixel"]["totals_pj"]
    return {"pixels": int(pixels), "convention": HEADLINE,
            **{f"{n}_mj": per[n] * pixels * 1e-9 for n in NETWORKS},
            "basis": basis or (f"mean per-map-pixel energy of {energy['pixels_measured']} sampled pixels x "
                               f"{pixels} classified pixels (window halo recomputation not included)")}


def leak_text(value: float, kind: str) -> str:
    """'0.9939 (multiply)'; a leak that costs a multiply never prints as a bare 1 (0.99996 -> 0.999960)."""
    text = f"{value:.4g}"
    if kind == "multiply" and float(text) == 1.0:
        text = f"{value:.6f}"
    return f"{text} ({kind})"


def notes(cfg, bits, input_bits, T, layers, membrane_bits: int = 0) -> list:
    full = cfg.full_precision
    leaks = ", ".join(f"{l['name']} {leak_text(l['leak'], l['leak_kind'])}" for l in layers if "leak" in l)
    return [
        f"Per-operation energies: {CITATION}. Integer multiplies scale with the product of the operand widths, "
        f"adds with the width. Memory access is not part of any compute convention (its own estimate, core/energy/"
        f"memory.py, is the separate memory line); preprocessing is not counted, for any network.",
        f"Widths: weights {bits or full} {'bits' if bits else ''}; input "
        f"{str(input_bits) + '-bit integers' if input_bits else f'real-valued, costed as {cfg.activation_bits}-bit fixed point'}; "
        f"CNN activations {cfg.activation_bits}-bit fixed point; accumulators {cfg.accumulator_bits} bits; SNN "
        + (f"membranes {membrane_bits} bits with saturation, which training saw: the SNN's accumulates, compares, "
           f"resets and leak are costed {membrane_bits} bits wide, its first layer's dot product in the "
           f"{cfg.accumulator_bits}-bit accumulator." if membrane_bits and bits else
           f"membranes {cfg.accumulator_bits} bits."),
        f"The equivalent ANN (Yan et al., arXiv 2409.08290) is the same CNN with its hidden activations quantized to "
        f"{equivalent_ann_bits(T)} bits (ceil(log2(T + 1)) for T={T}), as much information per neuron as T binary "
        "spikes; its operations are counted as the CNN's (dense MACs, bias adds, ReLU compares).",
        f"Full-precision networks are costed as {full} (table {cfg.table}).",
        "Conventions: " + "; ".join(f"{c}: {CONVENTION_TEXT[c]}" for c in CONVENTIONS) + f". Headline: {HEADLINE}.",
        "Per patch: one classified pixel = one patch inference (the literature's convention). Per map pixel: "
        "what fully convolutional classification computes, each neuron once per image position.",
        f"Leaks (T={T}): {leaks or 'none'}. A leak of exactly 1 costs nothing, 1 - 2^-n a shift and an add, "
        "any other value a multiply per neuron and step.",
    ]


def headline_ratio(energy: dict, which: str = "q_cnn_over_snn", convention: str = HEADLINE,
                   view: str = "per_patch") -> float:
    """One labelled ratio from an energy report."""
    return energy["conventions"][convention][view]["ratios"][which]


def ratio_text(energy: dict, convention: str = HEADLINE, view: str = "per_patch") -> str:
    """'SNN is Ax below the FP32 CNN and Bx below the 6-bit CNN (complete convention, per patch)'."""
    r = energy["conventions"][convention][view]["ratios"]
    full = energy["table"].get("full_precision", "FP32")
    bits = energy.get("weight_bits")
    q = f"{bits}-bit" if bits else full
    ann = r.get("equivalent_ann_over_snn")
    ann = (f", {ann:.2f}x below the equivalent {equivalent_ann_label(energy)} ANN" if ann is not None else "")
    return (f"SNN is {r['fp_cnn_over_snn']:.1f}x below the {full} CNN and {r['q_cnn_over_snn']:.1f}x below the "
            f"{q} CNN{ann} ({convention} convention, {view.replace('_', ' ')})")


def equivalent_ann_label(energy: dict) -> str:
    """'3-bit-activation': what the equivalent ANN of an energy report is (older reports lack its width)."""
    a = (energy.get("widths") or {}).get("equivalent_ann_activation_bits") or equivalent_ann_bits(
        energy.get("time_steps") or 1)
    return f"{a}-bit-activation"


def model_file_summary(energy: dict) -> dict:
    """What a model file keeps of its training run's energy report: every convention's per-patch and
    per-map-pixel totals and ratios, the widths, the table and the leaks (no per-layer detail)."""
    keep = ("headline", "conventions", "widths", "time_steps", "weight_bits", "pixels_measured", "leaks",
            "first_layer_share", "equivalent_ann_accuracy")
    out = {k: energy[k] for k in keep if k in energy}
    out["table"] = {k: energy["table"][k] for k in ("name", "title", "full_precision")}
    return out


def pixel_energy_maps(net, tally, cfg: Optional[EnergyConfig] = None):
    """(energy pJ, spikes) maps of one classified window from core/energy/ops.window_op_maps: every operation of the
    complete convention, charged to the map pixel where it happens (the same op definitions as the report)."""
    cfg = resolve_table(cfg or EnergyConfig())
    unit = unit_costs(cfg, net.bits, net.input_bits, membrane_bits=net.membrane_bits)["snn"]
    params = net.neuron_params()
    shape = next(m.shape for m in tally.spike_maps if m is not None)
    energy = 0.0
    spikes = 0.0
    for i, sp in enumerate(net.specs):
        hidden = sp.role != "output"
        L = {"role": sp.role, "neurons_per_position": tally.per_position[i],
             "fc_cnn_macs": float(tally.per_position[i] * sp.fan_in),
             "fc_acs": tally.ac_maps[i] if tally.ac_maps[i] is not None else 0.0,
             "fc_spikes": tally.spike_maps[i] if hidden else None}
        if hidden:
            L["leak_kind"] = leak_kind(params[i]["leak"])
            spikes = spikes + tally.spike_maps[i]
        for n, key in layer_ops(L, i, "snn", HEADLINE, net.time_steps, "per_map_pixel").values():
            energy = energy + n * unit[key]
    return (np.broadcast_to(np.asarray(energy, np.float64), shape).copy(),
            np.broadcast_to(np.asarray(spikes, np.float64), shape).copy())


def reprice(energy: dict, cfg: EnergyConfig) -> dict:
    """The same counted operations under another table or other widths (the report keeps every count)."""
    counts = {"pixels": energy["pixels_measured"], "time_steps": energy["time_steps"],
              "weight_bits": energy["weight_bits"], "input_bits": energy["widths"]["input_bits"],
              "membrane_bits": energy["widths"].get("membrane_bits", 0),
              "input_values": energy.get("input_values"), "layers": energy["layers"]}
    return energy_report(counts, cfg)


def energy_lines(energy: dict) -> list:
    """Human-readable lines, every ratio labelled with its convention (CLI, demo, plugin log)."""
    full = energy["table"].get("full_precision", "FP32")
    bits = energy.get("weight_bits")
    q = f"{bits}-bit" if bits else full
    head = energy["conventions"][HEADLINE]["per_patch"]["totals_pj"]
    lines = [f"energy per classified pixel, {HEADLINE} convention, per patch (table {energy['table']['name']}): "
             f"{full} CNN {head['cnn_fp'] / 1e6:.3f} uJ, {q} CNN {head['cnn_q'] / 1e6:.3f} uJ, "
             + (f"equivalent {equivalent_ann_label(energy)} ANN {head['equivalent_ann'] / 1e6:.4f} uJ, "
                if "equivalent_ann" in head else "") + f"SNN {head['snn'] / 1e6:.4f} uJ"]
    for conv in (HEADLINE,) + tuple(c for c in CONVENTIONS if c != HEADLINE):
        for view in VIEWS:
            lines.append("  " + ratio_text(energy, conv, view))
    acc = energy.get("equivalent_ann_accuracy")
    if acc:
        lines.append(f"  equivalent {equivalent_ann_label(energy)} ANN, trained (QAT) on the same pixels: test OA "
                     f"{100 * acc['oa']:.2f} % (SNN {100 * acc['snn_oa']:.2f} %)" if acc.get("snn_oa") is not None
                     else f"  equivalent ANN test OA {100 * acc['oa']:.2f} %")
    lines += ["  " + line for line in memory_lines(energy)]
    wins = where_snn_wins(energy)
    if wins:
        lines.append("  " + wins)
    if energy.get("leaks"):
        lines.append("  leaks: " + ", ".join(f"{l['layer']} {leak_text(l['leak'], l['kind'])}" for l in energy["leaks"]))
    sc = energy.get("scene")
    if sc:
        lines.append(f"  scene ({sc['pixels']} pixels, {sc['convention']} convention, fully convolutional): SNN "
                     f"{sc['snn_mj']:.4f} mJ, {q} CNN {sc['cnn_q_mj']:.4f} mJ, {full} CNN {sc['cnn_fp_mj']:.3f} mJ"
                     + (f", equivalent ANN {sc['equivalent_ann_mj']:.4f} mJ" if "equivalent_ann_mj" in sc else ""))
    return lines


def where_snn_wins(energy: dict) -> str:
    """One sentence from this run's numbers: where the SNN spends less than the equivalent low-bit ANN and where it
    does not (compute under the headline convention; memory traffic at both ends of the dataflow range)."""
    r = energy["conventions"][HEADLINE]["per_patch"]["ratios"].get("equivalent_ann_over_snn")
    flows = (energy.get("memory") or {}).get("dataflows") or {}
    if r is None:
        return ""
    wins, loses = [], []
    (wins if r > 1 else loses).append(f"compute ({HEADLINE} convention): the equivalent ANN spends {r:.2f}x the SNN's")
    for flow, d in flows.items():
        b = d["compute_plus_memory_ratios"]["equivalent_ann_over_snn"]
        how = "with no operand reuse" if flow == "no_reuse" else "when each weight and activation is moved once"
        (wins if b > 1 else loses).append(f"compute + memory {how}: {b:.2f}x")
    text = f"Against the equivalent {equivalent_ann_label(energy)} ANN (per patch), the SNN wins on "
    text += "; ".join(wins) if wins else "nothing measured here"
    return text + (f"; it does not on {'; '.join(loses)} (the SNN's membranes are read and written at every step)."
                   if loses else ".")


def flat_summary(energy: dict) -> dict:
    """Labelled ratios as flat keys, e.g. complete_q_cnn_over_snn, paper_fp_cnn_over_snn_map (summaries)."""
    out = {}
    for conv in CONVENTIONS:
        for view in VIEWS:
            sfx = "" if view == "per_patch" else "_map"
            for k, v in energy["conventions"][conv][view]["ratios"].items():
                out[f"{conv}_{k}{sfx}"] = v
    return out
