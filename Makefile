# falcon-pachinko developer entry points. `make demo` and `make test` do all
# set-up on a fresh machine (a virtualenv in .venv, dev dependencies, the
# native module built in release mode).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export PYO3_PYTHON := $(abspath $(PY))
LIBDIR = $(shell $(PY) -c "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))")
PYTEST_ARGS ?=

.PHONY: all venv build demo test lint typecheck stubtest cargo-test pytest pytest-native pytest-pure wheel wheel-test wheel-test-full docs bench clean

all: test

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.deps: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet "falcon>=4,<5" "msgspec>=0.18" "redis>=5" "hiredis>=3" \
		"pytest>=8" "pytest-asyncio>=0.23" "pytest-benchmark>=4" "hypothesis>=6" \
		"uvicorn>=0.30" "websockets>=13" "maturin>=1.7,<2" "ruff>=0.5" "mypy>=1.10" \
		"setuptools>=68" "pyyaml>=6" "jsonschema>=4" "selenium>=4" "matplotlib>=3.8" "uvloop>=0.19"
	touch $@

venv: $(VENV)/.deps

# Remove any stale extension first so a failed build can never test an old one.
build: venv
	rm -f python/falcon_pachinko/_native*.so
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop --release --quiet
	$(PY) -c "import falcon_pachinko._native as n; print('native module built, ACCEL_ABI', n.ACCEL_ABI)"

# `make demo HOST=0.0.0.0 PORT=9000`. Without a Rust toolchain (no cargo on
# PATH) it runs the pure-Python implementation from the source tree instead
# of building the native module, and says so.
HOST ?= 127.0.0.1
PORT ?= 8000
demo: venv
	@if command -v cargo >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory build && \
		$(PY) -m examples.chat --host $(HOST) --port $(PORT); \
	else \
		echo "cargo not found: running the pure-Python implementation (FALCON_PACHINKO_IMPL=pure)"; \
		FALCON_PACHINKO_IMPL=pure PYTHONPATH=python $(PY) -m examples.chat --host $(HOST) --port $(PORT); \
	fi

lint: venv
	cargo fmt --check
	cargo clippy --all-targets --features python -- -D warnings
	cargo clippy --all-targets -- -D warnings
	$(BIN)/ruff check python tests benches examples scripts
	$(BIN)/ruff format --check python tests benches examples scripts

# mypy --strict over the package, examples/ and tests/typing/ (pyproject), then
# over the README's snippets as a reader copies them (a pytest test, so that
# `make pytest` checks them as well).
typecheck: build
	$(BIN)/mypy
	$(BIN)/pytest tests/typing -q
	$(MAKE) stubtest

stubtest: build
	$(PY) -m mypy.stubtest falcon_pachinko._native

# The PyO3-free core: no Python needed (no libpython on the library path).
cargo-test:
	cargo test --quiet
	# Every input a fuzz target once failed on (fuzz/artifacts, fuzz/regressions),
	# through the same checks, on stable.
	cargo test --manifest-path fuzz/Cargo.toml --test replay --quiet

# The whole suite once per implementation; benchmarks run once each as smoke
# tests (timings are only meaningful under `make bench`).
pytest: pytest-native pytest-pure

pytest-native: build
	FALCON_PACHINKO_IMPL=native $(BIN)/pytest tests benches --benchmark-disable -q $(PYTEST_ARGS)

pytest-pure: build
	FALCON_PACHINKO_IMPL=pure $(BIN)/pytest tests benches --benchmark-disable -q $(PYTEST_ARGS)

# Release tooling, kept out of the dev dependencies: zig links the native
# wheel against an old glibc (manylinux2014) whatever this machine has.
WHEEL_TOOLS := $(VENV)/.wheel-tools
$(WHEEL_TOOLS): | $(PY)
	$(PY) -m pip install --quiet "ziglang>=0.13" "auditwheel>=6" "twine>=6.1" \
		"check-jsonschema>=0.30" "setuptools>=77" "trove-classifiers"
	touch $@

# dist/native: the abi3 wheel (manylinux_2_17); dist/pure: py3-none-any;
# dist/sdist: builds native with cargo on PATH, pure without (or with
# FALCON_PACHINKO_PURE=1). One folder each, so `pip install --find-links
# dist/native` can never pick the other wheel.
wheel: venv $(WHEEL_TOOLS)
	rm -rf dist
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(BIN)):$$PATH $(BIN)/maturin build \
		--release --quiet --zig --compatibility manylinux2014 --out dist/native
	$(PY) scripts/build_pure_wheel.py dist/pure >/dev/null
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin sdist --out dist/sdist
	ls -l dist/*

# Each wheel in a fresh venv, the sdist without cargo, twine, workflow schema.
wheel-test: wheel
	$(PY) scripts/check_wheels.py dist

# Adds the sdist built with Rust in a fresh venv (a release compile: minutes).
wheel-test-full: wheel
	$(PY) scripts/check_wheels.py --full dist

# The documentation site in build/site. Strict: a broken link, cross-reference
# or docstring reference fails it. (Not -q: mkdocs then drops the warnings
# before strict mode counts them, and a broken site passes.)
DOCS_TOOLS := $(VENV)/.docs-tools
$(DOCS_TOOLS): | $(PY)
	$(PY) -m pip install --quiet "mkdocs>=1.6,<2" "mkdocs-material>=9.5,<10" \
		"mkdocstrings[python]>=0.26"
	touch $@

docs: venv $(DOCS_TOOLS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

test: lint cargo-test typecheck pytest wheel-test docs
	@echo "make test: all checks passed"

# Every benchmark with progress, then one summary table, written with the
# machine, Python version and date into docs/benchmarks.md, and
# docs/fanout.png (benches/report.py).
bench: build
	$(PY) -m benches.report

clean:
	rm -rf dist target $(VENV) python/falcon_pachinko/_native*.so

# Not part of `make test`: each cargo-fuzz target (nightly) and the long
# hypothesis runs (native vs pure; the pure fast path vs the whole walk)
# for FUZZ_SECONDS each. Crashing inputs stay in
# fuzz/artifacts/<target>/, which `make test` replays through the same
# checks (fuzz/tests/replay.rs; frame inputs also through both twins in
# tests/accel/test_frame_soak.py::test_fuzz_artifacts); commit them.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := frame_scan tag_table hub_ops
.PHONY: fuzz
fuzz: build
	set -e; for target in $(FUZZ_TARGETS); do \
		cargo +nightly fuzz run -O $$target -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1; \
	done
	FALCON_PACHINKO_HYPOTHESIS=slow FALCON_PACHINKO_IMPL=native timeout $(FUZZ_SECONDS) \
		$(BIN)/pytest tests/accel/test_frame_soak.py -q -x --hypothesis-show-statistics \
		|| test $$? -eq 124
	FALCON_PACHINKO_HYPOTHESIS=slow timeout $(FUZZ_SECONDS) \
		$(BIN)/pytest tests/accel/test_scan_resume.py -q -x -k agrees \
		--hypothesis-show-statistics || test $$? -eq 124
