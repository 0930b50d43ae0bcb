# Two commands set everything up on a bare machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8501

.PHONY: run test bench train chromium clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the declared or pinned dependencies change.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install -y chromium' (or make test as root)" >&2; exit 1; \
	  fi; \
	fi

run: $(STAMP)
	STREAMLIT_BROWSER_GATHER_USAGE_STATS=false $(PY) -m streamlit run app/streamlit_app.py \
	  --server.port $(PORT) --server.headless true

test: $(STAMP) chromium
	$(PY) -m pytest

bench: $(STAMP) chromium
	$(PY) bench/run.py

# Retrain the shipped bit adder from a seed and rewrite assets/bit_adder.pt.
train: $(STAMP)
	$(PY) -m gru_core.train --seed 0 --convention pytorch
	$(PY) -m gru_core.train --seed 0 --convention cho2014

clean:
	rm -rf $(VENV) .pytest_cache
