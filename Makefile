# The whole set-up on a fresh machine is `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test run lint clean native bench bench-rules bench-delivery bench-stories bench-latency bench-startup bench-soak

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,native]'
	touch $(STAMP)

# The rules engine compiled to C with mypyc, and its phrase scanner written in C
# (service/native.py): a little over twice as fast. Without a C compiler the build says why and the engine runs as Python; a build older
# than its sources is never used, and this rebuilds it.
NATIVE_SOURCES := $(addprefix service/rules/,phrases.py entities.py official.py frames.py conditions.py engine.py _scanner.c) service/native.py
NATIVE := service/rules/_compiled/manifest.json

$(NATIVE): $(STAMP) $(NATIVE_SOURCES)
	$(BIN)/python -m service.native build || echo "make: carrying on with the rules engine as Python"

native: $(NATIVE)

demo: $(STAMP) $(NATIVE)
	$(BIN)/reewatch demo

# In parallel, two workers per CPU: half the suite's time is spent waiting on real servers,
# subprocesses and clocks, which a second worker per CPU fills (PYTEST_WORKERS=0 runs in this
# process, e.g. to debug).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

# When the engine was built, the suite checks that the build is what runs.
test: $(STAMP) $(NATIVE)
	REEWATCH_EXPECT_COMPILED=$$(test -f $(NATIVE) && echo 1) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

run: $(STAMP) $(NATIVE)
	$(BIN)/reewatch run

bench: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/ingest.py

bench-rules: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/rules.py

bench-delivery: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/delivery.py

bench-stories: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/stories.py

bench-latency: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/latency.py

bench-startup: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/startup.py

bench-soak: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache service/rules/_compiled
