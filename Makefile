# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
PGHOST ?= 127.0.0.1
PGPORT ?= 5432
PGUSER ?= postgres
DB_NAME ?= healthmed
TEST_DB_NAME ?= healthmed_test
LOCAL_DB_URL = postgres://$(PGUSER)@$(PGHOST):$(PGPORT)/$(1)?sslmode=disable
export PGHOST PGPORT PGUSER

.PHONY: run test db test-db browser generate check-generated vet staticcheck build bench pgo bench-compare bench-subs bench-mixed bench-hostile fuzz test-js test-ts

## run: PostGIS database, migrations, demo data once, server with the GraphQL IDE.
## The server runs as the terminal's foreground job (set -m; the command
## after it keeps bash from exec-ing it in make's place), so Ctrl-C reaches
## it alone: it shuts down cleanly and make exits 0.
run: db
	@echo "run: compiling the server into bin/healthmed (a minute or two the first time)..."
	@mkdir -p bin && start=$$(date +%s) && $(GO) build -o bin/healthmed ./cmd/healthmed && \
		echo "run: compiled in $$(( $$(date +%s) - start ))s; starting: migrations, demo data once, then the server (Ctrl-C stops it)"
	@set -m; HEALTHMED_DEV=$${HEALTHMED_DEV:-true} \
	DATABASE_URL=$${DATABASE_URL:-$(call LOCAL_DB_URL,$(DB_NAME))} \
	bin/healthmed dev; exit $$?

## test: stale-codegen check, go vet, staticcheck, every Go test against a
## real PostGIS (and, in internal/browser, a real headless Chromium), the
## JavaScript clients' live suite, the TypeScript client package's tests,
## and each fuzz target for a few seconds
test: test-db browser check-generated vet staticcheck
	HEALTHMED_TEST_DATABASE_URL=$${HEALTHMED_TEST_DATABASE_URL:-$(call LOCAL_DB_URL,$(TEST_DB_NAME))} \
	HEALTHMED_REQUIRE_DB=1 HEALTHMED_REQUIRE_BROWSER=1 \
	$(GO) test -count=1 -race -timeout 30m ./...
	@$(MAKE) --no-print-directory test-js
	@$(MAKE) --no-print-directory test-ts
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

## test-js: the live updates driven by the JavaScript clients front ends use
## (graphql-ws, Apollo Client, subscriptions-transport-ws) over two replicas
test-js: test-db
	@mkdir -p bin && $(GO) build -o bin/healthmed ./cmd/healthmed
	cd clients/live-tests && npm ci --no-audit --no-fund --loglevel=error && \
	HEALTHMED_BIN=$(CURDIR)/bin/healthmed \
	HEALTHMED_TEST_DATABASE_URL=$${HEALTHMED_TEST_DATABASE_URL:-$(call LOCAL_DB_URL,$(TEST_DB_NAME))} \
	npm test

## test-ts: the TypeScript client package (clients/typescript): generated
## operation types up to date with the schema files, tsc --strict, and its
## tests against a real server
test-ts: test-db
	@mkdir -p bin && $(GO) build -o bin/healthmed ./cmd/healthmed
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && \
	HEALTHMED_BIN=$(CURDIR)/bin/healthmed \
	HEALTHMED_TEST_DATABASE_URL=$${HEALTHMED_TEST_DATABASE_URL:-$(call LOCAL_DB_URL,$(TEST_DB_NAME))} \
	npm test

## fuzz: every Go fuzz target of the project for FUZZTIME each (make test
## gives each a few seconds beyond its seed corpus, which go test runs too)
FUZZTIME ?= 60s
TEST_FUZZTIME ?= 3s
fuzz:
	HEALTHMED_TEST_DATABASE_URL=$${HEALTHMED_TEST_DATABASE_URL:-$(call LOCAL_DB_URL,$(TEST_DB_NAME))} \
	GO=$(GO) .ci/fuzz $(FUZZTIME)

db:
	@if [ -n "$$DATABASE_URL" ]; then deploy/local/prepare-db.sh --url-only; else deploy/local/prepare-db.sh $(DB_NAME); fi

browser:
	@deploy/local/prepare-browser.sh

test-db:
	@if [ -n "$$HEALTHMED_TEST_DATABASE_URL" ]; then DATABASE_URL=$$HEALTHMED_TEST_DATABASE_URL deploy/local/prepare-db.sh --url-only; else deploy/local/prepare-db.sh $(TEST_DB_NAME); fi

generate:
	$(GO) generate ./...

## check-generated: fails when ent/ or graph/ differ from what the schemas generate
check-generated: generate
	@if [ -n "$$(git status --porcelain -- ent graph go.mod go.sum)" ]; then \
		echo "generated code is stale; run 'make generate' and commit:"; \
		git status --porcelain -- ent graph go.mod go.sum; exit 1; fi

