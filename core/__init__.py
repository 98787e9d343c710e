"""HyperSNN engine: no QGIS, Qt or GDAL imports here (tests/test_core_imports.py enforces it)."""

__version__ = "0.1.0"
