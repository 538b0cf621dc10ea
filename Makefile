# Everything a fresh machine needs (Python 3.11, Node.js, make) is installed from here.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
LAYER_DIR := .build/layers/dependencies
# Lambda's Python, if this machine has it (on PATH or from pyenv): it precompiles the dependency layer.
LAMBDA_PYTHON ?= $(shell for candidate in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	$$candidate -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && { echo $$candidate; break; }; done)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# The stack compiles the library layer with it too (infra/constructs/shared_code.py).
export LAMBDA_PYTHON

WEB_BUNDLE := .build/web/nurture.min.js
DEMO_INDEX := .build/web/demo/index.html
# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded at test time).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test test-unit test-functions test-integration test-infra e2e lint synth diff deploy layers web \
	browser bench bench-cost clean

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install web
	$(BIN)/nurture local $(if $(PERSIST),--persist $(PERSIST)) $(ARGS)

# The in-process suites on every core (each xdist worker has its own moto); the ones that start local systems and
# browsers on two workers, a file's tests together with the systems its fixtures start (each on a free port and
# its own state folder): 5.5 minutes where one after another took 7.5.
test: install lint web browser
	$(BIN)/python -m pytest -n auto --durations=15 tests/unit tests/functions tests/infra
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 tests/integration tests/e2e

test-unit test-functions test-integration test-infra: install
	$(BIN)/python -m pytest tests/$(subst test-,,$@)

# The web side in a real browser: the demo site, the snippet and the forms, on the local runtime.
e2e: install web browser
	$(BIN)/python -m pytest tests/e2e

# The tracking snippet, minified (terser, pinned in package.json).
web: $(WEB_BUNDLE) $(DEMO_INDEX)

# The demo site's pages: each of web/demo/_pages/ in web/demo/_layout.html, as plain HTML beside the snippet.
$(DEMO_INDEX): web/demo/_layout.html $(shell find web/demo/_pages -name '*.html') $(PY_STAMP)
	$(BIN)/python -m nurture.local.demo_site web/demo .build/web/demo

$(WEB_BUNDLE): web/nurture.js $(NODE_STAMP)
	mkdir -p $(@D)
	npx terser web/nurture.js --compress --mangle --comments '/^!/' --output $@

browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; }

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy bench  # apart: its load test imports the tests' helpers, which mypy's file list leaves out

# The third-party runtime dependencies, as Lambda (Python 3.13, arm64) needs them: wheels only, no Docker.
# The stamp sits beside the layer, not in it: everything in $(LAYER_DIR) ships to /opt.
LAYER_STAMP := $(LAYER_DIR).built
layers: $(LAYER_STAMP)

$(LAYER_STAMP): layers/dependencies/requirements.txt $(PY_STAMP)
	rm -rf $(LAYER_DIR) $@
	$(BIN)/python -m pip install --quiet --platform manylinux2014_aarch64 --python-version 3.13 \
		--implementation cp --only-binary=:all: --no-deps --no-compile --target $(LAYER_DIR)/python \
		-r layers/dependencies/requirements.txt
	@# /opt is read-only in Lambda: bytecode not shipped is compiled again at every cold start.
	@if [ -n "$(LAMBDA_PYTHON)" ]; then \
		$(BIN)/python -m infra.layer_bytecode $(LAYER_DIR)/python $(LAMBDA_PYTHON) && echo "bytecode: 3.13" > $@; \
	else echo "No Python 3.13 on this machine: the dependency layer ships without bytecode (slower cold starts)"; \
		echo "bytecode: none" > $@; fi

synth: install layers
	npx cdk synth --quiet

# What a deploy would change in the stack of your AWS credentials' account and region, with the same CONTEXT.
diff: install layers
	npx cdk diff $(CONTEXT)

# Deploys with the pinned CDK CLI to the account and region of your AWS credentials (docs/deploy.md).
# CONTEXT="-c nurture:senderAddress=news@your-domain.jp -c nurture:alarmEmail=ops@your-domain.jp"
deploy: install layers
	npx cdk deploy --require-approval broadening $(CONTEXT)

# Every section of docs/benchmarks.md (over an hour), or only those named: make bench SECTIONS="cost deploy".
bench: install browser  # the CDK CLI too: it times a synth
	$(BIN)/python -m bench.run $(SECTIONS)

# The tracking hits' cost alone, in about a minute (bench.run measures everything, in about an hour).
bench-cost: $(PY_STAMP)
	$(BIN)/python -m bench.cost

clean:
	rm -rf $(VENV) node_modules .build cdk.out .nurture .pytest_cache .mypy_cache .ruff_cache
