# The two commands a new user runs, and the steps behind them. CMake does the
# building; this file only sequences set-up, builds and test suites.
#
#   make demo   install what the demo needs, build quietly, then a narrated run:
#               train PCA and k-means on a small data set, show the models, serve one
#   make test   everything CI runs: unit tests (Release and ASan+UBSan), fuzz
#               replays and a short fuzz run, Python integration tests, Docker
#               tests, the clang-format and clang-tidy checks; a closing table
#   make check  the edit-compile-test loop: Release build, unit tests and layering
#               probes, Python integration tests; no sanitizers, fuzzing or Docker
#   make install  smalgo into $(DESTDIR)$(PREFIX)/bin;  make bench  the benchmarks
#
# Every step runs through tests/run-stage.sh: a banner, its output kept in
# build/test-logs/<stage>.log (shown as it runs with V=1, its tail shown when it
# fails), then its counts, time and skips. `make test` and `make check` run all
# their stages and close with tests/summary.py's table.
# Another stage of `make test`: a target whose recipe is `@$(STAGE) <name> <kind>
# COMMAND` (kinds in tests/run-stage.sh), plus one `TEST_STAGES += <name>` line.

SHELL := /bin/bash
JOBS ?= 2
VENV ?= $(if $(SMALGO_VENV),$(SMALGO_VENV),$(CURDIR)/.venv)
PY := $(VENV)/bin/python
FUZZ_SECONDS ?= 10
BENCH_SCALE ?= 1
PREFIX ?= /usr/local
export SMALGO_BIN ?= $(CURDIR)/build/runtime/smalgo
export OMPI_ALLOW_RUN_AS_ROOT = 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = 1

C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
V ?= 0
export V
export SMALGO_STAGE_DIR ?= $(CURDIR)/build/test-logs
STAGE = bash tests/run-stage.sh
# `make test`'s stages, in order (set-up stages run as their prerequisites).
TEST_STAGES = unit-test asan-test fuzz-test py-test docker-test format-check tidy
CHECK_STAGES = unit-test py-test

.PHONY: all install deps deps-test venv build build-asan build-fuzz demo test check unit-test asan-test \
        fuzz-test py-test docker-test format format-check tidy image bench clean

all: build

# `make demo` installs only what the demo needs; `make test` the rest too.
deps:
	@$(STAGE) deps step bash .ci/install-deps.sh demo

deps-test:
	@$(STAGE) deps-test step bash .ci/install-deps.sh test

# The venv is rebuilt only when tests/requirements.txt changes.
$(VENV)/.installed: tests/requirements.txt
	@$(STAGE) venv step bash -c 'set -e; python3 -m venv $(VENV); \
	  $(VENV)/bin/pip install -q --upgrade pip; \
	  $(VENV)/bin/pip install -q -r tests/requirements.txt; cp tests/requirements.txt $@'

venv: deps-test $(VENV)/.installed

build: deps
	@$(STAGE) build step bash -c 'cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
	  -DSMALGO_WERROR=ON > /dev/null && cmake --build build -j $(JOBS)'

build-asan: deps-test
	@$(STAGE) build-asan step bash -c 'cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
	  -DSMALGO_SANITIZE=ON -DSMALGO_WERROR=ON > /dev/null && cmake --build build-asan -j $(JOBS)'

build-fuzz: deps-test
	@$(STAGE) build-fuzz step bash -c 'cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=Debug -DSMALGO_SANITIZE=ON -DSMALGO_FUZZ=ON -DSMALGO_WERROR=ON \
	  > /dev/null && cmake --build build-fuzz -j $(JOBS)'

# Installs smalgo into $(DESTDIR)$(PREFIX)/bin (`smalgo --help` is its manual).
install: build
	cmake --install build --prefix $(PREFIX)
	@echo "installed $(DESTDIR)$(PREFIX)/bin/smalgo; try: smalgo --version"

demo: build
	@bash tests/demo.sh build/runtime/smalgo build/demo

unit-test: build
	@$(STAGE) unit-test ctest ctest --test-dir build --output-on-failure -j $(JOBS)

asan-test: build-asan
	@$(STAGE) asan-test ctest env ASAN_OPTIONS=detect_leaks=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS)

# Each libFuzzer target runs for FUZZ_SECONDS from its seed corpus.
fuzz-test: build-fuzz
	@$(STAGE) fuzz-test tap bash -c 'for f in build-fuzz/tests/fuzz_*; do \
	  case $$f in *_replay) continue;; esac; \
	  name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
	  tmp=$$(mktemp -d); \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $$tmp $$corpus \
	      > $$tmp.log 2>&1; then echo "ok $$name ($(FUZZ_SECONDS) s)"; \
	  else tail -50 $$tmp.log; echo "not ok $$name"; fail=1; fi; \
	  rm -rf $$tmp $$tmp.log; \
	done; exit $${fail:-0}'

