"""HyperSNN engine: no QGIS, Qt or GDAL imports here (tests/test_core_imports.py enforces it)."""
import os as _os

__version__ = "0.1.0"

# OpenMP threads that spin while they wait for each other turn a busy machine into a crawl: with one of two
# cores taken by another job, a 2-thread SNN training step took 6.1 s with the default (spinning) policy and
# 2.2 s with passive waiting (1 thread: 2.4 s; bench/omp_wait.py measures it). Passive waiting is set here,
# before torch loads its OpenMP runtime, unless the user chose a policy; it changes timing, never results.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
