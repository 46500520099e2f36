# ferry — make targets. Go 1.26 with GOTOOLCHAIN=local; everything else is fetched through the
# Go module proxy by the targets themselves.
SHELL       := /bin/bash
export GOTOOLCHAIN := local
GO          ?= go
BIN         := bin/ferry
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS     := -s -w -X github.com/ferry-oci/ferry/internal/buildinfo.version=$(VERSION) -X github.com/ferry-oci/ferry/internal/buildinfo.commit=$(COMMIT)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# -race doubles the cost of the registry-heavy packages; the CI budget (15 minutes on 2 cores) allows it.
# e2e runs without it: its tests drive the ferry binary (not built with -race) in child processes,
# and instrumenting only the in-process registries beside them made e2e five times slower (94 s -> 467 s on 2 cores).
TESTFLAGS   ?= -race -timeout 12m
E2EFLAGS    ?= -timeout 12m
FUZZTIME    ?= 60s

.PHONY: all build test lint demo docs bench fuzz reliability interop-cosign test-s3 clean

all: build

# -v lists each package as Go compiles it: on a fresh machine the first build fetches the modules
# and compiles a few hundred packages (minutes), and this shows it going; a warm build lists none.
# ferry-serve is `ferry serve`'s registry, a program of its own beside ferry (internal/cli/serve.go).
build:
	@echo "build: compiling $(BIN) and $(BIN)-serve (Go lists the modules it fetches and the packages it compiles)"
	$(GO) build -v -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ferry
	$(GO) build -v -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)-serve ./cmd/ferry-serve

test:
	$(GO) test $(TESTFLAGS) $$($(GO) list ./... | grep -v '/e2e$$')
	$(GO) test $(E2EFLAGS) ./e2e/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

demo:
	@echo "demo: building ferry first ($(BIN)); on a fresh machine that takes a few minutes"
	@$(MAKE) --no-print-directory build
	./hack/demo.sh

# Every fuzz target for FUZZTIME (default 60s) each; CI runs their seed corpora in make test.
fuzz:
	FUZZTIME=$(FUZZTIME) ./hack/fuzz.sh

# Fault, kill and hostile-input tests with more seeds, and every fuzz target: figures into docs/reliability.md.
reliability:
	FUZZTIME=$(FUZZTIME) ./hack/reliability.sh

# ferry and the real cosign CLI, v2 and v3 (built from the module proxy unless COSIGN2/COSIGN3
# name binaries), check each other's signatures.
interop-cosign: build
	COSIGN2=$(COSIGN2) COSIGN3=$(COSIGN3) ./hack/cosign-interop.sh

# ferry serve with the s3 storage driver on SeaweedFS (built from its Go module into
# ~/.cache/ferry-tools the first time: many minutes), end to end; opt-in, not in CI. docs/serve.md.
test-s3: build
	./hack/test-s3.sh

# The command reference in docs/reference, generated from the cobra tree (a test fails when it is stale).
docs:
	$(GO) run ./hack/docgen docs/reference

# Measures ferry against crane, regctl and skopeo on a generated corpus (hack/bench); writes the
# tables into docs/benchmarks.md and docs/benchmarks.json. BENCH_SIZE=small for a quick run;
# BENCH_SIZE=wide BENCH_RUNS=1 for the scale bench (1,000 small images). BENCH_PROFILE=DIR
# (default .bench/profiles) receives CPU and allocation profiles of ferry in each case.
BENCH_SIZE  ?= default
BENCH_RUNS  ?= 5
bench: build
	BENCH_SIZE=$(BENCH_SIZE) ./hack/bench/bench.sh -runs $(BENCH_RUNS)

clean:
	rm -rf bin
