# HyperSNN: the two commands are `make demo` and `make test`; each runs the idempotent set-up first.
PY := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup demo demo-quick test test-fast test-qgis-matrix results bench bench-resume bench-front bench-levers bench-ann bench-3d bench-grouped bench-quick plugin-zip screenshots clean

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PY) -m hypersnn.cli demo --out-dir demo_out

demo-quick: setup
	$(PY) -m hypersnn.cli demo --out-dir demo_out --quick

test: setup
	$(PY) -m pytest -q --timeout=900 tests

test-fast: setup
	$(PY) -m pytest -q --timeout=900 -m "not slow" tests

# make test on this host's QGIS and in Debian 13 trees with QGIS 3.40 and 3.44 (root; about 5 min and 3 GB per
# tree the first time). Exit 3 when a tree could not be built: never a pass.
test-qgis-matrix:
	bash scripts/qgis_matrix.sh

clean:
	rm -rf demo_out .pytest_cache .qgis-settings
	find . -name __pycache__ -prune -exec rm -rf {} +

results: setup
	$(PY) scripts/readme_results.py demo_out/summary.json README.md

bench: setup
	$(PY) bench/run.py

bench-resume: setup
	$(PY) bench/run.py --resume

# the whole accuracy-energy front (19 candidates x 3 seeds at full epochs, about 4 h on 2 cores): it chooses the
# `efficient` preset; `make bench` reuses its headline rows
bench-front: setup
	$(PY) bench/run.py --resume --front full --only front

# issue 22's energy levers on the front (8 candidates x 3 seeds at full epochs; the first 5 took 0.65 h on 2 cores)
bench-levers: setup
	$(PY) bench/run.py --resume --front levers --only front

# re-choosing the `efficient` preset on grouped validation of the 30 % split's training side (6 candidates x 3 seeds,
# one training each; bench/front_validation.py); rows in docs/front_validation.json
bench-validation: setup
	$(PY) -m bench.front_validation

# the equivalent low-bit ANN beside the default and the `efficient` preset (3 seeds; 0.21 h measured with the
# front's checkpoints in bench/out/ckpt at hand, about twice that without)
bench-ann: setup
	$(PY) bench/run.py --resume --only equivalent_ann

# the 3-D network's rows (3 seeds at the 30 % split, the block split and the 10 % split; about 1.7 h)
bench-3d: setup
	$(PY) bench/run.py --resume --arch 3d --only headline_3d --only spatial --only ten_percent

# the region-grouped splits, SNN against SVM and random forest (3 seeds x 2 splits; about 1 h)
bench-grouped: setup
	$(PY) bench/run.py --resume --only grouped

bench-quick: setup
	$(PY) bench/run.py --quick --out bench/out/quick/results.json --md bench/out/quick/results.md

plugin-zip: setup
	$(PY) scripts/make_plugin_zip.py

# the whole workflow in the real QGIS desktop under Xvfb, at 1366x768 and 1920x1080: docs/screenshots/<WxH>/*.png
screenshots: setup
	$(PY) scripts/screenshots.py
