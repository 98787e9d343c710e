"""Where the plugin's files are: the plugin folder, its resources and icons (paths only, no Qt)."""
from __future__ import annotations

import os

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESOURCES = os.path.join(PLUGIN_DIR, "resources")
ICON_PATH = os.path.join(RESOURCES, "icon.svg")


def icon_path(name: str = "icon") -> str:
    """resources/icons/<name>.svg, or resources/<name>.svg, or the plugin icon."""
    for p in (os.path.join(RESOURCES, "icons", f"{name}.svg"), os.path.join(RESOURCES, f"{name}.svg")):
        if os.path.exists(p):
            return p
    return ICON_PATH
