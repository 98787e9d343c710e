"""The warnings that make a trained model's result untrustworthy, read from its report.

Why one place: the CLI, the top of the HTML report and the QGIS message bar must say the same thing, and a run
with any of these must never read as a plain success. Each warning names what is wrong and what to do.
"""
from __future__ import annotations

from typing import List

from ..data.splits import FEW_PIXELS as FEW_TRAINING  # declared once: a class with fewer cannot be learnt reliably


def trust_warnings(report: dict) -> List[str]:
    """Plain sentences, most serious first; empty when nothing undermines the result."""
    out: List[str] = []
    split = report.get("split_protocol") if isinstance(report.get("split_protocol"), dict) else {}
    check = split.get("validation_check") or {}
    # Map production (split 'cv') trains fixed epochs by design: nothing is held out, and the cross-validation
    # assesses that very procedure, so it is no fallback to warn about.
    if check.get("fallback") and split.get("method") != "cv":
        short = check.get("short_classes") or []
        out.append(f"Validation too small to decide ({check.get('pixels')} pixels"
                   + (f", {check.get('units')} whole unit(s) apart from training" if check.get("units") is not None
                      else "")
                   + f"; the minimum is {check.get('min_pixels')} pixels"
                   + (f" in {check.get('min_units')} units" if check.get("min_units") else "")
                   + (f" per class, and {len(short)} class(es) have fewer" if check.get("per_class") else "")
                   + "): no early stopping, fixed epochs (the fallback). Give independent validation polygons or "
                     "label more areas.")
    acc = report.get("accuracy") if isinstance(report.get("accuracy"), dict) else None
    if acc:
        never = [c["name"] for c in acc.get("per_class", []) if c.get("support") and not c.get("predicted")]
        if never:
            out.append(f"{len(never)} class(es) never predicted on the test pixels: {', '.join(never)}. The map "
                       "will not show them.")
    few = [row for row in split.get("per_class", []) if 0 < row.get("train", 0) + row.get("val", 0) < FEW_TRAINING]
    if few:
        names = _names(report)
        out.append("Too few training pixels for " + ", ".join(
            f"{names.get(r['class'], r['class'])} ({r['train'] + r['val']})" for r in few)
            + f": fewer than {FEW_TRAINING} cannot be learnt reliably.")
    for w in split.get("warnings", []):
        if w.startswith("Split 'auto'") or w.startswith("The leakage guard dropped") or "lies in a single fold" in w:
            out.append(w)
    comp = report.get("comparison") if isinstance(report.get("comparison"), dict) else None
    if comp:
        for b in comp.get("baselines", []):
            if str(b.get("verdict", "")).startswith("The SNN loses"):
                out.append(b["verdict"])
    return out


def _names(report: dict) -> dict:
    acc = report.get("accuracy") if isinstance(report.get("accuracy"), dict) else {}
    vals, names = acc.get("class_values") or [], acc.get("class_names") or []
    return {int(v): f"{v} ({n})" for v, n in zip(vals, names)}
