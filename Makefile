# The two commands a new user runs, and the steps behind them. CMake does the
# building; this file only sequences set-up, builds and test suites.
#
#   make demo   build, make a small data set, train PCA and k-means, show the models
#   make test   everything CI runs: unit tests (Release and ASan+UBSan), fuzz
#               replays and a short fuzz run, Python integration tests, Docker
#               tests, and the clang-format check
#   make check  the edit-compile-test loop: Release build, unit tests and layering
#               probes, Python integration tests; no sanitizers, fuzzing or Docker

SHELL := /bin/bash
JOBS ?= 2
VENV ?= $(if $(SMALGO_VENV),$(SMALGO_VENV),$(CURDIR)/.venv)
PY := $(VENV)/bin/python
FUZZ_SECONDS ?= 10
BENCH_SCALE ?= 1
export SMALGO_BIN ?= $(CURDIR)/build/runtime/smalgo
export OMPI_ALLOW_RUN_AS_ROOT = 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = 1

C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all deps venv build build-asan build-fuzz demo test check unit-test asan-test \
        fuzz-test py-test docker-test format format-check tidy image bench clean

all: build

deps:
	@bash .ci/install-deps.sh

# The venv is rebuilt only when tests/requirements.txt changes.
$(VENV)/.installed: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r tests/requirements.txt
	cp tests/requirements.txt $@

venv: $(VENV)/.installed

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSMALGO_WERROR=ON > /dev/null
	cmake --build build -j $(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSMALGO_SANITIZE=ON \
	      -DSMALGO_WERROR=ON > /dev/null
	cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	      -DSMALGO_SANITIZE=ON -DSMALGO_FUZZ=ON -DSMALGO_WERROR=ON > /dev/null
	cmake --build build-fuzz -j $(JOBS)

demo: build
	@bash tests/demo.sh build/runtime/smalgo build/demo

unit-test: build
	cd build && ctest --output-on-failure -j $(JOBS)

asan-test: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# Each libFuzzer target runs for FUZZ_SECONDS from its seed corpus.
fuzz-test: build-fuzz
	@set -e; for f in build-fuzz/tests/fuzz_*; do \
	  case $$f in *_replay) continue;; esac; \
	  name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
	  tmp=$$(mktemp -d); \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $$tmp $$corpus > $$tmp.log 2>&1 \
	    || { tail -50 $$tmp.log; rm -rf $$tmp $$tmp.log; exit 1; }; \
	  rm -rf $$tmp $$tmp.log; \
	done

py-test: build venv
	bash tests/s3/ensure-s3s-fs.sh > /dev/null
	SMALGO_BIN=$(SMALGO_BIN) $(PY) -m pytest -q tests/integration

docker-test: build venv
	@if docker info > /dev/null 2>&1 && [ -d tests/docker ]; then \
	  bash docker/build-images.sh && $(PY) -m pytest -q tests/docker; \
	else echo "docker-test: no Docker engine or no tests/docker; skipped"; fi

format:
	clang-format -i $(C_SOURCES)

format-check:
	@clang-format --dry-run --Werror $(C_SOURCES) && echo "format-check: clean"

test: deps venv unit-test asan-test fuzz-test py-test docker-test format-check tidy

check: deps venv unit-test py-test

# clang-tidy (.clang-tidy: the function-size limit) over the libraries' sources;
# the layering probes are left out, they are meant not to compile.
TIDY_FILES = '^$(CURDIR)/(io|io/base|io/s3|algorithms|runtime|runtime/algos)/[^/]*\.c$$'
tidy: build
	@run-clang-tidy -quiet -p build $(TIDY_FILES) > build/tidy.log 2>&1 \
	  && echo "tidy: clean" || { sed 's/\x1b\[[0-9;]*m//g' build/tidy.log | grep -A3 'warning\|error'; exit 1; }

image: deps
	bash docker/build-images.sh

# The benchmark suite (benchmarks/README.md): data generation, machine limits,
# Pipe vs File mode, peers, scale. BENCH_SCALE=4 runs it larger.
bench: build venv
	$(VENV)/bin/pip install -q -r benchmarks/requirements.txt
	$(PY) benchmarks/run.py --scale $(BENCH_SCALE)
	$(PY) benchmarks/bench_s3.py --scale $(BENCH_SCALE)

clean:
	rm -rf build build-asan build-fuzz
