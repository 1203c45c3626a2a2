# The two commands: `make run` (set up, train if needed, start) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/assistant.tar.gz
# What the model is trained from: change any of these and `make run` retrains.
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)

export RASA_TELEMETRY_ENABLED := false
export ACTION_SERVER_URL ?= http://127.0.0.1:$(or $(ACTION_SERVER_PORT),5055)/webhook
# TensorFlow's start-up chatter is noise, not news.
export TF_CPP_MIN_LOG_LEVEL ?= 2

# apt needs root: sudo when we are not (CI and this machine's sessions run as root).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help run shell train validate lint check test test-scale bench evaluate browser redaction lock clean

help:
	@echo "make run       set up, train if data or config changed, start Rasa, the actions and the gateway"
	@echo "make shell     talk to the running assistant in this terminal"
	@echo "make check     the linter and the fast layers (tests/unit, tests/gateway): no model, under two minutes"
	@echo "make test      set up and run every check"
	@echo "make test-scale  two Rasa servers and two gateways on PostgreSQL and Redis (part of make test)"
	@echo "make bench     light and over-capacity loads, through the gateway and Rasa alone -> docs/benchmarks.md"
	@echo "make evaluate  the blind sets through a running make run (docs/evaluation.md)"
	@echo "make validate  check the training data and domain"
	@echo "make train     train the model if data or config changed"

$(VENV)/.runtime: requirements.txt constraints.txt
	@test -x $(PY) || "$$(scripts/find-python310)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $@

# Debian's Chromium for the browser tests (Playwright can't download its own here).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# The model is stamped with the time training *started*: Rasa leaves the file
# alone when nothing changed, and an edit made during training still counts.
$(MODEL): $(TRAINING_INPUTS) | $(VENV)/.runtime
	started=$$(date +%s) && $(RASA) train --fixed-model-name assistant --out models \
		&& touch -d "@$$started" $@

train: $(MODEL)

run: $(VENV)/.runtime $(MODEL)
	$(PY) scripts/run_stack.py

shell: $(VENV)/.runtime
	$(PY) scripts/shell.py

validate: $(VENV)/.runtime
	$(RASA) data validate --fail-on-warnings

# Recall and precision of personal-data redaction on the labelled sets.
redaction: $(VENV)/.runtime
	$(PY) scripts/redaction_report.py tests/data/redaction_set_a.yml tests/data/redaction_set_b.yml tests/data/redaction_set_c.yml \
		--min-recall 0.95 --min-name-recall 0.85

# The linter (its rules, and why three are off: pyproject.toml).
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

# The fast layers, while working: no trained model, no whole system (docs/testing.md).
# Two workers, one per core; modules sharing the machine's Redis take turns (xdist_group).
check: lint
	$(PY) -m pytest -q -n 2 --dist loadgroup tests/unit tests/gateway

test: $(VENV)/.dev $(MODEL) browser lint validate redaction
	$(RASA) test core --model $(MODEL) --stories tests/data/test_stories.yml \
		--fail-on-prediction-errors --out results/stories
	$(RASA) test nlu --model $(MODEL) --nlu tests/data/nlu_holdout.yml --out results/nlu
	$(PY) scripts/check_nlu_report.py results/nlu/intent_report.json --min-macro-f1 0.90
	$(PY) -m pytest -q -n 2 --dist loadgroup tests/unit tests/gateway
	$(PY) -m pytest tests/stack tests/scale

# Replicas on the machine's PostgreSQL and Redis (its tests also run in `make test`).
test-scale: $(VENV)/.dev $(MODEL)
	$(PY) -m pytest tests/unit/test_bus.py tests/scale

bench: $(VENV)/.runtime $(MODEL)
	$(PY) scripts/bench.py

# The blind sets through a running `make run` (the facts too when .env sets RASA_AUTH_TOKEN).
evaluate: $(VENV)/.runtime
	$(PY) scripts/evaluate_sets.py

# Rewrites constraints.txt from the current .venv (after changing requirements).
lock: $(VENV)/.dev
	{ echo "# Full lock of every installed package (pip freeze of a working .venv)."; \
	  echo "# Regenerate with: make lock"; \
	  $(PY) -m pip freeze | grep -v '^-e'; \
	  echo "setuptools==$$($(PY) -c 'import setuptools; print(setuptools.__version__)')"; \
	} > constraints.txt

clean:
	rm -rf models results .pytest_cache
