# Two commands do all the set-up on a fresh machine, in the project's own environment (.venv):
#   make run   - install the app's packages into .venv and serve the dashboard on this computer
#   make test  - install the test packages (and Chromium when missing), then run every test
# make run HOST=0.0.0.0 serves on every network interface: refused unless visitors sign in
# ([auth] in .streamlit/secrets.toml) or ALLOW_OPEN=1 is given. PORT= picks the port;
# ALLOWED_HOSTS="a.example b.example" adds host names visitors use (a reverse proxy's, say).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8501
HOST ?= 127.0.0.1
ALLOW_OPEN ?=
ALLOWED_HOSTS ?=
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test install install-dev chromium sandbox bench lint clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

# each stamp is remade when its requirements change
$(VENV)/.app-packages: requirements.txt | $(PY)
	$(PIP) -r requirements.txt
	@touch $@

$(VENV)/.dev-packages: requirements-dev.txt requirements.txt | $(PY)
	$(PIP) -r requirements-dev.txt
	@touch $@

install: $(VENV)/.app-packages

install-dev: $(VENV)/.dev-packages

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install
	$(PY) -m c4w.launch --host $(HOST) --port $(PORT) $(if $(filter 1 yes true,$(ALLOW_OPEN)),--allow-open) \
		$(foreach name,$(ALLOWED_HOSTS),--allowed-host $(name))

test: install-dev chromium
	$(PY) -m pytest -n 2 --dist loadfile

sandbox: install
	$(PY) -m c4w.sandbox --port 8765

bench: install-dev
	$(PY) -m bench.ingest
	$(PY) -m bench.demo
	$(PY) -m bench.fetch
	$(PY) -m bench.views

lint: install-dev
	$(PY) -m ruff check .

clean-venv:
	rm -rf $(VENV)
