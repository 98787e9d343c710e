"""What the commands show on the terminal: the progress bar, the log, the result as text or --json.

Progress and log go to stderr, the result to stdout, so that `--json` output stays one JSON object.
"""
from __future__ import annotations

import json
import sys

WARNING_PREFIX = "warning: "
"""How workflows.callbacks.Callbacks.warn starts a warning's log line."""


def progress_bar(enabled: bool):
    """tqdm on a terminal, silent otherwise (and in --json mode)."""
    if not enabled:
        return lambda f, m: None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=1000, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
               file=sys.stderr, dynamic_ncols=True)

    def progress(f, m):
        bar.n = int(1000 * min(max(f, 0.0), 1.0))
        bar.set_description_str(m[:40], refresh=False)
        bar.refresh()

    return progress, bar.close


def terminal_callbacks(args):
    from ..workflows.callbacks import Callbacks

    quiet = getattr(args, "json", False) or getattr(args, "quiet", False)
    progress, done = progress_bar(not quiet)

    def log(line: str) -> None:
        """--quiet and --json drop the progress and the log, never a warning (Callbacks.warn logs it so)."""
        if not quiet or line.startswith(WARNING_PREFIX):
            print(line, file=sys.stderr, flush=True)

    return Callbacks(progress=progress, log=log), done


def emit(args, human: str, data: dict):
    if getattr(args, "json", False):
        from ..core.io.jsonable import to_jsonable
        print(json.dumps(to_jsonable(data), indent=1))
    else:
        print(human)


def accuracy_line(a) -> str:
    """'OA .. AA .. kappa ..' from an accuracy dict or a core.metrics.Assessment."""
    get = a.get if isinstance(a, dict) else lambda k: getattr(a, k)
    return f"OA {100 * get('oa'):.2f} %  AA {100 * get('aa'):.2f} %  kappa {100 * get('kappa'):.2f}"


def area_lines(area: dict) -> str:
    """The area-adjusted table as text: one line per class, estimates with 95 % half-widths."""
    unit = area["area_unit"]
    lines = [f"area-adjusted OA {100 * area['oa']:.2f} % +- {100 * (area['oa_ci95'] or float('nan')):.2f} "
             f"(95 %); areas in {unit}"]
    for p in area["per_class"]:
        def pm(v, ci, scale=1.0, fmt=".1f"):
            return "n/a" if v is None else f"{scale * v:{fmt}} +- " + ("n/a" if ci is None else f"{scale * ci:{fmt}}")
        lines.append(f"  {p['value']:>3} {p['name'][:24]:<24} mapped {p['mapped_area']:.1f}  "
                     f"estimated {pm(p['area'], p['area_ci95'])}  "
                     f"UA {pm(p['users_accuracy'], p['users_ci95'], 100)} %  "
                     f"PA {pm(p['producers_accuracy'], p['producers_ci95'], 100)} %  (n={p['sample']})")
    return "\n".join(lines)
