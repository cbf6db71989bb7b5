# Every target sets itself up on a fresh machine: a virtual environment in .venv with the package
# installed in editable mode, plus the system services the tests talk to (redis-server, chromium).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system-deps reference-venv test fuzz demo bench bench-quick bench-compare lint format clean

setup: $(VENV)/.installed

# mypy and pyright do not follow the import hook that setuptools' editable install uses for a flat
# layout, so the checkout itself also goes on sys.path through a plain .pth file, which both read.
# (setuptools' own way of doing that, editable_mode=compat, is deprecated and warns at every install.)
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -c 'import os, sysconfig; open(os.path.join(sysconfig.get_paths()["purelib"], "gokart-checkout.pth"), "w").write(os.getcwd() + "\n")'
	touch $@

# gokart 1.12.2 itself, in a separate environment, for the tests that cross-check ids, files and names
# against it (they skip without it, and fail under CI).
REF_VENV := .venv-ref
reference-venv: $(REF_VENV)/.installed

$(REF_VENV)/.installed:
	$(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/pip install --quiet --upgrade pip
	$(REF_VENV)/bin/pip install --quiet 'gokart==1.12.2' boto3 polars
	touch $@

# redis-server for the lock tests, chromium for the HTML report test and nodejs for pyright (offline),
# from Debian's packages. A failed install is not fatal: those tests then skip and say why.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	{ command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq || true; \
			for package in $$missing; do \
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$package >/dev/null || echo "note: could not install $$package; its tests will be skipped"; \
			done; \
		else \
			echo "note:$$missing missing and cannot be installed here; those tests will be skipped"; \
		fi; \
	fi

test: setup system-deps reference-venv
	$(BIN)/python -m pytest -q

# The differential check of ids against gokart 1.12.2 over many random task definitions (CI runs a
# fixed few in tests/compat/test_differential_ids.py). `make fuzz SEEDS=2000 START=0`.
SEEDS ?= 500
START ?= 0
fuzz: setup reference-venv
	$(BIN)/python tests/compat/differential_run.py --seeds $(SEEDS) --start $(START) --reference $(REF_VENV)/bin/python

demo: setup
	$(BIN)/python examples/demo.py

bench: setup
	$(BIN)/python benchmarks/run.py

bench-quick: setup
	$(BIN)/python benchmarks/run.py --quick

# The quick suite on this tree and on commit REF, alternating, with the ratio of each figure:
# `make bench-compare REF=main` (ONLY=dag_wide narrows it, ROUNDS=5 repeats more).
ROUNDS ?= 3
bench-compare: setup
	@test -n "$(REF)" || { echo 'usage: make bench-compare REF=<commit> [ONLY=<scenario>] [ROUNDS=3]'; exit 2; }
	$(BIN)/python benchmarks/compare.py $(REF) --rounds $(ROUNDS) $(if $(ONLY),--full $(foreach o,$(ONLY),--only $(o)))

# pyright checks a task module written as users write theirs (overridden requires/output/input), so
# gokart's signatures stay ones a user can override cleanly. It runs offline: the pyright package
# bundles pyright itself and uses the node on PATH (Debian's nodejs, from system-deps); without a node
# it would download one. PYRIGHT_PYTHON_IGNORE_WARNINGS skips its check of PyPI for a newer version.
PYRIGHT := PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(BIN)/pyright

lint: setup system-deps
	$(BIN)/ruff check gokart tests benchmarks examples
	$(BIN)/ruff format --check gokart tests benchmarks examples
	$(BIN)/mypy gokart
	$(PYRIGHT) --pythonpath $(BIN)/python -p tests/pyright_samples

format: setup
	$(BIN)/ruff check --fix gokart tests benchmarks examples
	$(BIN)/ruff format gokart tests benchmarks examples

clean:
	rm -rf $(VENV) $(REF_VENV) resources examples/resources .pytest_cache .mypy_cache .ruff_cache
