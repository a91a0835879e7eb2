# The whole set-up on a fresh machine is `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test run lint clean bench bench-rules bench-delivery bench-stories bench-latency bench-startup bench-soak

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reewatch demo

# In parallel, two workers per CPU: half the suite's time is spent waiting on real servers,
# subprocesses and clocks, which a second worker per CPU fills (PYTEST_WORKERS=0 runs in this
# process, e.g. to debug).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

run: $(STAMP)
	$(BIN)/reewatch run

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

bench-rules: $(STAMP)
	$(BIN)/python benchmarks/rules.py

bench-delivery: $(STAMP)
	$(BIN)/python benchmarks/delivery.py

bench-stories: $(STAMP)
	$(BIN)/python benchmarks/stories.py

bench-latency: $(STAMP)
	$(BIN)/python benchmarks/latency.py

bench-startup: $(STAMP)
	$(BIN)/python benchmarks/startup.py

bench-soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache
