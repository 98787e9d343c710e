"""Rewrite the README's results tables from the demo's summary.json and the bench's results JSON (no number
is typed by hand).

usage: python scripts/readme_results.py demo_out/summary.json [README.md] [docs/results.json]
"""
import json
import platform
import sys
from pathlib import Path

START, END = "<!-- results:start -->", "<!-- results:end -->"
BENCH_START, BENCH_END = "<!-- bench:start -->", "<!-- bench:end -->"
ROOT = Path(__file__).resolve().parents[1]


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
    ]
    rates = ", ".join(f"{k} {v:.3f}" for k, v in s.get("spike_rates", {}).items())
    notes = [
        "",
        f"Split: {s.get('split')}",
        f"Spike rate per layer and step: {rates}.",
        "Training and classification times: see the benchmark block below (`make demo` prints its own).",
        f"Machine: {platform.machine()}, {s.get('cpu_threads', '?')} torch threads; produced by "
        "`make demo && make results` (the paper's energy ratios average three scenes and use their own "
        "operation costs; ours are per pixel on Indian Pines with the 45 nm table in core/energy.py).",
    ]
    return "\n".join(rows + notes)


def replace_block(text: str, start: str, end: str, body: str, where) -> str:
    if start not in text or end not in text:
        sys.exit(f"{where} has no {start} ... {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def main():
    summary = json.loads(Path(sys.argv[1]).read_text())
    readme = Path(sys.argv[2] if len(sys.argv) > 2 else "README.md")
    bench = Path(sys.argv[3] if len(sys.argv) > 3 else ROOT / "docs" / "results.json")
    text = replace_block(readme.read_text(), START, END, table(summary), readme)
    if bench.is_file():
        sys.path.insert(0, str(ROOT))
        from bench.report import readme_summary
        text = replace_block(text, BENCH_START, BENCH_END, readme_summary(json.loads(bench.read_text())), readme)
    readme.write_text(text)
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
