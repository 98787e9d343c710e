"""JSON coercion: the two rules for turning engine values (numpy, paths, dataclasses) into JSON, side by side.

They differ on purpose, because their files are read differently:

- `to_jsonable` (reports, the CLI's `--json`, the demo and bench summaries): anything becomes plain JSON types.
  NaN and infinity become null (strict JSON, readable by any tool) and an unknown object becomes its text, so a
  report is never lost to one odd value.
- `json_default` (the model file, `core/models/modelfile.py`, as `json.dumps(default=...)`): only numpy scalars,
  arrays and paths are converted; anything else raises TypeError, and NaN stays NaN, so what is saved reads
  back as the same values or is refused when written.

Both live here, in `core/io` beside the atomic writes, so that the model file (core/models) and the report
(core/report) share them without the model file importing the report package.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np


def to_jsonable(obj):
    """Plain JSON types from numpy scalars/arrays, dataclasses, tuples, paths; NaN/inf -> None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def json_default(o):
    """`json.dumps(default=json_default)`: numpy scalars and arrays, paths; anything else is refused."""
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
