"""One model summary: what a model reads and is, built once (`model_summary`, from the torch model or from the
checked model record) and shown one way (`summary_rows`) by `hypersnn info`, the Classify dialog and the report's
model section, so the three never disagree on what a model is."""
from __future__ import annotations

from typing import List, Optional, Tuple

from .record import _ranges, _wl_range


def model_summary(*, arch, patch_size, time_steps, weight_bits, bands, in_features, classes, layers, neurons,
                  leak_mode, input_bits, engine, membrane_bits=0) -> dict:
    """The summary's keys, whichever engine holds the model (`bands`: the model's band contract)."""
    return {"architecture": arch, "patch_size": patch_size, "time_steps": time_steps,
            "weight_bits": weight_bits or "full precision", "input_bands": bands.source_count,
            "bands_used": len(bands.indices), "band_ranges": _ranges(bands.indices),
            "wavelength_range_nm": _wl_range(bands.wavelengths), "features_after_preprocessing": in_features,
            "classes": [f"{c['value']}: {c['name']}" for c in classes], "layers": layers, "neurons": neurons,
            "leak_mode": leak_mode, "input_bits": input_bits or "real-valued",
            "membrane_bits": membrane_bits or "real-valued", "engine": engine}


def _bits(v) -> str:
    return f"{v}-bit" if isinstance(v, int) and not isinstance(v, bool) else str(v)


def summary_rows(s: dict, metrics: Optional[dict] = None, created: Optional[str] = None) -> List[Tuple[str, str]]:
    """(label, text) rows of a summary, in reading order; rows whose values the summary lacks (a report from an
    older version) are left out. `metrics`: the model file's metrics (its test accuracy is shown)."""
    rows = []
    if "bands_used" in s:
        rows.append(("Bands", f"{s['bands_used']} of a {s.get('input_bands')}-band raster: {s.get('band_ranges')}"))
    if "wavelength_range_nm" in s:
        wl = s["wavelength_range_nm"]
        rows.append(("Wavelengths",
                     f"{wl[0]:.1f}-{wl[1]:.1f} nm" if wl else "not recorded (raster had no wavelengths)"))
    if "time_steps" in s:
        rows.append(("Time steps", str(s["time_steps"])))
    if "weight_bits" in s:
        rows.append(("Weight bits", _bits(s["weight_bits"])))
    if "input_bits" in s:
        rows.append(("Input", _bits(s["input_bits"])))
    if "leak_mode" in s:
        rows.append(("Leak", str(s["leak_mode"])))
    if "membrane_bits" in s:
        rows.append(("Membrane", _bits(s["membrane_bits"]) + (" with saturation" if isinstance(
            s["membrane_bits"], int) else "")))
    arch = [str(s["architecture"])] if s.get("architecture") else []
    arch += [f"patch {s['patch_size']} px"] if s.get("patch_size") else []
    arch += [f"{s['features_after_preprocessing']} features after preprocessing"] \
        if s.get("features_after_preprocessing") else []
    if arch:
        rows.append(("Architecture", ", ".join(arch)))
    if s.get("engine"):
        rows.append(("Engine", str(s["engine"])))
    test = (metrics or {}).get("test_snn")
    if test:
        aa = f", AA {100 * test['aa']:.1f} %" if test.get("aa") is not None else ""
        rows.append(("Test accuracy", f"OA {100 * test['oa']:.1f} %{aa}, kappa {test['kappa']:.3f}"))
    if s.get("classes"):
        rows.append(("Classes", f"{len(s['classes'])}: " + "; ".join(s["classes"])))
    if created:
        rows.append(("Created", str(created)))
    return rows
