# Thin wrapper around CMake. `make test` and `make paper` first make sure the Debian packages
# they need are installed (installing them when run as root, else printing the apt-get line).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# Debian packages for building and testing.
DEPS = cmake make gcc pkg-config lua5.4 liblua5.4-dev lua-cjson lua-cjson-dev \
       libcurl4-openssl-dev libgsl-dev libmicrohttpd-dev libsqlite3-dev libedit-dev libzstd-dev \
       lua-busted lua-check luarocks python3 chromium curl nodejs npm nginx-light openssl \
       slurm-wlm munge
# Peers measured by the benchmarks.
BENCH_DEPS = python3-scipy python3-statsmodels python3-aiohttp

.PHONY: all build test paper bench soak fuzz deps bench-deps install clean mutate mutate-run coverage

all: build

deps:
	@sh tests/install-deps.sh $(DEPS)

bench-deps:
	@sh tests/install-deps.sh $(DEPS) $(BENCH_DEPS)

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# The sanitizer build runs first, then the mutation tests (tests/mutate, within MUTATE_BUDGET
# seconds), so the last lines printed are the full suite's: the skipped tests and why, then
# "N passed, N failed, N skipped" (tests/run-ctest.sh). Under CI=true a missing prerequisite
# fails its test instead of skipping it, unless the test declares it optional.
MUTATE_BUDGET ?= 1200
test: deps
	cmake -S . -B $(ASAN_BUILD) -DINTROSPECT_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	sh tests/run-ctest.sh $(ASAN_BUILD) -j $(JOBS) -L '^(c|host|cli)$$'
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	$(MAKE) --no-print-directory mutate-run
	sh tests/run-ctest.sh $(BUILD) -j $(JOBS)

# Mutation testing: every mutation of tests/mutate/mutations.lua against the specs that should
# catch it, with a caught/survived table; fails on a survivor, a stale mutation or the budget.
mutate: deps build
	$(MAKE) --no-print-directory mutate-run
mutate-run:
	INTROSPECT_BIN=$(CURDIR)/$(BUILD)/introspect INTROSPECT_SOURCE=$(CURDIR) \
	  $(BUILD)/introspect tests/mutate/run.lua --budget=$(MUTATE_BUDGET) --jobs=$(JOBS) $(MUTATIONS)

paper: deps build
	$(BUILD)/introspect experiments/paper.lua $(ARGS)

bench: bench-deps build
	$(BUILD)/introspect tests/bench/run.lua $(ARGS)

# A 10-minute fault-injection run against `introspect serve` (not part of `make test`).
soak: deps build
	$(BUILD)/introspect tests/soak.lua $(ARGS)

# Every libFuzzer harness of tests/fuzz for FUZZ_SECONDS each (clang, ASan/UBSan, build-fuzz).
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_DEPS = cmake make clang pkg-config liblua5.4-dev lua-cjson-dev libcurl4-openssl-dev libgsl-dev \
            libmicrohttpd-dev libsqlite3-dev libedit-dev libzstd-dev
fuzz:
	@sh tests/install-deps.sh $(FUZZ_DEPS)
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DINTROSPECT_FUZZ=ON $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Per-file line coverage: gcov for bindings/ and host/, a line counter in C (introspect.coverage,
# driven by tests/coverage/hook.lua) for the Lua library, over the C tests, host specs and CLI tests.
COVERAGE_BUILD ?= build-coverage
coverage: deps
	JOBS=$(JOBS) sh tests/coverage/run.sh $(COVERAGE_BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(COVERAGE_BUILD)
