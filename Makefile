# Two commands set up everything on a fresh machine: `make demo` and `make test`.
# torch is installed first and pinned, so no loose range can pull the multi-GB CUDA build.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP   := $(VENV)/.installed
OCRLAB  := $(VENV)/bin/ocrlab
DEMO    ?= runs/demo
WORKERS ?= 2
SUDO    := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install browser demo test test-fast bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,distributed]'
	touch $(STAMP)

# The page's end-to-end test drives Debian's Chromium (Playwright's own browser download fails offline).
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null)

demo: install
	$(OCRLAB) generate --preset easy --out $(DEMO)/easy --overwrite --workers $(WORKERS)
	$(OCRLAB) generate --preset hard --out $(DEMO)/hard --limit 5000 --format packed \
		--overwrite --workers $(WORKERS)
	$(OCRLAB) generate --preset hard --vocab english --words 200 --limit 200 --seed 7 \
		--out $(DEMO)/words --overwrite --workers $(WORKERS)
	$(OCRLAB) read $$(ls $(DEMO)/words/images/*.png | head -n 6) --top-k 3
	$(OCRLAB) eval --model default --data $(DEMO)/words --workers $(WORKERS)
	$(OCRLAB) data letters-eval --out $(DEMO)/letters --overwrite
	$(OCRLAB) read $(DEMO)/letters/images/00018.png --model letters --top-k 3 --debug $(DEMO)/debug
	$(OCRLAB) eval --model letters --data $(DEMO)/letters --table
	$(OCRLAB) train classifier --data $(DEMO)/easy --out $(DEMO)/classifier --epochs 20 --overwrite \
		--workers $(WORKERS) --set width=32 --set input_height=24 --set input_width=168 \
		--set dropout=0 --set train.weight_decay=0 --set train.augment=false
	$(OCRLAB) predict --model $(DEMO)/classifier $(DEMO)/easy/images/0000000.png --top-k 3
	@echo "demo in $(DEMO)/: datasets with preview.png, letter stages in debug/, a classifier with curves.png"

test: install browser
	$(PY) -m pytest -q

test-fast: install browser
	$(PY) -m pytest -q -m "not slow"

# Quick mode, under 30 minutes on 2 cores: results in benchmarks/results/, page in docs/benchmarks.md.
# The peers: ddddocr and pytesseract from the bench extra, Tesseract from apt only when missing.
bench: install $(VENV)/.bench-installed
	@command -v tesseract >/dev/null || ($(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends tesseract-ocr >/dev/null)
	$(PY) benchmarks/run_all.py --quick

$(VENV)/.bench-installed: $(STAMP)
	$(PIP) -e '.[dev,distributed,bench]'
	touch $@

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
