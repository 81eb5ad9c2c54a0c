# sat-config: schemas/ -> generator/ -> generated/ -> sat_config (runtime). `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SAT := $(VENV)/bin/sat-config
STAMP := $(VENV)/.installed-stamp
# The editor-engine tests' node packages (VS Code's JSON language service), from the committed lock file.
EDITOR_STAMP := editor-test/node_modules/.installed-stamp

.PHONY: help install editor-deps gen check-gen test fuzz bench run lint clean

help:
	@echo "make run        install, then validate and build every config in examples/"
	@echo "make test       install, then run the whole test suite"
	@echo "make gen        regenerate generated/ and docs/reference.md from schemas/"
	@echo "make check-gen  fail if generated/ or docs/reference.md differ from what schemas/ generate"
	@echo "make lint       ruff on hand-written code, mypy on generated and runtime code"
	@echo "make bench      benchmarks, each against its baseline in the same run (bench/RESULTS.md)"
	@echo "make fuzz       the property-based schema tests with many examples (SAT_FUZZ_EXAMPLES, default 300),"
	@echo "                then the fidelity harness on SAT_FIDELITY_DRAWS drawn configs (default 2000): prints the figures"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, as a matched pair with torchaudio; then everything else under the same constraints.
	$(PIP) install -q -c constraints.txt torch==2.9.1 torchaudio==2.9.1
	$(PIP) install -q -c constraints.txt -e '.[models,dev]'
	touch $(STAMP)

install: $(STAMP)

$(EDITOR_STAMP): editor-test/package.json editor-test/package-lock.json
	cd editor-test && npm ci --no-audit --no-fund
	touch $@

# Without node the editor-engine tests skip (and say why), except under CI, where they fail.
editor-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(EDITOR_STAMP); \
	else echo "npm not found: the editor-engine tests (test_editor, test_agreement) will be skipped"; fi

gen: $(STAMP)
	$(PY) -m generator

check-gen: $(STAMP)
	$(PY) -m generator --check

test: $(STAMP) editor-deps
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run.py

# The property-based tests run a few examples per schema branch in `make test`; this runs many, unseeded, and
# the fidelity harness (tests/fidelity/) on many drawn configs and every mutation of every example, upstream config
# and positive case. It fails on a new disagreement or when a buildable tagged-union type is never reached.
fuzz: $(STAMP)
	SAT_FUZZ_EXAMPLES=$${SAT_FUZZ_EXAMPLES:-300} $(PY) -m pytest -q tests/test_ae_fuzz.py
	$(PY) tests/fidelity --draws $${SAT_FIDELITY_DRAWS:-2000}

run: $(STAMP)
	$(SAT) validate examples/
	$(SAT) build --skip-unavailable examples/

lint: $(STAMP)
	$(VENV)/bin/ruff check sat_config generator tests
	$(VENV)/bin/mypy generated sat_config

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache editor-test/node_modules
