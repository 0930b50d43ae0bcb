# Two commands set everything up on a bare machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8501

REPLICAS ?= 2

.PHONY: run serve test bench train chromium nginx clean

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

# Debian's nginx, the load balancer in front of several app processes (make serve, and a test).
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light; \
	  else \
	    echo "nginx is missing: run 'sudo apt-get install -y nginx-light' (or make as root)" >&2; exit 1; \
	  fi; \
	fi

# REPLICAS app processes behind nginx with sticky sessions, on http://localhost:$(PORT)
serve: $(STAMP) nginx
	STREAMLIT_BROWSER_GATHER_USAGE_STATS=false $(PY) deploy/serve.py --replicas $(REPLICAS) --port $(PORT)

# MALLOC_ARENA_MAX: fewer glibc arenas, so memory freed after a class goes back (app/capacity.py SERVER_ENV)
run: $(STAMP)
	MALLOC_ARENA_MAX=2 STREAMLIT_BROWSER_GATHER_USAGE_STATS=false $(PY) -m streamlit run app/streamlit_app.py \
	  --server.port $(PORT) --server.headless true

test: $(STAMP) chromium nginx
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

bench: $(STAMP) chromium nginx
	$(PY) bench/run.py

# Retrain every shipped model in gru_core/registry.py and rewrite its file in assets/.
train: $(STAMP)
	@for name in $$($(PY) -c 'from gru_core import registry; print(*(e.name for e in registry.ENTRIES))'); do \
	  $(PY) -m gru_core.train $$name || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache
