# Satchel's entry points. `make serve` and `make test` set everything up first (idempotent, cached).
HOST ?= 127.0.0.1
PORT ?= 8470
SATCHEL := .venv/bin/satchel

.PHONY: setup serve dev build test e2e lock clean

setup:
	scripts/setup.sh

build: setup
	$(SATCHEL) build

serve: build
	$(SATCHEL) serve --host $(HOST) --port $(PORT)

# Rebuilds on every change under app/.
dev: setup
	$(SATCHEL) serve --host $(HOST) --port $(PORT) --reload

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
