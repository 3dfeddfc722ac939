# Two commands set up everything on a fresh machine: `make demo` and `make test`.
# torch is installed first and pinned, so no loose range can pull the multi-GB CUDA build.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP   := $(VENV)/.installed
DEMO    ?= runs/demo
WORKERS ?= 2
SUDO    := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install browser demo test test-fast bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev]'
	touch $(STAMP)

# The page's end-to-end test drives Debian's Chromium (Playwright's own browser download fails offline).
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null)

demo: install
	$(VENV)/bin/ocrlab generate --preset easy --out $(DEMO)/easy --overwrite --workers $(WORKERS)
	$(VENV)/bin/ocrlab generate --preset hard --out $(DEMO)/hard --limit 5000 --format packed \
		--overwrite --workers $(WORKERS)
	@echo "demo datasets in $(DEMO)/: see easy/preview.png and hard/preview.png"

test: install browser
	$(PY) -m pytest -q

test-fast: install browser
	$(PY) -m pytest -q -m "not slow"

bench: install
	$(PY) benchmarks/bench_generate.py --quick

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
