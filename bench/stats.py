"""'mean +/- sample std' over seeds, the one formatter of every bench table (bench/report.py, its sections)."""
from __future__ import annotations

import statistics


def mean_std(vals, scale=1.0, digits=2, unit=""):
    """'mean +/- sample std' (n - 1) of a list; a single value without the std; missing values are skipped."""
    vals = [scale * v for v in vals if v is not None]
    if not vals:
        return "-"
    if len(vals) == 1:
        return f"{vals[0]:.{digits}f}{unit}"
    return f"{statistics.mean(vals):.{digits}f} +/- {statistics.stdev(vals):.{digits}f}{unit}"


def mean(vals):
    """The mean of the values that exist, or None."""
    vals = [v for v in vals if v is not None]
    return statistics.mean(vals) if vals else None
