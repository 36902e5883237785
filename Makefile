# SSBTEK Core. The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck contracts proto proto-check unit clean fuzz soak bench bench-quick profile

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the service on its embedded default (SQLite file in ./var, simulated base services)
run: $(STAMP)
	$(BIN)/ssbtek serve

## test: lint, generated-code drift, mypy --strict, import-linter contracts, every pytest tier
test: lint proto-check typecheck contracts
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

proto: $(STAMP)
	$(BIN)/python proto/generate.py

proto-check: $(STAMP)
	$(BIN)/python proto/generate.py --check

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

## fuzz: a bounded atheris run over request decoding, translation and validation
FUZZ_RUNS ?= 200000
fuzz: $(STAMP)
	$(BIN)/pip install --quiet 'atheris>=2.3,<4'
	$(BIN)/python tests/reliability/fuzz_request_validation.py -runs=$(FUZZ_RUNS)

## soak: the reliability tier with its long runs (10,000 queries for the memory check)
soak: $(STAMP)
	SSBTEK_SOAK=1 $(BIN)/pytest -q tests/reliability

## bench: the benchmark suite (long, about 50 minutes); bench/results/<UTC time>.json and .md
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## bench-quick: every benchmark scenario with smoke durations (a few minutes), same outputs
bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

## profile: where one server's CPU goes under load (py-spy, installed on demand); PROFILE=KIND/STORE
PROFILE ?= service/postgres
profile: $(STAMP)
	$(BIN)/pip install --quiet 'py-spy>=0.4,<1'
	$(BIN)/python -m bench.profile $(PROFILE)
