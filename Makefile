# octolane-import — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install demo test lint format bench clean

help:
	@echo "make demo    import sample_data/hubspot-contacts.csv into the local sandbox"
	@echo "make test    lint (ruff) and run the test suite"
	@echo "make bench   run the benchmarks in benchmarks/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,fast]'
	touch $(STAMP)

install: $(STAMP)

# Exit code 1 means "some rows were rejected": the sample has a few bad rows on purpose.
demo: $(STAMP)
	$(BIN)/octolane-import sample_data/hubspot-contacts.csv --mapping hubspot --sandbox \
		--out out/demo.results.csv --failures out/demo.failures.csv || [ $$? -eq 1 ]

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every script runs, whatever the one before found; each prints its own PASS/FAIL lines,
# and the target fails at the end if any script did.
BENCHES := bench_table bench_sandbox bench_read bench_dry_run bench_limiter bench_import \
	bench_client bench_public bench_journal

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	@failed=""; for script in $(BENCHES); do \
		$(BIN)/python benchmarks/$$script.py || failed="$$failed $$script"; \
	done; \
	if [ -n "$$failed" ]; then echo "benchmarks with a FAIL line:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
