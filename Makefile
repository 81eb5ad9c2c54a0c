# sat-config: schemas/ -> generator/ -> generated/ -> sat_config (runtime). `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SAT := $(VENV)/bin/sat-config
STAMP := $(VENV)/.installed-stamp

.PHONY: help install gen check-gen test run lint clean

help:
	@echo "make run        install, then validate and build every config in examples/"
	@echo "make test       install, then run the whole test suite"
	@echo "make gen        regenerate generated/ from schemas/"
	@echo "make check-gen  fail if generated/ differs from what schemas/ generate"
	@echo "make lint       ruff on hand-written code, mypy on generated and runtime code"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, as a matched pair with torchaudio; then everything else under the same constraints.
	$(PIP) install -q -c constraints.txt torch==2.9.1 torchaudio==2.9.1
	$(PIP) install -q -c constraints.txt -e '.[models,dev]'
	touch $(STAMP)

install: $(STAMP)

gen: $(STAMP)
	$(PY) -m generator

check-gen: $(STAMP)
	$(PY) -m generator --check

test: $(STAMP)
	$(PY) -m pytest

run: $(STAMP)
	$(SAT) validate examples/
	$(SAT) build --skip-unavailable examples/

lint: $(STAMP)
	$(VENV)/bin/ruff check sat_config generator tests
	$(VENV)/bin/mypy generated sat_config

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
