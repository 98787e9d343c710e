"""The project's colours: one palette for classes (maps, legends, reports, training layers) and one for charts.

Colours from the user's class table or layer style always win. Otherwise a class whose name makes its land
cover clear gets a colour that means it (`class_colors`: water blue, vegetation green, built-up red...), and any
other class k (1-based) gets entry k of a fixed palette, so a class keeps its colour from the training layer to
the class map and the report. No numpy or Qt: the plugin uses it before the engine loads.
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


# Land-cover meanings a name makes clear, each with shades (distinct classes of one kind stay distinguishable).
# The first word of a name that belongs to a kind decides ("Buildings-Grass-Trees-Drives" is built-up).
_THEMES = (
    ("water", ("water", "river", "lake", "sea", "pond", "reservoir", "canal", "stream", "ocean", "wetland", "marsh"),
     [(31, 120, 180), (0, 80, 160), (110, 175, 230), (0, 150, 200), (45, 60, 140)]),
    ("trees", ("tree", "forest", "wood", "woodland", "shrub", "bush", "orchard", "conifer", "coniferous", "deciduous",
               "broadleaf", "hedge"),
     [(26, 110, 50), (0, 80, 35), (70, 140, 60), (40, 95, 75), (95, 120, 40)]),
    ("grass", ("grass", "grassland", "meadow", "pasture", "lawn", "vegetation", "herbaceous", "park", "green",
               "heath", "moss"),
     [(125, 200, 90), (165, 220, 115), (90, 175, 110), (190, 235, 150), (140, 190, 60)]),
    ("crops", ("crop", "cropland", "corn", "maize", "soy", "soybean", "wheat", "oat", "hay", "alfalfa", "rice",
               "barley", "rapeseed", "rye", "field", "farmland", "arable", "agriculture", "agricultural", "vineyard",
               "potato", "sugar", "beet", "cotton", "sunflower", "fallow"),
     [(220, 205, 60), (240, 225, 120), (190, 200, 50), (235, 180, 70), (205, 215, 110), (170, 160, 40),
      (245, 200, 130), (200, 170, 90)]),
    ("built", ("building", "roof", "urban", "built", "house", "residential", "industrial", "commercial", "settlement",
               "city", "tower", "structure", "steel", "construction", "brick", "metal"),
     [(215, 45, 40), (170, 25, 35), (240, 110, 90), (150, 60, 70)]),
    ("paved", ("road", "pavement", "paved", "asphalt", "street", "impervious", "sealed", "parking", "concrete",
               "railway", "rail", "drive", "track", "runway", "sidewalk", "bitumen"),
     [(128, 128, 128), (90, 90, 95), (175, 175, 175), (110, 110, 130)]),
    ("bare", ("bare", "soil", "sand", "rock", "gravel", "dirt", "earth", "quarry", "sediment", "dune",
              "mine", "clay"),
     [(165, 115, 60), (135, 85, 45), (205, 165, 105), (115, 80, 45)]),
    ("shadow", ("shadow", "shade"), [(55, 55, 65)]),
    ("snow", ("snow", "ice", "glacier"), [(225, 240, 250), (200, 225, 245)]),
    ("cloud", ("cloud", "clouds"), [(245, 245, 245)]),
)
_WORD_THEME = {w: i for i, (_, words, _) in enumerate(_THEMES) for w in words}


def land_cover_kind(name: str):
    """The kind of land cover a class name makes clear ('water', 'trees', 'grass', 'crops', 'built', 'paved',
    'bare', 'shadow', 'snow', 'cloud'), or None."""
    i = _theme_index(name)
    return None if i is None else _THEMES[i][0]


def _theme_index(name):
    import re

    for word in re.findall(r"[a-z]+", str(name or "").lower()):
        for w in (word, word[:-1] if word.endswith("s") else word, word[:-2] if word.endswith("es") else word):
            if w in _WORD_THEME:
                return _WORD_THEME[w]
    return None


def class_colors(classes) -> dict:
    """{value: (r, g, b)} for (value, name) pairs: a class whose name makes its land cover clear gets that kind's
    colour (water blue, trees and grass greens, crops yellow-green, built-up red, paved grey, bare soil brown), in
    distinct shades when several share a kind; every other class gets its default colour (class_color). A kind
    with more classes than it has shades (Indian Pines' ten crops) says which kind, not which class: its classes
    all keep their default colours, which tell them apart."""
    pairs = sorted((int(v), n) for v, n in classes)
    kinds = {v: _theme_index(n) for v, n in pairs}
    count = {}
    for i in kinds.values():
        count[i] = count.get(i, 0) + 1
    used = {}
    out = {}
    for v, _ in pairs:
        i = kinds[v]
        if i is not None and count[i] <= len(_THEMES[i][2]):
            out[v] = _THEMES[i][2][used.get(i, 0)]
            used[i] = used.get(i, 0) + 1
        else:
            out[v] = class_color(v)
    return out


CHART_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c",
                "#ccb974", "#64b5cd")
"""Series colours of the report's charts (not classes)."""
