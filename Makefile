# SSBTEK Core. The README's two commands: `make run` and `make test`.
# Every install comes from uv.lock (exact versions with hashes) through `uv sync --frozen`;
# uv itself is pinned with hashes in requirements-uv.txt. ADR 15 says why and how to update.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
# uv: the interpreter named by PYTHON, never a downloaded one; the project's .venv.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
SYNC := $(UV) sync --frozen --quiet

.PHONY: run test lint typecheck contracts proto proto-check unit clean fuzz soak bench bench-quick \
	profile lock lock-upgrade lock-check sync-run sync-dev config-docs node-deps buf protos proto-release

# The Node.js tools (the buf CLI, and the example client's packages) come from
# clients/node/package-lock.json through `npm ci`, never `npm install` (ADR 5).
NODE_DIR := clients/node
NODE_STAMP := $(NODE_DIR)/node_modules/.package-lock.json
BUF := $(NODE_DIR)/node_modules/.bin/buf
PROTO_IMPORTS := build/proto-imports

$(UV): requirements-uv.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet --require-hashes -r requirements-uv.txt
	touch $(UV)

## sync-run: only what the service needs (no type checkers, linters or test tools)
sync-run: $(UV)
	$(SYNC) --inexact --no-dev

## sync-dev: the service and the dev group (tests, mypy, ruff, import-linter, grpcio-tools)
sync-dev: $(UV)
	$(SYNC) --group dev

## config-docs: the README's configuration table, from the settings model (ADR 16)
config-docs: sync-dev
	$(BIN)/python -m infrastructure.settings_table

## lock: re-resolve uv.lock after a change to pyproject.toml (keeps the pinned versions it can)
lock: $(UV)
	$(UV) lock

## lock-upgrade: re-resolve uv.lock to the newest versions pyproject.toml allows
lock-upgrade: $(UV)
	$(UV) lock --upgrade

## lock-check: fails when pyproject.toml and uv.lock disagree
lock-check: $(UV)
	$(UV) lock --check

## run: the service on its embedded default (SQLite file in ./var, simulated base services),
## gRPC on 127.0.0.1:50051 and the SSBTEK v10 SOAP facade on 127.0.0.1:8088 (ADR 19)
SSBTEK_SOAP_LISTEN ?= 127.0.0.1:8088
run: sync-run
	SSBTEK_SOAP_LISTEN=$(SSBTEK_SOAP_LISTEN) $(BIN)/ssbtek serve

## test: lint, generated-code drift, buf lint and breaking, mypy --strict, import-linter, every pytest tier
test: lint proto-check buf typecheck contracts node-deps
	$(BIN)/pytest -q

lint: sync-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: sync-dev
	$(BIN)/mypy

contracts: sync-dev
	$(BIN)/lint-imports

proto: sync-dev
	$(BIN)/python proto/generate.py

proto-check: sync-dev
	$(BIN)/python proto/generate.py --check

## node-deps: the Node.js packages, exactly as clients/node/package-lock.json pins them
node-deps: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "needs Node.js 20 and npm on PATH"; exit 1; }
	cd $(NODE_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

## buf: buf lint (standard rules and comments) and buf breaking against proto/released.binpb
buf: sync-dev node-deps
	$(BIN)/python proto/bundle.py $(PROTO_IMPORTS) --imports-only
	$(BUF) lint proto
	$(BUF) breaking proto --against proto/released.binpb

## protos: the self-contained proto bundle for vendors: build/protos and build/protos.tar.gz
protos: sync-dev
	$(BIN)/python proto/bundle.py build/protos --archive

## proto-release: record the current contract as the released API buf breaking compares with
proto-release: sync-dev node-deps
	$(BIN)/python proto/bundle.py $(PROTO_IMPORTS) --imports-only
	$(BUF) build proto --exclude-source-info -o proto/released.binpb

unit: sync-dev
	$(BIN)/pytest -q tests/unit

clean:
	rm -rf $(VENV) $(UV_HOME) .mypy_cache .ruff_cache .pytest_cache $(NODE_DIR)/node_modules build

## fuzz: a bounded atheris run over request decoding, translation and validation
FUZZ_RUNS ?= 200000
fuzz: $(UV)
	$(SYNC) --group dev --group fuzz
	$(BIN)/python tests/reliability/fuzz_request_validation.py -runs=$(FUZZ_RUNS)

## soak: the reliability tier with its long runs (10,000 queries for the memory check)
soak: sync-dev
	SSBTEK_SOAK=1 $(BIN)/pytest -q tests/reliability

## bench: the benchmark suite (long, about 50 minutes); bench/results/<UTC time>.json and .md
BENCH_ARGS ?=
bench: sync-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

## bench-quick: every benchmark scenario with smoke durations (a few minutes), same outputs
bench-quick: sync-dev
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

## profile: where one server's CPU goes under load (py-spy, installed on demand); PROFILE=KIND/STORE
PROFILE ?= service/postgres
profile: $(UV)
	$(SYNC) --group dev --group profile
	$(BIN)/python -m bench.profile $(PROFILE)
