# Two commands do all the set-up on a fresh machine:
#   make run   - install the app's packages and start it on the demo organization
#   make test  - install test packages and Chromium, then run every test (browser tests included)
PYTHON ?= python3
PORT ?= 8501

.PHONY: run test install install-dev chromium sandbox bench lint

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt

install-dev:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install
	$(PYTHON) -m streamlit run app.py --server.port $(PORT)

test: install-dev chromium
	$(PYTHON) -m pytest

sandbox: install
	$(PYTHON) -m c4w.sandbox --port 8765

bench: install-dev
	$(PYTHON) -m bench.ingest
	$(PYTHON) -m bench.demo
	$(PYTHON) -m bench.fetch
	$(PYTHON) -m bench.views

lint: install-dev
	$(PYTHON) -m ruff check .
