# Two commands do all the set-up on a fresh Debian machine:
#   make run   -> install what is missing, initialise ./dangan-data, serve on http://127.0.0.1:8000
#   make test  -> the same installation, then the whole test suite
PY ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# fonts-noto-cjk: the Chinese font embedded in the PDFs (two-set report, box paperwork)
# libtesseract-dev, libleptonica-dev, g++, pkg-config: tesserocr (Tesseract kept loaded in the page
# workers) is built against Debian's Tesseract, the one the CER and CPU figures were measured on
RUN_DEBS := tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng fonts-noto-cjk libtesseract-dev libleptonica-dev g++ pkg-config
TEST_DEBS := $(RUN_DEBS) chromium
# wrk: the HTTP load generator of bench/web_bench.py
BENCH_DEBS := $(TEST_DEBS) wrk
# pages of search_bench.py's corpus in `make bench`; `make bench-search` runs BENCH_SIZES
BENCH_PAGES ?= 100000
BENCH_SIZES ?= 10000 100000 1000000

.PHONY: run test lint bench bench-search deps-run deps-test deps-bench venv clean

define install_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PY) -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps-run:
	$(call install_debs,$(RUN_DEBS))

deps-test:
	$(call install_debs,$(TEST_DEBS))

deps-bench:
	$(call install_debs,$(BENCH_DEBS))

$(VENV)/.installed: pyproject.toml
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q --no-binary tesserocr -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: deps-run venv
	$(VENV)/bin/dangan init
	$(VENV)/bin/dangan serve --host $(HOST) --port $(PORT)

test: deps-test venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q -ra -n auto --dist loadfile

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: deps-bench venv
	$(VENV)/bin/pip install -q --no-binary tesserocr -e '.[test,bench]'
	$(VENV)/bin/python bench/ocr_cost.py --clean $(or $(SAMPLES),../shared/samples) --hard $(or $(HARD_SAMPLES),../shared/samples-hard)
	$(VENV)/bin/python bench/ocr_bench.py $(or $(SAMPLES),../shared/samples)
	$(VENV)/bin/python bench/search_bench.py --pages $(BENCH_PAGES) --samples $(or $(SAMPLES),../shared/samples)
	$(VENV)/bin/python bench/export_bench.py
	$(VENV)/bin/python bench/ingest_bench.py
	$(VENV)/bin/python bench/web_bench.py --ocr-beside

# the search engine alone at several sizes (the growth), against the scan and SQLite's trigram
# tokenizer: make bench-search BENCH_SIZES="10000 100000 1000000" (1M: about an hour, 4 GB)
bench-search: venv
	$(VENV)/bin/pip install -q -e '.[bench]'
	for n in $(BENCH_SIZES); do \
	  nice -n 5 $(VENV)/bin/python bench/search_bench.py --pages $$n --trigram --speed-only \
	    --samples $(or $(SAMPLES),../shared/samples) || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
