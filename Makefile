GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 20s
BENCHTIME ?= 1s

.PHONY: all build test deps vet lint bench bench-budgets bench-stats poll-vs-curl team-load fuzz soak clean

all: build

build:
	$(GO) build -trimpath -o sitroom .

# The test command: installs the real servers when missing (as root), then vet and
# every test under the race detector, with integration tests required to run.
test: deps vet
	SITROOM_REQUIRE_INTEGRATION=1 $(GO) test -race -count=1 -timeout 20m $(PKGS)

deps:
	@bash .ci/ensure-deps

vet:
	$(GO) vet $(PKGS)

lint: vet
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 -benchtime $(BENCHTIME) $(PKGS)

# Only the benchmarks behind the budgets of PRODUCT.md (poll cycle, start-up,
# memory), 5 runs each; compare runs with benchstat.
BUDGET_BENCH ?= PollCycle|DecoderSteady|FirstSnapshotWarm|FirstFrameWarm|FirstFrameFresh|MemoryIdle|MemoryPolling
bench-budgets:
	$(GO) test -run '^$$' -bench '$(BUDGET_BENCH)' -benchmem -count 5 -benchtime $(BENCHTIME) ./sources/alertmanager ./model/cache ./sources/runtime

# The budgets of NOC statistics (docs/stats.md) on a generated year of a busy
# NOC (kept in the temp dir for later runs): the store's read, `sitroom stats
# --since 365d` in each format (≤ 200 ms) and the Stats view's first frame
# (≤ 100 ms), 5 runs each.
STATS_BENCH ?= StatsFacts|Stats365d|StatsCommand365d|StatsViewFirstFrame365d
bench-stats:
	$(GO) test -run '^$$' -bench '$(STATS_BENCH)' -benchmem -count 5 -benchtime $(BENCHTIME) ./model/cache ./sources/runtime

# The cold-poll budget: the built binary's `poll --once` (warm and fresh
# cache) against curl fetching the same reply from a real Alertmanager
# holding 10k alerts, POLL_RUNS alternations; logs each run, the medians
# and their ratios (budget: ≤ 1.3× curl). 45 alternations take about a
# minute; the medians of fewer swing with the machine (15: 1.07–1.37×).
POLL_RUNS ?= 45
poll-vs-curl:
	$(GO) test -run '^$$' -bench '^BenchmarkPollVersusCurl10k$$' -benchtime $(POLL_RUNS)x -count 1 -v ./sources/runtime

# The team-mode budget: 20 consoles on one PostgreSQL, 5 actions a second
# for TEAM_LOAD; logs p50/p99 from an action on one console to another's
# cache, connections per console and the server's CPU (TestTeamLoad).
TEAM_LOAD ?= 5m
team-load:
	SITROOM_TEAM_LOAD=$(TEAM_LOAD) $(GO) test -count=1 -run '^TestTeamLoad$$' -timeout 0 -v ./sources/runtime

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# The dashboard built with the race detector on --demo for SOAK (30m), a key
# a second; fails on a race, a crash, or growth of goroutines, heap or RSS,
# and logs the samples. SOAK_ARGS adds flags, e.g. SOAK_ARGS=--kiosk;
# SOAK_RACE=0 builds without the race detector (RSS without its shadow memory).
SOAK ?= 30m
soak:
	SITROOM_SOAK=$(SOAK) $(GO) test -race -count=1 -run '^TestSoak$$' -timeout 0 -v ./sources/runtime

clean:
	rm -f sitroom
