"""Rewrite the README's results table from the demo's summary.json (no number is typed by hand).

usage: python scripts/readme_results.py demo_out/summary.json [README.md]
"""
import json
import platform
import sys
from pathlib import Path

START, END = "<!-- results:start -->", "<!-- results:end -->"


def table(s: dict) -> str:
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    rows = [
        "| metric | HyperSNN demo (measured) | Hyper-SNN paper target |",
        "|---|---|---|",
        f"| OA % (SNN, T=5, 6-bit) | {pct(s['oa'])} | 98.68 |",
        f"| AA % | {pct(s['aa'])} | 98.34 |",
        f"| kappa x 100 | {pct(s['kappa'])} | 98.20 |",
        f"| OA % of the 6-bit CNN it was converted from | {pct(s['cnn_oa'])} | - |",
        f"| compute energy, FP32 CNN / SNN | {s['energy_ratio_fp_cnn_over_snn']:.1f}x | 560.6x |",
        f"| compute energy, 6-bit CNN / SNN | {s['energy_ratio_q_cnn_over_snn']:.1f}x | 44.8x |",
        f"| wall time of `make demo` run (s) | {s['seconds']:.0f} | - |",
    ]
    st = s.get("stage_seconds", {})
    if st:
        rows.append("| stage times (s): CNN / conversion / SNN / classify scene | "
                    f"{st.get('cnn', 0):.0f} / {st.get('convert', 0):.0f} / {st.get('snn', 0):.0f} / "
                    f"{st.get('classify', 0):.1f} | - |")
    rates = ", ".join(f"{k} {v:.3f}" for k, v in s.get("spike_rates", {}).items())
    notes = [
        "",
        f"Split: {s.get('split')}",
        f"Spike rate per layer and step: {rates}.",
        f"Machine: {platform.machine()}, {s.get('cpu_threads', '?')} torch threads; produced by "
        "`make demo && make results` (the paper's energy ratios average three scenes and use their own "
        "operation costs; ours are per pixel on Indian Pines with the 45 nm table in core/energy.py).",
    ]
    return "\n".join(rows + notes)


def main():
    summary = json.loads(Path(sys.argv[1]).read_text())
    readme = Path(sys.argv[2] if len(sys.argv) > 2 else "README.md")
    text = readme.read_text()
    if START not in text or END not in text:
        sys.exit(f"{readme} has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table(summary)}\n{END}{tail}")
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
