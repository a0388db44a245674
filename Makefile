# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
REGION ?= blekinge
PORT   ?= 8501
SHARED_PACK ?= ../shared/data/blekinge
# The national pack (all of Sweden) for "compare with where you live now"; built when present.
SWEDEN_PACK ?= ../shared/data/sweden

.PHONY: run test test-fast lint bench build clean-store axe national national-bg

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Link the shared Blekinge pack into the git-ignored data/packs/ if it is beside the checkout.
data/packs/blekinge:
	@mkdir -p data/packs
	@if [ -d "$(SHARED_PACK)" ]; then ln -sfn "$$(cd $(SHARED_PACK) && pwd)" data/packs/blekinge; \
	  echo "linked $(SHARED_PACK) into data/packs/blekinge"; \
	else echo "no pack at $(SHARED_PACK): the app starts with what OpenStreetMap (online) gives"; fi

build: $(STAMP) data/packs/blekinge
	$(VENV)/bin/livability build --region $(REGION)

# Rebuild when there is no snapshot or an input changed (a grown pack): `info --check` says which.
# The server is Streamlit's own (`streamlit run`) started through app/launch.py, which also warms
# the map page's caches as soon as the server listens (LIVABILITY_WARM=0 turns that off).
run: $(STAMP) data/packs/blekinge
	@why=$$($(VENV)/bin/livability info --region $(REGION) --check 2>/dev/null); rc=$$?; \
	if [ $$rc -ne 0 ]; then \
	  if [ $$rc -eq 1 ]; then echo "$$why" | grep -v "(online source)"; fi; \
	  $(VENV)/bin/livability build --region $(REGION) || \
	    echo "build failed or incomplete: the app will say what is missing"; \
	  LIVABILITY_REGION=$(REGION) $(PY) -m app.warm 2>data/app-warm.log || true; \
	fi
	@$(MAKE) --no-print-directory national-bg
	$(PY) -m app.launch run streamlit_app.py --server.port $(PORT) --server.headless true \
	  --browser.gatherUsageStats false

# The national snapshot (sverige) from $(SWEDEN_PACK), when the pack is there and the snapshot is
# missing or stale: checked and built in the background at low priority, so the app starts at
# once (its compare page offers Sweden as soon as the build is done; about 12 s and 0.5 GB here).
# The build's output goes to data/build-sverige.log. `make national` builds it in the foreground.
national-bg:
	@if [ -d "$(SWEDEN_PACK)" ]; then \
	  mkdir -p data; \
	  ( $(VENV)/bin/livability info --region sverige --check >/dev/null 2>&1 || \
	    nice -n 10 $(VENV)/bin/livability build --region sverige --pack "$(SWEDEN_PACK)" \
	      --no-default-packs --offline --quiet ) > data/build-sverige.log 2>&1 & \
	  echo "national snapshot: checking/building in the background (log: data/build-sverige.log)"; \
	fi

national: $(STAMP)
	$(VENV)/bin/livability build --region sverige --pack "$(SWEDEN_PACK)" --no-default-packs --offline

# axe-core (pinned in tests/a11y/package.json) for the accessibility browser test, installed once
# into the git-ignored tests/a11y/node_modules; without npm or the registry the test skips and says why.
AXE := tests/a11y/node_modules/axe-core/axe.min.js

$(AXE): tests/a11y/package.json
	@if command -v npm >/dev/null 2>&1; then \
	  { npm install --no-audit --no-fund --no-package-lock --silent --prefix tests/a11y \
	    && touch $@; } || echo "npm could not install axe-core: tests/test_browser_a11y.py will skip"; \
	else echo "no npm: tests/test_browser_a11y.py will skip (axe-core not installed)"; fi

axe: $(AXE)

test: $(STAMP) $(AXE)
	$(PY) -m pytest -q

# The unit suite: everything but the tests marked slow (browser, SIGKILL, racing processes,
# real-pack full builds), on both cores (pytest-xdist); `make test` (what CI runs) still runs them
# all, one at a time.
test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check geo layers app tests benchmarks streamlit_app.py
	$(VENV)/bin/mypy

# The bench extra (pandana, python-igraph, networkit: the kernel's comparisons) on top of the
# base install; `make test` and `make run` never need it.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

clean-store:
	rm -rf data/blekinge data/cache
