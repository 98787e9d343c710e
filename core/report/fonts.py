"""Fonts for the report's figures: matplotlib's default sans-serif, then a CJK-capable fallback where one is
installed, so class names in CJK scripts draw as glyphs, not boxes.

Kept apart from the figures because it changes matplotlib settings: only inside an rc_context, so nothing global
is left changed (inside QGIS other plugins share matplotlib).
"""
from __future__ import annotations

from pathlib import Path


FALLBACK_FONTS = ("Droid Sans Fallback", "Noto Sans CJK JP", "Noto Sans CJK SC", "WenQuanYi Micro Hei")
"""Fonts tried, after the default, for glyphs it lacks (class names in CJK scripts; bootstrap installs Droid)."""


def _font_context():
    """Matplotlib settings for the report's figures only (rc_context: nothing global is left changed, e.g. in
    QGIS): the default sans-serif, then a CJK-capable fallback font where one is installed."""
    import matplotlib
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    if not have & set(FALLBACK_FONTS):  # installed after matplotlib cached its font list: add them now
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name for k in ("DroidSansFallback", "NotoSansCJK", "wqy-microhei")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass
        have = {f.name for f in font_manager.fontManager.ttflist}
    family = ["DejaVu Sans"] + [f for f in FALLBACK_FONTS if f in have]
    return matplotlib.rc_context({"font.family": family})
