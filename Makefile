# kirikae: every target a fresh machine needs. Tools are pinned in go.mod and run with `go tool`.
GO ?= go
SHELL := /bin/bash
PKGS := ./...

.PHONY: all build generate check-generate breaking lint test test-race bench chaos ci demo

all: lint test

# The version `kirikae version` prints and agents register with; the commit comes from the
# go command's VCS stamping.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
build:
	$(GO) build -ldflags "-X github.com/kirikae/kirikae/buildinfo.version=$(VERSION)" -o bin/kirikae ./cmd/kirikae

generate:
	$(GO) tool buf generate

# Regenerate into the work tree and fail on any difference from what is committed.
check-generate: generate
	@git diff --exit-code -- gen/ || (echo "generated code is stale: run 'make generate' and commit gen/" >&2; exit 1)
	@test -z "$$(git status --porcelain -- gen/)" || (git status --porcelain -- gen/; echo "untracked generated files: run 'make generate' and commit gen/" >&2; exit 1)

# The wire contract (WIRE_JSON: the gRPC API, its JSON, and the raft log's commands, which
# reuse API messages) must not break against the main branch: the merge base with
# origin/main, or, on main itself, the commit before HEAD. BREAKING_AGAINST overrides it.
BREAKING_AGAINST ?= $(shell base=$$(git merge-base HEAD origin/main 2>/dev/null); \
	if [ -z "$$base" ] || [ "$$base" = "$$(git rev-parse HEAD)" ]; then base=$$(git rev-parse --verify -q HEAD~1); fi; echo $$base)
breaking:
	@if [ -z "$(BREAKING_AGAINST)" ]; then echo "breaking: no earlier commit to compare with"; else \
		echo "buf breaking against $(BREAKING_AGAINST)"; $(GO) tool buf breaking --against '.git#ref=$(BREAKING_AGAINST)'; fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); test -z "$$out" || (echo "gofmt needed:" $$out >&2; exit 1)
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) tool buf lint
	$(GO) tool buf format -d --exit-code

# Every package runs under the race detector. The integration tests start real processes:
# the control-plane tests among them run race-built servers; the DR-world tests (agents,
# awssim, whole failovers) run plain builds, which keeps CI within its budget on two cores
# (race-built, the package took 16 minutes).
RACE_INTEGRATION := ^(TestClusterSurvivesLeaderKill|TestRestartAndSnapshotRoundTrip|TestRefusals|TestGrpcurlAndHTTP|TestPartitionedLeader|TestLinearizableReads|TestAgentStreamAgainstRealControlPlane|TestRunSurvivesLeaderKillAndAgentKill)$$
test:
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list $(PKGS) | grep -v '/integration$$')
	$(GO) test -race -count=1 -timeout 20m -run '$(RACE_INTEGRATION)' ./integration/
	KIRIKAE_NO_RACE=1 $(GO) test -race -count=1 -timeout 20m -skip '$(RACE_INTEGRATION)' ./integration/

# Benchmarks print figures; they assert nothing about time. Each one measures for a fixed
# span inside a single iteration, so -benchtime 1x.
bench:
	KIRIKAE_NO_RACE=1 $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./bench/...

# The linearizability checker at length: clients on every node of a 3-node cluster (in
# network namespaces, so it needs root and iproute2) with 40 ms each way on every raft link,
# while kill -9, SIGSTOP and cut cables hit one node at a time; porcupine checks every
# history. It prints the faults, operations and illegal histories, and writes a porcupine
# visualization of any illegal one into CHAOS_DIR. About an hour for 1,000 faults.
CHAOS_FAULTS ?= 1000
CHAOS_DIR ?= $(CURDIR)/chaos-out
chaos:
	mkdir -p $(CHAOS_DIR)
	KIRIKAE_NO_RACE=1 KIRIKAE_CHAOS_FAULTS=$(CHAOS_FAULTS) KIRIKAE_CHAOS_DIR=$(CHAOS_DIR) \
		$(GO) test -count=1 -timeout 0 -run '^TestLinearizableReads$$' -v ./integration/ 2>&1 | grep --line-buffered -E '(chaos|round [0-9]+|^(---|ok|FAIL|PASS))'; exit $${PIPESTATUS[0]}

demo: build
	./bin/kirikae demo

ci: check-generate breaking lint test
