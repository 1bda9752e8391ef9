# frontdesk — `make run` serves with embedded defaults, `make test` runs every check CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help deps build run check test lint unit bench bench-load fuzz fuzz-smoke clean-var

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: ## install what the build needs (cmake, a C compiler) when missing
	@scripts/install-deps.sh build

build: deps ## release build
	$(CARGO) build --release --locked

run: build ## serve on 127.0.0.1:8080 (admin 127.0.0.1:9090) with the shipped config
	@scripts/run-dev.sh ./target/release/frontdesk run -c config/frontdesk.yaml

check: build ## validate the shipped config, policies and tenants
	@scripts/run-dev.sh ./target/release/frontdesk check -c config/frontdesk.yaml

lint: deps ## rustfmt, clippy (warnings are errors), module structure, unused dependencies
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	python3 scripts/check-structure.py
	@command -v cargo-machete >/dev/null 2>&1 || $(CARGO) install cargo-machete --locked
	cargo-machete

unit: deps ## every test of the workspace, against a real Redis and PostgreSQL
	@scripts/install-deps.sh test
	@echo "tests parse the calendar feed with $$(scripts/ensure-test-python.sh)"
	@export REDIS_URL="$$(scripts/ensure-redis.sh)" && echo "tests use Redis at $$REDIS_URL" && \
	  export DATABASE_URL="$$(scripts/ensure-postgres.sh)" && echo "tests use the PostgreSQL in DATABASE_URL" && \
	  if $(CARGO) nextest --version >/dev/null 2>&1; then \
	    $(CARGO) nextest run --workspace --exclude frontdesk-fuzz-harness --locked --no-fail-fast; \
	  else \
	    $(CARGO) test --workspace --exclude frontdesk-fuzz-harness --locked --no-fail-fast; \
	  fi

test: lint unit fuzz-smoke ## lint, every test, the short fuzz pass, and the deployment checks
	deploy/check.sh

bench: build ## criterion micro-benches and the end-to-end load run (writes docs/benchmarks.md)
	@scripts/install-deps.sh bench
	@export REDIS_URL="$$(scripts/ensure-redis.sh)" DATABASE_URL="$$(scripts/ensure-postgres.sh)" && \
	  $(CARGO) bench --workspace --locked
	@LOADRUN_SKIP_BUILD=1 bench/run.sh

bench-load: build ## the end-to-end load run only (LOADRUN_ARGS=--quick: a one-minute smoke test)
	@LOADRUN_SKIP_BUILD=1 bench/run.sh $(LOADRUN_ARGS)

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(sort $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs))))
fuzz: ## run every libFuzzer target for FUZZ_SECONDS each from fuzz/corpus (installs cargo-fuzz)
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@# Stable toolchain: RUSTC_BOOTSTRAP for cargo-fuzz's flags, no sanitizer (it needs nightly).
	@# Each target runs on a copy of its seeds in fuzz/runs/ (kept between runs, not committed);
	@# a crash stops the loop and leaves its input in fuzz/artifacts/<target>/.
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build -s none
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/runs/$$target && cp fuzz/corpus/$$target/* fuzz/runs/$$target/ && \
	  echo "fuzz: $$target for $(FUZZ_SECONDS) s (log: fuzz/runs/$$target.log)" && \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -s none "$$target" "runs/$$target" -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -print_final_stats=1 \
	    > "runs/$$target.log" 2>&1) || { tail -n 40 "fuzz/runs/$$target.log"; exit 1; }; \
	  grep -E '^#[0-9]+' "fuzz/runs/$$target.log" | tail -n 1; \
	  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "fuzz/runs/$$target.log"; \
	done

fuzz-smoke: deps ## every fuzz target's body over its committed seeds and a fixed set of mutations of them
	@# The whole workspace is selected, so the build of `make unit` is reused as it is.
	$(CARGO) test --workspace --locked --test corpus

clean-var: ## forget the embedded calendar's data
	rm -rf var
