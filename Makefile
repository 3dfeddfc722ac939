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

# Fonts from Debian: the families reserved for evaluation (never in a training pool), and the
# training pool of the general reader (`ocrlab fonts list` shows what each covers).
FONTS_EVAL  := fonts-liberation fonts-freefont-ttf fonts-urw-base35
FONTS_TRAIN := fonts-noto-core fonts-roboto fonts-open-sans fonts-ubuntu fonts-lato fonts-ibm-plex \
	fonts-cantarell fonts-linuxlibertine fonts-ebgaramond fonts-comic-neue fonts-firacode \
	fonts-inconsolata fonts-hack fonts-dejavu-extra fonts-cabin fonts-comfortaa fonts-dosis \
	fonts-inter fonts-jetbrains-mono fonts-karla fonts-league-spartan fonts-lobster fonts-quicksand \
	fonts-roboto-slab fonts-sil-andika fonts-sil-charis fonts-sil-gentium fonts-b612 fonts-cardo \
	fonts-courier-prime fonts-dancingscript fonts-go fonts-kaushanscript fonts-oldstandard fonts-play \
	fonts-quattrocento fonts-crosextra-carlito fonts-crosextra-caladea fonts-mononoki fonts-ocr-a \
	fonts-opendyslexic fonts-paratype fonts-junicode fonts-manrope fonts-jura fonts-anonymous-pro \
	fonts-fantasque-sans fonts-agave fonts-allerta fonts-clear-sans fonts-dkg-handwriting \
	fonts-isabella fonts-lemonada fonts-leckerli-one fonts-prociono fonts-rufscript \
	fonts-yanone-kaffeesatz fonts-averia-gwf fonts-averia-sans-gwf fonts-averia-serif-gwf \
	fonts-adf-accanthis fonts-adf-baskervald fonts-adf-berenis fonts-adf-gillius fonts-adf-libris \
	fonts-adf-romande fonts-adf-switzera fonts-adf-universalis fonts-adf-verana fonts-sil-doulos \
	fonts-gfs-didot fonts-monoid fonts-recursive fonts-atkinson-hyperlegible fonts-overpass \
	fonts-oxygen fonts-spectral fonts-hermit fonts-cascadia-code fonts-orbitron fonts-fanwood \
	fonts-goudybookletter fonts-linex fonts-mplus fonts-lindenhill fonts-femkeklaver \
	fonts-tomsontalks fonts-vollkorn fonts-wine fonts-blankenburg fonts-gotico-antiqua fonts-breip \
	fonts-arkpandora fonts-beteckna fonts-century-catalogue fonts-elstob fonts-junction \
	fonts-cabinsketch fonts-sil-andikanewbasic fonts-tuffy fonts-yrsa-rasa
APT_GET     := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

.PHONY: install browser fonts-eval fonts demo test test-fast bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,fonts,distributed]'
	touch $(STAMP)

# The page's end-to-end test drives Debian's Chromium (Playwright's own browser download fails offline).
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null)

# The reserved families `ocrlab data text-eval` draws (a few MB); `make fonts` adds the training pool.
fonts-eval:
	@fc-list 2>/dev/null | grep -qi "liberation sans" || ($(SUDO) apt-get update -qq && \
		$(APT_GET) $(FONTS_EVAL) >/dev/null)

# A mirror may lack some packages (Debian drops and renames fonts): install the rest, name the missing.
fonts: fonts-eval
	$(SUDO) apt-get update -qq
	@have=; miss=; for p in $(FONTS_TRAIN); do \
		if apt-cache policy $$p 2>/dev/null | grep -q 'Candidate: [0-9]'; \
		then have="$$have $$p"; else miss="$$miss $$p"; fi; done; \
	test -z "$$miss" || echo "make fonts: not in this machine's Debian sources, skipped:$$miss"; \
	$(APT_GET) $$have >/dev/null

demo: install fonts-eval
	$(OCRLAB) generate --preset zoo --out $(DEMO)/zoo --limit 240 --overwrite --workers $(WORKERS) \
		--set 'families=["clean","strike","jumble","crowd","paper","hatched","shadowed"]'
	$(OCRLAB) data text-eval --out $(DEMO)/text-eval --count 200 --overwrite --workers $(WORKERS)
	$(OCRLAB) read $$(ls $(DEMO)/zoo/images/*.png | head -n 6)
	$(OCRLAB) eval --model default --data $(DEMO)/text-eval $(DEMO)/zoo --workers $(WORKERS)
	$(OCRLAB) generate --preset easy --out $(DEMO)/easy --overwrite --workers $(WORKERS)
	$(OCRLAB) generate --preset hard --out $(DEMO)/hard --limit 5000 --format packed \
		--overwrite --workers $(WORKERS)
	$(OCRLAB) generate --preset hard --vocab english --words 200 --limit 200 --seed 7 \
		--out $(DEMO)/words --overwrite --workers $(WORKERS)
	$(OCRLAB) read $$(ls $(DEMO)/words/images/*.png | head -n 6) --model words --top-k 3
	$(OCRLAB) eval --model words --data $(DEMO)/words --workers $(WORKERS)
	$(OCRLAB) data letters-eval --out $(DEMO)/letters --overwrite
	$(OCRLAB) read $(DEMO)/letters/images/00018.png --model letters --top-k 3 --debug $(DEMO)/debug
	$(OCRLAB) eval --model letters --data $(DEMO)/letters --table
	$(OCRLAB) train classifier --data $(DEMO)/easy --out $(DEMO)/classifier --epochs 20 --overwrite \
		--workers $(WORKERS) --set width=32 --set input_height=24 --set input_width=168 \
		--set dropout=0 --set train.weight_decay=0 --set train.augment=false
	$(OCRLAB) predict --model $(DEMO)/classifier $(DEMO)/easy/images/0000000.png --top-k 3
	@echo "demo in $(DEMO)/: zoo and text-eval sets read by the general reader, datasets with preview.png, letter stages in debug/, a classifier with curves.png"

test: install browser fonts-eval
	$(PY) -m pytest -q

test-fast: install browser fonts-eval
	$(PY) -m pytest -q -m "not slow"

# Quick mode, under 30 minutes on 2 cores: results in benchmarks/results/, page in docs/benchmarks.md.
# The peers: ddddocr and pytesseract from the bench extra, Tesseract from apt only when missing.
bench: install fonts $(VENV)/.bench-installed
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
