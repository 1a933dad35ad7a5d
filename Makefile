# adagrad: see README.md. Every target works on a fresh clone with Go and the
# module proxy; `make test` also uses qemu-user-static when it is installed.
#
# Six modules: the library (the root), trainer/ and bench/ (the commands, whose
# plotting and benchmark dependencies the library must not require),
# contrib/gorgonia and contrib/spago (the framework adapters, so that no
# framework is ever the library's dependency) and internal/gen (the generator). go.work joins them so that `go run ./trainer` and
# `go run ./bench` work from the root; the checks below run each module alone
# (GOWORK=off) on its own go.mod and go.sum, as a user of that module builds it:
# in the workspace, the library would build with the newest version any of the
# six modules requires.

GO        ?= go
# The go command on one module alone: the one in the current directory, or -C DIR's.
GOMOD     = GOWORK=off $(GO)
# The modules besides the library that make checks (internal/gen is vetted): the
# commands and the framework adapters.
CMDMODS   = trainer bench contrib/gorgonia contrib/spago
FUZZTIME  ?= 1m
# make test fuzzes by count: a duration can fail spuriously with "context deadline
# exceeded" when it ends mid-input (Go 1.26's coordinator race, go.dev/issue/75804).
SHORTFUZZ ?= 30000x
BENCHCOUNT ?= 6
# Targets that `make test` cross-builds; `make cross` builds every `go tool dist list` target.
CROSS     ?= linux/386 linux/arm64 linux/riscv64 linux/ppc64le windows/amd64 darwin/arm64 js/wasm

.PHONY: help exhaustive bench-testdata run test vet generate check-generate unit race purego test-arm64 cross-some cross fuzz fuzz-short fuzz-corpus bench golden

# `make` alone lists the targets: each target's line below that ends in "## what it does".
help: ## this list
	@echo "make TARGET, one of:"
	@awk -F':.*## ' '/^[a-z0-9-]+:.*## /{printf "  %-15s %s\n", $$1, $$2}' Makefile

run: ## the experiments of d2l's Adagrad chapter and a sparse one (go run ./trainer all); figures in ./out
	$(GO) run ./trainer all

test: vet check-generate unit race purego test-arm64 cross-some fuzz-short ## the whole suite: every check below from vet to fuzz-short

vet: ## gofmt, go vet of every module (and the library for purego and arm64), go mod tidy, help's list
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GOMOD) vet ./...
	@for m in $(CMDMODS); do echo "$(GOMOD) -C $$m vet ./..."; $(GOMOD) -C $$m vet ./... || exit 1; done
	$(GOMOD) vet -tags purego $(HOSTLIBS)
	GOARCH=arm64 $(GOMOD) vet $(HOSTLIBS)
	$(GOMOD) -C internal/gen vet ./...
	@# Each go.mod requires exactly what its module imports: the library's, only
	@# what kernel, ref, the root package and their internal helpers need.
	@for m in . $(CMDMODS) internal/gen; do $(GOMOD) -C $$m mod tidy -diff >/dev/null \
		|| { echo "$$m/go.mod or go.sum is not tidy: run go mod tidy there"; $(GOMOD) -C $$m mod tidy -diff; exit 1; }; done
	@# The workspace still has every module, for the README's go run ./trainer and ./bench.
	$(GO) list -m github.com/adagrad-go/adagrad $(addprefix github.com/adagrad-go/adagrad/,$(CMDMODS) internal/gen) >/dev/null
	@for t in $$(sed -n 's/^\.PHONY://p' Makefile); do grep -q "^$$t:.*## " Makefile || { echo "make help: $$t has no '## ' line"; exit 1; }; done

generate: ## rewrite kernel/asm from internal/gen
	$(GOMOD) generate ./...

# The generated files must be exactly what the generator writes: anything under
# kernel/asm that generate changed, added or left behind fails, so a new output
# cannot escape a list, and so does any change to the generic path's loops,
# kernel/apply_generic.go. (Commit or stash their own edits first.)
GENERATED = kernel/asm kernel/apply_generic.go
check-generate: generate ## make generate, then fail if kernel/asm or kernel/apply_generic.go changed
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "$(GENERATED) drifted from internal/gen: commit the output of 'make generate'"; \
		git status --porcelain -- $(GENERATED); git diff --stat -- $(GENERATED); exit 1; fi

unit: ## go test of every package of the library, trainer and bench
	$(GOMOD) test -count=1 ./...
	@for m in $(CMDMODS); do echo "$(GOMOD) -C $$m test -count=1 ./..."; $(GOMOD) -C $$m test -count=1 ./... || exit 1; done

# The parallel paths must be race-free and equal to the sequential ones; the stress
# test runs every kernel on many goroutines at once, and TestRaceSeesAssembly proves
# the detector sees inside the assembly (race_on.go).
# The library's packages: the root module's but internal/fuzzall, a command. The
# commands are other modules, vetted and tested on the host only, whose plotting
# dependencies would be compiled once more for every tag set and architecture.
HOSTLIBS = $$($(GOMOD) list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./...)

race: ## the parallel paths, the arena and the stress test under -race
	$(GOMOD) test -count=1 -race -run 'Parallel|Stress|Race|Arena' ./kernel/... .