# Longer fuzzing: every target for FUZZ_LONG_SECONDS (default 10 minutes each).
FUZZ_LONG_SECONDS ?= 600
.PHONY: fuzz
fuzz: build-fuzz
	@$(MAKE) --no-print-directory fuzz-test FUZZ_SECONDS=$(FUZZ_LONG_SECONDS)

py-test: build venv
	@$(STAGE) py-test pytest env SMALGO_BIN=$(SMALGO_BIN) \
	  bash tests/s3/ensure-s3s-fs.sh --exec $(PY) -m pytest -q tests/integration

# Builds the images first; with no Docker engine the tests show as skipped, or
# fail the run under CI=true (tests/docker-test.sh).
docker-test: build venv
	@$(STAGE) docker-test pytest bash tests/docker-test.sh $(PY)

format:
	clang-format -i $(C_SOURCES)

format-check: deps-test
	@$(STAGE) format-check check clang-format --dry-run --Werror $(C_SOURCES)

# Runs every stage whose prerequisites succeeded (make -k; make's own "***" lines
# about failed targets are dropped, the stages have said it), then the summary
# table (exit 1 when anything failed or did not run).
test check:
	@rm -rf $(SMALGO_STAGE_DIR)
	@$(MAKE) --no-print-directory -k \
	  $(if $(filter test,$@),$(TEST_STAGES),$(CHECK_STAGES)) 2>&1 | grep --line-buffered -v \
	  -e '^make\[[0-9]*\]: \*\*\* \[' -e 'not remade because of errors' || true
	@python3 tests/summary.py table --dir $(SMALGO_STAGE_DIR) \
	  $(if $(filter test,$@),$(TEST_STAGES),$(CHECK_STAGES))

# clang-tidy (.clang-tidy: the function-size limit) over the libraries' sources;
# the layering probes are left out, they are meant not to compile.
TIDY_FILES = '^$(CURDIR)/(io|io/base|io/s3|algorithms|runtime|runtime/algos)/[^/]*\.c$$'
tidy: build deps-test
	@$(STAGE) tidy check bash -c "run-clang-tidy -quiet -p build $(TIDY_FILES) > build/tidy.log 2>&1 \
	  || { sed 's/\x1b\[[0-9;]*m//g' build/tidy.log | grep -A3 'warning\|error'; exit 1; }"

image: deps
	bash docker/build-images.sh

# The benchmark suite (benchmarks/README.md): data generation, machine limits,
# Pipe vs File mode, peers, scale. BENCH_SCALE=4 runs it larger. Results go to
# build/bench/ (untracked); BENCH_REFRESH=1 rewrites the committed
# benchmarks/results/ and the generated section of benchmarks/README.md.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE: the machine's values are kept when set;
# unset, they get the committed run's (Haswell, 512) where the CPU has AVX2, so
# figures compare; either way the run records them (limits.json, summary).
BENCH_RESULTS = $(if $(filter 1,$(BENCH_REFRESH)),$(CURDIR)/benchmarks/results,$(CURDIR)/build/bench)
bench: build venv
	$(VENV)/bin/pip install -q -r benchmarks/requirements.txt
	@avx2=$$(grep -c -m1 avx2 /proc/cpuinfo 2>/dev/null || true); \
	if [ -z "$${OPENBLAS_CORETYPE+x}" ] && [ "$$avx2" = 1 ]; then \
	  export OPENBLAS_CORETYPE=Haswell; how="set by make bench"; else how="from the environment"; fi; \
	if [ -z "$${OPENBLAS_L2_SIZE+x}" ] && [ "$$avx2" = 1 ]; then \
	  export OPENBLAS_L2_SIZE=512; how2="set by make bench"; else how2="from the environment"; fi; \
	echo "make bench: OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE-(unset)} ($$how)," \
	  "OPENBLAS_L2_SIZE=$${OPENBLAS_L2_SIZE-(unset)} ($$how2)"; \
	echo "make bench: scale $(BENCH_SCALE), results in $(BENCH_RESULTS). Expected time: the" \
	  "committed run (scale 4, quiet 2-core machine) took 150 s, a scale-1 run at load" \
	  "average 10 took 368 s; a busy machine can take several times longer"; \
	mkdir -p $(BENCH_RESULTS) && \
	$(PY) benchmarks/run.py --scale $(BENCH_SCALE) --results $(BENCH_RESULTS) && \
	$(PY) benchmarks/bench_s3.py --scale $(BENCH_SCALE) --results $(BENCH_RESULTS)
	@if [ "$(BENCH_REFRESH)" = 1 ]; then python3 benchmarks/readme_results.py; \
	  echo "make bench: refreshed benchmarks/results and benchmarks/README.md's results"; fi

clean:
	rm -rf build build-asan build-fuzz
