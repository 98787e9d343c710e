"""The equivalent low-bit ANN beside the SNN: the default and the `efficient` preset, full epochs, the headline seeds.

Each row trains the front's candidate again with `baseline.equivalent_ann` on (the same network as a CNN with
ceil(log2(T + 1))-bit activations and the SNN's 6-bit weights, QAT from the same CNN for the SNN stage's epochs;
core/nn/equivalent_ann.py). The CNN and SNN stages resume from the front's checkpoints when their settings and data
match, so the SNN is the front row's own SNN and only the ANN trains. Its test accuracy and its energy ratio to the
SNN (complete convention, per patch; and the memory-traffic line, apart) are what a sceptic asks for (Yan et al.,
arXiv 2409.08290).
"""
from __future__ import annotations

from bench import front as F


def candidates(selection: dict) -> list:
    """(name, settings): the default and the preset the front's rule chose (`efficient`)."""
    chosen = (selection or {}).get("settings") or {"train.time_steps": 2}
    return [("default", {}), (f"efficient ({(selection or {}).get('chosen') or 'T=2'})", dict(chosen))]


def equivalent_ann_rows(reader, labels, seeds, quick, selection, train_row, headline_config, has, scratch, say):
    for seed in seeds:
        for name, settings in candidates(selection):
            label = f"{name} | seed {seed}"
            if has(label):
                continue
            cfg = F.apply(headline_config("hybrid", 0.3, seed, quick), settings)
            cfg.baseline.equivalent_ann = True
            say(f"[equivalent_ann] {label}")
            row = train_row(reader, labels, cfg, label,
                            checkpoint_dir=scratch / "ckpt" / f"seed{seed}" / F.cnn_group(settings))
            yield dict(row, candidate=name, settings=settings)
