"""What a run report holds: the report dict's schema, and `build_report`, which fills it from a trained model.

Every writer and reader of reports (the runs in workflows/, `html_report.render_html`, `training/trust.py`)
follows this schema, so it is written down once, here.

Report dict schema (every section optional; what is present is rendered):
  title           str
  created         str (ISO time)
  model           dict of settings (flat or nested), e.g. arch, patch_size, time_steps, weight_bits
  split_protocol  dict from `splits.Split.protocol` (description, method, seed, per_class, totals,
                  warnings, notes, ...)
  accuracy        dict from `metrics.Assessment.to_dict(class_names)`: oa, aa, kappa, oa_ci95,
                  kappa_ci95, n_test, class_values, class_names, per_class [{value, name,
                  producers_accuracy, users_accuracy, f1, support, predicted}], confusion, notes,
                  area_adjusted (optional, `area_accuracy.AreaAccuracy.to_dict`, or {error})
  energy          dict from `energy.energy_report` (every ratio labelled with its convention):
                    headline     {convention, view}
                    table        {name, title, citation, full_precision, ..., unit_pj {network: {op: pJ}}}
                    widths       {weight_bits, input_bits, input, cnn_activation_bits, accumulator_bits}
                    conventions  {paper|reuse|complete: {description, per_patch|per_map_pixel:
                                  {totals_pj {snn, cnn_q, cnn_fp}, ratios {fp_cnn_over_snn, q_cnn_over_snn}}}}
                    layers       [{name, kind, spike_rate, leak, leak_kind, snn_ops {op: count},
                                   cnn_q_ops, pj {snn, cnn_q, cnn_fp}, ...counts}]
                    by_kind_pj   {snn|cnn_q|cnn_fp: {op: pJ}}  (complete convention, per patch)
                    scene        {pixels, snn_mj, cnn_q_mj, cnn_fp_mj, basis} (optional)
                    leaks, first_layer_share, time_steps, weight_bits, notes
  comparison      dict from `pipeline.compare_with_baseline`: baselines [{kind, name, params, val_oa, oa,
                  mcnemar_snn_vs_baseline, verdict}], rows [{model, oa, aa, kappa, train_s, test_pixels_per_s}],
                  verdict (all of them), basis
  timing          dict of named durations/values (seconds unless the key says otherwise)
Accuracy values are fractions 0..1; energies are per classified pixel (one inference).
"""
from __future__ import annotations

import datetime as _dt
from typing import Optional


def build_report(model, test_snn, test_cnn,
                 energy: Optional[dict], timing: Optional[dict] = None, title: str = "HyperSNN report") -> dict:
    """The report dict of a training run: the trained model's summary and split protocol, the SNN's (and the
    CNN's) assessment, energy and timing."""
    names = [c["name"] for c in model.classes]
    m = model.meta
    rep = {
        "title": title,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model.summary(),
        "split_protocol": m.get("split_protocol", {}),
    }
    if test_snn is not None:
        rep["accuracy"] = test_snn.to_dict(names)
    if test_cnn is not None:
        rep["accuracy_cnn"] = test_cnn.to_dict(names)
    if energy is not None:
        rep["energy"] = energy
    if timing:
        rep["timing"] = timing
    return rep
