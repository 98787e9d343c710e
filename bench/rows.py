"""Rows files written one JSON object per line (the screens' and the validation rows: appended by processes that
may run side by side)."""
from __future__ import annotations

import json
from pathlib import Path


def json_lines(path) -> list:
    """Every row of a JSON-lines file, blank lines skipped."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