purego: ## the library's tests with -tags purego
	$(GOMOD) test -count=1 -short -tags purego $(HOSTLIBS)

# arm64 under qemu: the NEON kernels against the reference, and the reference itself
# where the Go compiler would fuse multiply-adds if it let it; the purego run goes
# alongside, on the other core. Timings mean nothing.
test-arm64: ## the library's tests on arm64 under qemu-aarch64-static, NEON and purego
	@if command -v qemu-aarch64-static >/dev/null; then \
		out=$$(mktemp); \
		GOARCH=arm64 $(GOMOD) test -count=1 -short -tags purego -exec qemu-aarch64-static $(HOSTLIBS) >$$out 2>&1 & \
		GOARCH=arm64 $(GOMOD) test -count=1 -short -exec qemu-aarch64-static $(HOSTLIBS); neon=$$?; \
		wait $$!; purego=$$?; echo "arm64 -tags purego:"; cat $$out; rm -f $$out; \
		test $$neon -eq 0 -a $$purego -eq 0; \
	else \
		echo "*** qemu-aarch64-static is not installed: arm64 tests NOT RUN."; \
		echo "*** apt-get install qemu-user-static, then make test-arm64"; \
	fi

# The library's packages for the target in the shell's $$t; the commands (trainer,
# bench) build and run in the tests.
LIBPKGS = $$(GOOS=$${t%/*} GOARCH=$${t\#*/} $(GOMOD) list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./...)

cross-some: ## build the library for each of CROSS, and purego for linux/amd64 and arm64
	@for t in $(CROSS); do echo "build $$t"; GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GOMOD) build $(LIBPKGS) || exit 1; done
	@for t in linux/amd64 linux/arm64; do echo "build $$t purego"; GOOS=$${t%/*} GOARCH=$${t#*/} $(GOMOD) build -tags purego $(LIBPKGS) || exit 1; done

# Libraries only: android and ios cannot link a command without cgo.
cross: ## build the library for every go tool dist list target
	@for t in $$($(GO) tool dist list); do \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GOMOD) build $(LIBPKGS) \
		|| { echo "FAILED: $$t"; exit 1; }; done; echo "all $$($(GO) tool dist list | wc -l) targets build"

# Every fuzz target of every module (found by go test -list), each for FUZZTIME, with
# the inputs each ran and their total; a timed run that ends in Go's coordinator race
# with no failing input counts as passed, and the summary says so.
fuzz: ## every fuzz target for FUZZTIME (default 1m) each
	$(GOMOD) run ./internal/fuzzall -fuzztime $(FUZZTIME)

fuzz-short: ## every fuzz target for SHORTFUZZ (30000) inputs each
	$(MAKE) fuzz FUZZTIME=$(SHORTFUZZ)

# Copies the inputs that the fuzzer found interesting (in the Go build cache) into
# each package's committed seed corpus, testdata/fuzz. Run after `make fuzz`.
fuzz-corpus: ## copy what make fuzz found into each package's testdata/fuzz
	$(GOMOD) run ./internal/fuzzall -corpus

# The two small files bench's compare test reads: real runs of `bench run`.
bench-testdata: ## remake bench/testdata/a.txt and b.txt, the files bench's tests read
	$(GOMOD) -C bench run . run -sizes 16,1K -benchtime 20ms -count 3 -o testdata/a.txt
	$(GOMOD) -C bench run . run -sizes 16,1K -benchtime 20ms -count 3 -o testdata/b.txt

# Every implementation side by side; benchstat's columns are the paths, with ratios.
# benchstat is bench's tool (bench/go.mod), at the golang.org/x/perf that bench
# compare links.
bench: ## go test -bench of every path into out/bench.txt, and benchstat's table of it
	mkdir -p out
	$(GOMOD) test -run '^$$' -bench . -count $(BENCHCOUNT) -timeout 60m ./kernel | tee out/bench.txt
	$(GOMOD) -C bench tool benchstat -col /impl $(CURDIR)/out/bench.txt

# Regenerates the golden cases: real PyTorch 1.13 (apt-get install python3-torch) and
# the frameworks' published formulas in numpy. Tests read the committed output.
golden: ## remake testdata/golden with PyTorch 1.13 and numpy
	/usr/bin/python3 testdata/golden/gen_pytorch.py
	/usr/bin/python3 testdata/golden/gen_formulas.py

# The fast mode's reciprocal square root on all 2^32 float32 inputs: natively (a
# few minutes: every x86 kernel the CPU runs, Intel's RSQRT14S model against the
# CPU's VRSQRT14PS where it has AVX-512, and the Go model of Arm's FRSQRTE and
# NEON refinement), then the NEON kernel under qemu (about 20 minutes). make test
# runs every 4099th input.
exhaustive: ## every input: the fast mode's rsqrt (natively and under qemu), the hybrid kernels' FMA sqrt, 1/d and a/d
	$(GOMOD) test -count=1 -timeout 60m -run 'RsqrtFast|Rsqrt14|NEONRsqrtModel|SqrtFMA|RecipFMA|DivFMA' -v ./kernel/asm -exhaustive
	GOARCH=arm64 $(GOMOD) test -count=1 -timeout 60m -exec qemu-aarch64-static -run 'RsqrtFast' -v ./kernel/asm -exhaustive
