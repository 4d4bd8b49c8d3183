# identityd: `make run` to try it, `make test` to prove it. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
RUN_PACKAGES := curl jq ca-certificates pkg-config libhiredis-dev libargon2-dev
TEST_PACKAGES := curl ca-certificates pkg-config libhiredis-dev libargon2-dev postgresql postgresql-client redis-server redis-tools nginx \
	python3 python3-venv chromium chromium-driver

.PHONY: run build release test test-unit bench bench-smoke clean

## Install what is missing, build in release mode, apply tenants/ and serve on 127.0.0.1:8080 (SQLite in ./data).
run: release
	./.build/release/identityd tenants apply tenants/
	exec ./.build/release/identityd serve

release:
	@scripts/install-deps.sh $(RUN_PACKAGES)
	$(SWIFT) build -c release --product identityd

build:
	$(SWIFT) build

## Every test: unit, store conformance, end-to-end against the real binary, the browser and client-library
## tests (Python: Selenium with headless Chromium, authlib) against it.
test:
	@scripts/install-deps.sh $(TEST_PACKAGES)
	@# The alert rules of deploy/ parse and fire on the series they are written for.
	scripts/promtool.sh check rules deploy/prometheus/alerts.yml && scripts/promtool.sh test rules deploy/prometheus/alerts_test.yml
	$(SWIFT) build --build-tests
	@# The tests that stop and start the shared servers run apart, after all the others.
	PYTHON=$$(scripts/python-env.sh) && IDENTITYD_BINARY=$(CURDIR)/.build/debug/identityd scripts/with-services.sh bash -c \
	  '$(SWIFT) test --skip-build --skip SharedServerTests && $(SWIFT) test --skip-build --filter SharedServerTests \
	   && '"$$PYTHON"' -m unittest discover -s tests/browser -v'

## Load benchmarks with wrk on SQLite and PostgreSQL + Redis; writes docs/benchmarks.md (about 25 minutes).
bench:
	@scripts/install-deps.sh $(TEST_PACKAGES) wrk
	$(SWIFT) build -c release --product identityd
	PYTHON=$$(scripts/python-env.sh) && scripts/with-services.sh $$PYTHON bench/run.py $(BENCH_ARGS)

## Every benchmark scenario for 3 s; fails on any non-2xx answer. Writes nothing.
bench-smoke:
	@scripts/install-deps.sh $(TEST_PACKAGES) wrk
	$(SWIFT) build -c release --product identityd
	PYTHON=$$(scripts/python-env.sh) && scripts/with-services.sh $$PYTHON bench/run.py --smoke $(BENCH_ARGS)

## Only the fast in-process tests, while iterating.
test-unit:
	$(SWIFT) test --filter 'IdentityCoreTests|IdentityHTTPTests|StoreConformanceTests|SQLiteStoreTests'

clean:
	rm -rf .build data
