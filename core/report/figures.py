"""The report's figures as PNG bytes: class map, confusion matrix, producer's and user's accuracy, spike rate
and energy charts.

Matplotlib's Agg canvas on a bare Figure, never pyplot, so no global backend is touched inside QGIS; the page
embeds the PNGs (`formatting._img`). Callers render inside `fonts._font_context()`.
"""
from __future__ import annotations

import io
import math
import textwrap

import numpy as np

from ..errors import OutputError
from .formatting import _si
from .palette import CHART_COLORS, class_color


def _figure(w=6.4, h=3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _class_map_png(cmap, classes, nodata, max_side):
    if cmap.ndim != 2:
        raise OutputError(f"The class map for the report must be 2-D (rows, cols), got shape {cmap.shape}")
    step = max(1, math.ceil(max(cmap.shape) / max(int(max_side), 1)))
    sub = cmap[::step, ::step]
    rgb = np.full(sub.shape + (3,), 255, np.uint8)
    known = {c["value"]: c for c in classes}
    handles = []
    from matplotlib.patches import Patch

    present = [int(v) for v in np.unique(sub) if v != nodata]
    other = False
    for i, v in enumerate(present):
        c = known.get(v)
        if c is None:
            rgb[sub == v] = (128, 128, 128)
            other = True
            continue
        color = c["color"] or class_color(v)
        rgb[sub == v] = color
        handles.append(Patch(facecolor=np.asarray(color) / 255, edgecolor="k", label=f"{v}: {c['name']}"))
    if other:
        handles.append(Patch(facecolor=(0.5, 0.5, 0.5), edgecolor="k", label="other values"))
    h, w = sub.shape
    fw = 8.0
    fh = max(2.5, min(10.0, fw * 0.75 * h / max(w, 1)))
    fig = _figure(fw, fh)
    ax = fig.add_subplot(111)
    ax.imshow(rgb, interpolation="nearest")
    ax.set_axis_off()
    if step > 1:
        ax.set_title(f"(every {step}th pixel shown)", fontsize=8)
    if handles:
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    return _png(fig)


def _confusion_png(cm, names):
    k = cm.shape[0]
    side = min(12.0, 2.5 + 0.45 * k)
    fig = _figure(side + 1, side)
    ax = fig.add_subplot(111)
    rows = cm.sum(1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of reference row")
    if k <= 30:
        fs = 8 if k <= 12 else 6
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=fs,
                            color="white" if frac[i, j] > 0.5 else "black")
    labels = [n if len(n) <= 18 else n[:17] + "…" for n in names[:k]] + [str(i) for i in range(len(names), k)]
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("Reference")
    return _png(fig)


def _pa_ua_png(per):
    k = len(per)
    x = np.arange(k)
    pa = [np.nan if p.get("producers_accuracy") is None else 100 * p["producers_accuracy"] for p in per]
    ua = [np.nan if p.get("users_accuracy") is None else 100 * p["users_accuracy"] for p in per]
    fig = _figure(max(6.4, 0.5 * k + 2), 3.6)
    ax = fig.add_subplot(111)
    ax.bar(x - 0.2, pa, 0.4, label="Producer's accuracy", color=CHART_COLORS[0])
    ax.bar(x + 0.2, ua, 0.4, label="User's accuracy", color=CHART_COLORS[1])
    ax.set_xticks(x)
    ax.set_xticklabels([str(p.get("name", p.get("value")))[:18] for p in per], rotation=60, ha="right", fontsize=7)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def _spike_rate_png(layers):
    names = [str(x.get("name", i)) for i, x in enumerate(layers)]
    rates = [np.nan if x.get("spike_rate") is None else float(x["spike_rate"]) for x in layers]
    fig = _figure(max(6.4, 0.5 * len(layers) + 2), 3.2)
    ax = fig.add_subplot(111)
    ax.bar(range(len(layers)), rates, color=CHART_COLORS[2])
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("Spikes per neuron per time step")
    ax.set_title("Spike rate per layer", fontsize=9)
    return _png(fig)


def _energy_total_png(labels, vals):
    v = [float(x) if isinstance(x, (int, float)) and x > 0 else np.nan for x in vals]
    fig = _figure(5.0, 3.2)
    ax = fig.add_subplot(111)
    bars = ax.bar(range(len(v)), v, color=[CHART_COLORS[i % len(CHART_COLORS)] for i in range(len(v))])
    ax.set_yscale("log")
    pos = [x for x in v if not math.isnan(x)]
    ax.set_ylim(min(pos) / 10, max(pos) * 3)
    ax.set_xticks(range(len(v)))
    ax.set_xticklabels([textwrap.fill(str(l), 16) for l in labels], fontsize=8)
    ax.set_ylabel("Energy per pixel (pJ, log scale)")
    for b, val in zip(bars, v):
        if not math.isnan(val):
            ax.annotate(_si(val * 1e-12, "J"), (b.get_x() + b.get_width() / 2, val), ha="center",
                        va="bottom", fontsize=8)
    return _png(fig)


def _energy_layers_png(labels, layers, keys=("cnn_fp", "cnn_q", "snn")):
    fig = _figure(6.4, 3.8)
    ax = fig.add_subplot(111)
    bottom = np.zeros(len(keys))
    for i, x in enumerate(layers):
        vals = np.array([float((x.get("pj") or {}).get(k) or 0.0) for k in keys])
        ax.bar(range(len(keys)), vals, 0.6, bottom=bottom, label=str(x.get("name", i)),
               color=CHART_COLORS[i % len(CHART_COLORS)], edgecolor="white", linewidth=0.5)
        bottom += vals
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([textwrap.fill(str(l), 16) for l in labels], fontsize=8)
    ax.set_ylabel("Energy per pixel (pJ)")
    ax.set_title("Energy by layer", fontsize=9)
    if len(layers) <= 20:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _png(fig)
