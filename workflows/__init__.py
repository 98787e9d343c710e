"""The application layer: each run (train, classify, assess, energy, report, demo) written once.

A run takes a job (its settings and file paths), an I/O backend (`backend.IOBackend`: rasterio/fiona for the
command line, GDAL/OGR/QGIS for the plugin) and callbacks (progress, cancel, log), checks every output
location before any work, and returns a result object. The front ends only collect settings and call these:
`hypersnn.cli` (argparse), the plugin's QgsTasks and Processing algorithms. Nothing here imports qgis, Qt,
osgeo or rasterio (the rasterio backend lives in its own modules, rasterio_*.py, which the plugin never
imports).

Layers, each importing only those to its left: core <- workflows <- cli / plugin <- ui
(tests/test_layers.py enforces it).
"""
