"""The project's colours: one palette for classes (maps, legends, reports, training layers) and one for charts.

Class k (1-based) always gets the same colour, whatever else is on the map, so a class keeps its colour from
the training layer to the class map and the report. No numpy or Qt: the plugin uses it before the engine loads.
"""
from __future__ import annotations

import colorsys
from typing import List

_BASE_COLORS = [
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255),
    (170, 110, 40), (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0), (255, 215, 180),
    (0, 0, 128), (128, 128, 128),
]


def default_colors(n: int) -> List[tuple]:
    """`n` distinct colours, always the same for the same n (class k gets entry k-1)."""
    out = list(_BASE_COLORS[:n])
    golden = 0.618033988749895
    i = 0
    while len(out) < n:
        h = (i * golden) % 1.0
        s = 0.55 + 0.35 * ((i // 7) % 2)
        v = 0.95 - 0.25 * ((i // 3) % 2)
        r, g, b = colorsys.hsv_to_rgb(h, s, v)
        out.append((int(round(r * 255)), int(round(g * 255)), int(round(b * 255))))
        i += 1
    return out


def class_color(value: int) -> tuple:
    """The default (r, g, b) of class `value` (values below 1 get class 1's)."""
    v = max(int(value), 1)
    return default_colors(v)[v - 1]


CHART_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c",
                "#ccb974", "#64b5cd")
"""Series colours of the report's charts (not classes)."""