vet:
	$(GO) vet ./...

## staticcheck: pinned, fetched once through the module proxy into the
## module cache (offline afterwards); the code Ent and gqlgen generate is
## left out, the Ent schema is not
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
staticcheck:
	$(STATICCHECK) $$($(GO) list ./... | grep -v -E '/healthmed/(ent|graph/generated)(/|$$)') ./ent/schema

build:
	$(GO) build -o bin/healthmed ./cmd/healthmed

## bench: the search's query-plan guard (its plans printed), the statements
## of one booking, the search's load at fixed rates against a serve process
## (CPU per search, latency, goodput), the booking load against one (200
## patients on distinct slots: bookings/s, latency, CPU per booking; 20 races
## of 1,000 patients for one slot), the load benchmarks, then the same search
## side by side with raw SQL and PostGraphile. The subscription loads
## (bench-subs, bench-mixed) take minutes at their full size and run apart
bench: test-db
	export HEALTHMED_TEST_DATABASE_URL=$${HEALTHMED_TEST_DATABASE_URL:-$(call LOCAL_DB_URL,$(TEST_DB_NAME))}; \
	$(GO) test -count=1 -run '^(TestSearchPlanUsesLocationIndex|TestSearchNeverReadsCredentials|TestBookingStatements)$$' -v ./bench/... && \
	HEALTHMED_BENCH_LOAD=1 $(GO) test -count=1 -timeout 30m -run '^(TestSearchLoad|TestBookingLoad)$$' -v ./bench/ && \
	$(GO) test -run '^$$' -bench . -benchtime 3s ./bench/...
	$(MAKE) --no-print-directory bench-compare
	$(MAKE) --no-print-directory bench-hostile

## pgo: refresh cmd/healthmed/default.pgo, the CPU profile every `go build`
## of the server optimises with (profile-guided optimisation): the profiles
## of the search and booking loads' measured runs, merged. Rerun it when the
## hot paths change; a stale profile still builds, it only helps less
pgo: test-db
	dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	HEALTHMED_TEST_DATABASE_URL=$${HEALTHMED_TEST_DATABASE_URL:-$(call LOCAL_DB_URL,$(TEST_DB_NAME))} \
	HEALTHMED_BENCH_LOAD=1 HEALTHMED_BENCH_PROFILE="$$dir" \
	$(GO) test -count=1 -timeout 30m -run '^(TestSearchLoad|TestBookingLoad)$$' ./bench/ && \
	$(GO) tool pprof -proto "$$dir"/*.pprof > "$$dir/merged.pgo" && mv "$$dir/merged.pgo" cmd/healthmed/default.pgo

## bench-compare: the doctor search through healthmed, as raw SQL (pgbench
## with healthmed's statements, prepared) and through PostGraphile v4 (the
## search as a SQL function, installed from bench/compare's package lock), on
## one database in one run: throughput, p50/p95/p99, CPU per request
bench-compare: test-db
	cd bench/compare && npm ci --no-audit --no-fund --loglevel=error
	HEALTHMED_TEST_DATABASE_URL=$${HEALTHMED_TEST_DATABASE_URL:-$(call LOCAL_DB_URL,$(TEST_DB_NAME))} \
	HEALTHMED_BENCH_COMPARE=1 $(GO) test -count=1 -timeout 30m -run '^TestSearchCompare$$' -v ./bench/

## bench-hostile: every attack of a hostile client at one server in production
## mode: server CPU per request, memory growth, answer, survival (bench/hostile)
bench-hostile: test-db
	$(GO) run ./bench/hostile -pg "$(call LOCAL_DB_URL,postgres)"

## bench-subs: N (default 2000) websocket subscribers on two replicas: connect
## time, server memory per connection, fan-out delivery latency (bench/subload)
N ?= 2000
SUBS_FLAGS ?=
bench-subs:
	@deploy/local/prepare-db.sh
	$(GO) run ./bench/subload -n $(N) -pg "$(call LOCAL_DB_URL,postgres)" $(SUBS_FLAGS)

## bench-mixed: the product's day on two replicas (bench/subload -mixed): N
## subscribers, a tenth of them patients on their own appointments and the
## rest one doctor's screens, while patients search (500/s) and book (50/s)
## and doctors accept, on 200,000 seeded doctors: memory per socket,
## delivery of an acceptance to its patient and of the doctor's fan-out,
## search and booking latency, errors by code, nothing lost. Not part of
## `make bench`: minutes at N=20000; MIXED_FLAGS=-h lists the knobs
MIXED_FLAGS ?=
bench-mixed:
	@deploy/local/prepare-db.sh
	$(GO) run ./bench/subload -mixed -n $(N) -pg "$(call LOCAL_DB_URL,postgres)" $(MIXED_FLAGS)
