# The whole set-up on a fresh machine is `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test run lint clean bench bench-rules bench-delivery bench-stories

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reewatch demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache
