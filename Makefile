# HyperSNN: the two commands are `make demo` and `make test`; each runs the idempotent set-up first.
PY := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup demo demo-quick test test-fast results bench bench-resume bench-quick plugin-zip screenshots clean

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

clean:
	rm -rf demo_out .pytest_cache .qgis-settings
	find . -name __pycache__ -prune -exec rm -rf {} +

results: setup
	$(PY) scripts/readme_results.py demo_out/summary.json README.md

bench: setup
	$(PY) bench/run.py

bench-resume: setup
	$(PY) bench/run.py --resume

bench-quick: setup
	$(PY) bench/run.py --quick --out bench/out/quick/results.json --md bench/out/quick/results.md

plugin-zip: setup
	$(PY) scripts/make_plugin_zip.py

screenshots: setup
	$(PY) scripts/screenshots.py
