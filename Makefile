# munibond: every target installs what it needs into the project (.venv, node_modules, .solcx, .ape)
# and is fast when already installed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
SOLC_VERSION := $(shell sed -n 's/.*"solc": "\(.*\)".*/\1/p' package.json)

export APE_DATA_FOLDER := $(CURDIR)/.ape
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/node_modules/@foundry-rs/anvil-linux-amd64/bin:$(BIN):$(PATH)

STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
ADAPTER := .solcx/solc-v$(SOLC_VERSION)
STAMP_BUILD := .build/.compiled
# js/ (the @munibond/abi npm package) and examples/ethers/ each have their own package-lock.json and node_modules.
STAMP_JS := js/node_modules/.installed
STAMP_JS_BUILD := js/dist/.built
STAMP_ETHERS := examples/ethers/node_modules/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: install test test-paris test-current fuzz demo bench lint slither compile abi workspace-template node clean distclean

install: $(STAMP_PY) $(STAMP_NODE) $(ADAPTER) $(STAMP_JS_BUILD) $(STAMP_ETHERS) $(CHROMIUM)

# Headless Chromium (Debian's `chromium`, $(CHROMIUM)) renders the HTML reports in the tests. Installed with
# apt-get when missing, as root (CI runs as root on a fresh machine); nothing happens once the binary is there.
# Without root, the command to run is printed and the install goes on (the rendering tests then say what is missing).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else \
	  echo "$@ is missing: as root, run apt-get install -y --no-install-recommends chromium" >&2; \
	fi

$(STAMP_PY): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e '.[ops,dev]'
	$(BIN)/python -m pip check
	@touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@test -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
	@test -x node_modules/.bin/hardhat
	@touch $@

$(STAMP_JS): js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMP_JS_BUILD): $(STAMP_JS) js/tsconfig.json $(wildcard js/src/*.ts js/src/abi/*.ts)
	rm -rf js/dist
	cd js && node_modules/.bin/tsc -p tsconfig.json
	@touch $@

$(STAMP_ETHERS): examples/ethers/package.json examples/ethers/package-lock.json
	cd examples/ethers && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ADAPTER): tools/solc-adapter.js tools/install-solc-adapter.sh $(STAMP_NODE)
	bash tools/install-solc-adapter.sh $(SOLC_VERSION)

$(STAMP_BUILD): install ape-config.yaml $(shell find contracts -name '*.sol')
	$(BIN)/ape compile
	@mkdir -p .build && touch $@

compile: $(STAMP_BUILD)

# Compiled contracts into the package: ABIs (munibond/abi), deployables' bytecode (munibond/artifacts).
abi: install
	$(BIN)/ape compile --force
	$(BIN)/python -m munibond.abi_export
	node js/scripts/generate.mjs

# The examples `munibond init` copies into a new workspace (munibond/templates/workspace), from examples/.
workspace-template:
	$(BIN)/python -m munibond.workspace examples

# Two chains, two hardforks (README "What `make test` runs"). Contracts are compiled for paris in both runs.
# test-paris: the whole suite on anvil at paris (ape-config.yaml `foundry.evm_version`), the demo included, and
#   the demo once more on Hardhat's node (tests/integration/test_demo_hardhat.py, tools/hardhat/).
# test-current: the contract and payment tests on anvil at the current hardfork (MUNIBOND_HARDFORK, applied
#   by tests/conftest.py). Both run side by side (TEST_JOBS=1: one after the other), each run's output in one
#   block; each ends with a `chain:` line naming the node and hardfork it used.
CURRENT_HARDFORK := osaka
CURRENT_HARDFORK_TESTS = $(wildcard tests/unit/contracts tests/unit/payments tests/stateful)
TEST_JOBS ?= 2
APE_TEST := $(BIN)/ape test -q -p no:cacheprovider

test:
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target test-paris test-current

# A second paris session follows test-current's, so that both jobs take about as long: tests/unit/settlement (in
# the whole-suite session its fixtures meet a wallet that Ape's isolation, rebasing session fixtures first asked
# for late, leaves registered: WalletAlreadyRegistered) and the longest command-line tests (own anvil nodes).
PARIS_APART = tests/unit/settlement tests/integration/test_kill_resume.py tests/integration/test_trade_cli.py \
	tests/integration/test_subscription_cli.py tests/integration/test_subscription_recovery_cli.py \
	tests/integration/test_settlement_kill_resume.py
test-paris: $(STAMP_BUILD)
	$(APE_TEST) tests $(addprefix --ignore=,$(PARIS_APART))

test-current: $(STAMP_BUILD)
	MUNIBOND_HARDFORK=$(CURRENT_HARDFORK) $(APE_TEST) $(CURRENT_HARDFORK_TESTS)
	$(APE_TEST) $(PARIS_APART)

# The model-based test alone, long: 3,000 sequences (FUZZ_EXAMPLES) from a random seed printed at the end;
# FUZZ_SEED=<seed> replays a run. See docs/model-based-testing.md.
fuzz: $(STAMP_BUILD)
	HYPOTHESIS_PROFILE=fuzz $(APE_TEST) tests/stateful --hypothesis-show-statistics

demo: $(STAMP_BUILD)
	$(BIN)/ape run demo

bench: $(STAMP_BUILD)
	$(BIN)/ape run bench
	$(BIN)/ape run bench_payments
	$(BIN)/ape run bench_example_bond
	$(BIN)/ape run bench_registry
	$(BIN)/ape run bench_settlement
	$(BIN)/ape run bench_subscription
	$(BIN)/ape run bench_throughput

NODE_HARDFORK ?= paris
node: install
	anvil --host 127.0.0.1 --port 8545 --accounts 20 --mnemonic "test test test test test test test test test test test junk" \
	  --hardfork $(NODE_HARDFORK)

lint: install
	$(BIN)/ruff check src scripts tests bench
	$(BIN)/ruff format --check src scripts tests bench

# Static analysis (docs/static-analysis.md): slither in its own venv, so its dependencies never touch the pins.
SLITHER_VENV := $(CURDIR)/.venv-slither
SLITHER_VERSION := 0.11.6

$(SLITHER_VENV)/.installed:
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install -q --disable-pip-version-check slither-analyzer==$(SLITHER_VERSION)
	@touch $@

slither: install $(SLITHER_VENV)/.installed
	bash tools/slither.sh $(SLITHER_VENV)/bin/slither

clean:
	rm -rf .build deployments/local.json

distclean: clean
	rm -rf $(VENV) $(SLITHER_VENV) node_modules .solcx .ape js/node_modules js/dist examples/ethers/node_modules
