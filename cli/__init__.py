"""`hypersnn` command line: train, classify, batch, evaluate, sample, report, demo, info, datasets.

A thin front end: argparse (flags generated from the settings registry, core/config/settings.py) plus the rasterio
backend, over the QGIS-free workflows in workflows/. Runs outside QGIS, so rasters go through rasterio.
With --json, stdout holds one JSON object: the result, or {"error": ..., "kind": ...} when the command fails.

Modules: parser.py (the argparse tree), arguments.py (flags -> settings and label source), commands.py (one
cmd_* per subcommand), output.py (progress bar, log, text or JSON result), entry.py (`main`: exit codes,
warnings, signals). `python -m hypersnn.cli` runs __main__.py; the console script is `hypersnn.cli:main`.
"""
from .arguments import config_from_args
from .entry import main
from .parser import build_parser

__all__ = ["build_parser", "config_from_args", "main"]
