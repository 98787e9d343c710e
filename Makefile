# HyperSNN: the two commands are `make demo` and `make test`; each runs the idempotent set-up first.
PY := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup demo demo-quick test test-fast results clean

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PY) -m hypersnn.core.cli demo --out-dir demo_out

demo-quick: setup
	$(PY) -m hypersnn.core.cli demo --out-dir demo_out --quick

test: setup
	$(PY) -m pytest -q --timeout=900 tests

test-fast: setup
	$(PY) -m pytest -q --timeout=900 -m "not slow" tests

clean:
	rm -rf demo_out .pytest_cache .qgis-settings
	find . -name __pycache__ -prune -exec rm -rf {} +

results: setup
	$(PY) scripts/readme_results.py demo_out/summary.json README.md
