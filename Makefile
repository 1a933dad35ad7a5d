# adagrad: see README.md. Every target works on a fresh clone with Go and the
# module proxy; `make test` also uses qemu-user-static when it is installed.

GO        ?= go
FUZZTIME  ?= 1m
# make test fuzzes by count: a duration can fail spuriously with "context deadline
# exceeded" when it ends mid-input (Go 1.26's coordinator race, go.dev/issue/75804).
SHORTFUZZ ?= 30000x
BENCHCOUNT ?= 6
# Targets that `make test` cross-builds; `make cross` builds every `go tool dist list` target.
CROSS     ?= linux/386 linux/arm64 linux/riscv64 linux/ppc64le windows/amd64 darwin/arm64 js/wasm

.PHONY: exhaustive bench-testdata run test vet generate check-generate unit race purego test-arm64 cross-some cross fuzz fuzz-short fuzz-corpus bench golden

run:
	$(GO) run ./trainer all

test: vet check-generate unit race purego test-arm64 cross-some fuzz-short

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags purego $(HOSTLIBS)
	GOARCH=arm64 $(GO) vet $(HOSTLIBS)
	cd internal/gen && $(GO) vet ./...

generate:
	$(GO) generate ./...

# The generated files must be exactly what the generator writes.
GENERATED = kernel/asm/apply_avx2_amd64.s kernel/asm/apply_avx2_amd64.go \
	kernel/asm/apply_avx512_amd64.s kernel/asm/apply_avx512_amd64.go kernel/asm/forms_amd64.go \
	kernel/asm/prefetch_amd64.s kernel/asm/prefetch_amd64.go \
	kernel/asm/rows_avx2_amd64.s kernel/asm/rows_avx2_amd64.go \
	kernel/asm/limits_avx2_amd64.s kernel/asm/limits_avx2_amd64.go \
	kernel/asm/fast_avx2_amd64.s kernel/asm/fast_avx2_amd64.go \
	kernel/asm/fast_avx512_amd64.s kernel/asm/fast_avx512_amd64.go \
	kernel/asm/limits_avx512_amd64.s kernel/asm/limits_avx512_amd64.go \
	kernel/asm/apply_neon_arm64.s kernel/asm/apply_neon_arm64.go kernel/asm/forms_arm64.go

check-generate: generate
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "kernel/asm drifted from internal/gen: commit the output of 'make generate'"; \
		git status --porcelain -- $(GENERATED); git diff --stat -- $(GENERATED); exit 1; fi

unit:
	$(GO) test -count=1 ./...

# The parallel paths must be race-free and equal to the sequential ones; the stress
# test runs every kernel on many goroutines at once, and TestRaceSeesAssembly proves
# the detector sees inside the assembly (race_on.go).
# The library packages (not the commands, whose plotting dependencies would be
# compiled once more for every tag set and architecture). The commands are vetted
# and tested on the host.
HOSTLIBS = $$($(GO) list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./...)

race:
	$(GO) test -count=1 -race -run 'Parallel|Stress|Race|Arena' ./kernel/... .

purego:
	$(GO) test -count=1 -short -tags purego $(HOSTLIBS)

# arm64 under qemu: the NEON kernels against the reference, and the reference itself
# where the Go compiler would fuse multiply-adds if it let it; the purego run goes
# alongside, on the other core. Timings mean nothing.
test-arm64:
	@if command -v qemu-aarch64-static >/dev/null; then \
		out=$$(mktemp); \
		GOARCH=arm64 $(GO) test -count=1 -short -tags purego -exec qemu-aarch64-static $(HOSTLIBS) >$$out 2>&1 & \
		GOARCH=arm64 $(GO) test -count=1 -short -exec qemu-aarch64-static $(HOSTLIBS); neon=$$?; \
		wait $$!; purego=$$?; echo "arm64 -tags purego:"; cat $$out; rm -f $$out; \
		test $$neon -eq 0 -a $$purego -eq 0; \
	else \
		echo "*** qemu-aarch64-static is not installed: arm64 tests NOT RUN."; \
		echo "*** apt-get install qemu-user-static, then make test-arm64"; \
	fi

# The library packages of the target in the shell's $$t; the commands (trainer,
# bench) build and run in the tests.
LIBPKGS = $$(GOOS=$${t%/*} GOARCH=$${t\#*/} $(GO) list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./...)

cross-some:
	@for t in $(CROSS); do echo "build $$t"; GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) build $(LIBPKGS) || exit 1; done
	@for t in linux/amd64 linux/arm64; do echo "build $$t purego"; GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -tags purego $(LIBPKGS) || exit 1; done

# Libraries only: android and ios cannot link a command without cgo.
cross:
	@for t in $$($(GO) tool dist list); do \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) build $(LIBPKGS) \
		|| { echo "FAILED: $$t"; exit 1; }; done; echo "all $$($(GO) tool dist list | wc -l) targets build"

# Every fuzz target of the module (found by go test -list), each for FUZZTIME, with
# the inputs each ran and their total; a timed run that ends in Go's coordinator race
# with no failing input counts as passed, and the summary says so.
fuzz:
	$(GO) run ./internal/fuzzall -fuzztime $(FUZZTIME)

fuzz-short:
	$(MAKE) fuzz FUZZTIME=$(SHORTFUZZ)

# Copies the inputs that the fuzzer found interesting (in the Go build cache) into
# each package's committed seed corpus, testdata/fuzz. Run after `make fuzz`.
fuzz-corpus:
	$(GO) run ./internal/fuzzall -corpus

# Every implementation side by side; benchstat's columns are the paths, with ratios.
# The two small files bench's compare test reads: real runs of `bench run`.
bench-testdata:
	$(GO) run ./bench run -sizes 16,1K -benchtime 20ms -count 3 -o bench/testdata/a.txt
	$(GO) run ./bench run -sizes 16,1K -benchtime 20ms -count 3 -o bench/testdata/b.txt

bench:
	mkdir -p out
	$(GO) test -run '^$$' -bench . -count $(BENCHCOUNT) -timeout 60m ./kernel | tee out/bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest -col /impl out/bench.txt

# Regenerates the golden cases: real PyTorch 1.13 (apt-get install python3-torch) and
# the frameworks' published formulas in numpy. Tests read the committed output.
golden:
	/usr/bin/python3 testdata/golden/gen_pytorch.py
	/usr/bin/python3 testdata/golden/gen_formulas.py

# The fast mode's reciprocal square root on all 2^32 float32 inputs: natively (a
# few minutes: every x86 kernel the CPU runs, Intel's RSQRT14S model against the
# CPU's VRSQRT14PS where it has AVX-512, and the Go model of Arm's FRSQRTE and
# NEON refinement), then the NEON kernel under qemu (about 20 minutes). make test
# runs every 4099th input.
exhaustive:
	$(GO) test -count=1 -timeout 60m -run 'RsqrtFast|Rsqrt14|NEONRsqrtModel' -v ./kernel/asm -exhaustive
	GOARCH=arm64 $(GO) test -count=1 -timeout 60m -exec qemu-aarch64-static -run 'RsqrtFast' -v ./kernel/asm -exhaustive
