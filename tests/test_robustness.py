"""Robustness: bad input gets a clear error that names the problem; nothing is dropped silently.

The table of bad inputs and what each gets is in ``README.md`` ("Robustness"); each row
points to the test that covers it. Many rows are covered by the module tests (``test_data.py``,
``test_claims.py``, ``test_meta.py``, ``test_bias.py``, ``test_evidence.py``, ...); this module
adds the rows no other test covers, checks that every test the table names exists, and adds
property tests (hypothesis) on statistical functions that had none.

The defects this module found in other modules (an unexpected column dropped silently by
``data.read_dataset``; infinite values accepted by ``reanalysis.dl_pool``) were fixed there; their
rows are plain tests now.
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tracking_evidence.stats import bias, meta
from tracking_evidence.data import claims
from tracking_evidence import data
from tracking_evidence.analyses import gaps, reanalysis
from tracking_evidence.data import DataError

from .conftest import NOTEBOOK_FRONT_MATTER, ROOT

BIN = Path(sys.executable).parent

# ---------------------------------------------------------------- data files: rows no other test has


def _fix_checksum(folder: Path, file: str) -> None:
    """Record the edited file's sha256 in the copy's README, so that the check under test is what fires
    (the checksum alone would refuse any edit of a microdata file)."""
    readme = folder / "README.md"
    sha = hashlib.sha256((folder / file).read_bytes()).hexdigest()
    pattern = rf"(\| `{re.escape(file)}` \| \d+ \| `)[0-9a-f]{{64}}"
    text, n = re.subn(pattern, rf"\g<1>{sha}", readme.read_text(encoding="utf-8"))
    assert n == 1, f"no checksum row for {file} in the README copy"
    readme.write_text(text, encoding="utf-8")


def test_semicolon_delimited_file_is_refused(data_copy):
    path = data_copy / "exam.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    with pytest.raises(DataError, match=r"exam\.csv: missing column\(s\)"):
        data.load_exam(data_copy)


def test_byte_order_mark_is_named(data_copy):
    path = data_copy / "exam.csv"
    path.write_text("\ufeff" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DataError, match=r"exam\.csv: missing column\(s\) \['school'\]; the header has \['\\ufeffschool'"):
        data.load_exam(data_copy)


def test_binary_file_is_refused(data_copy):
    (data_copy / "exam.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"exam\.csv: not a readable CSV"):
        data.load_exam(data_copy)


def test_blank_line_inside_the_data_names_the_line(data_copy):
    path = data_copy / "nlschools.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(lines[:5] + [""] + lines[5:]), encoding="utf-8")
    with pytest.raises(DataError, match=r"nlschools\.csv, line 6: 0 fields where the header has 6"):
        data.load_nlschools(data_copy)


def test_windows_line_endings_fail_the_checksum(data_copy):
    path = data_copy / "exam.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(DataError, match=r"exam\.csv: sha256 [0-9a-f]{64} does not match"):
        data.load_exam(data_copy)


def test_duplicated_row_with_matching_checksum_is_counted(data_copy):
    path = data_copy / "exam.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(lines[:2] + [lines[1]] + lines[2:]), encoding="utf-8")
    _fix_checksum(data_copy, "exam.csv")
    with pytest.raises(DataError, match=r"4060 data rows where data/README\.md records 4059"):
        data.load_exam(data_copy)


def test_unexpected_extra_column_is_refused(data_copy):
    path = data_copy / "exam.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(line + (",extra" if i == 0 else ",1") if line else line
                              for i, line in enumerate(lines)), encoding="utf-8")
    _fix_checksum(data_copy, "exam.csv")
    with pytest.raises(DataError, match="extra"):
        data.load_exam(data_copy)


def test_claims_registry_with_an_extra_column_is_refused(data_copy):
    path = data_copy / "claims.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(line + (",verdict" if i == 0 else ",supported") if line else line
                              for i, line in enumerate(lines)), encoding="utf-8")
    with pytest.raises(DataError, match="verdict"):
        claims.load_claims(data_copy)


# ------------------------------------------------- (yi, vi) functions without their own bad-input tests

GOOD_Y = np.array([0.1, 0.3, -0.2, 0.25, 0.05, 0.4])
GOOD_V = np.array([0.01, 0.02, 0.015, 0.03, 0.01, 0.02])
BAD = {
    "NaN estimate": (np.r_[GOOD_Y[:-1], np.nan], GOOD_V, "NaN|non-finite|missing"),
    "infinite estimate": (np.r_[GOOD_Y[:-1], np.inf], GOOD_V, "non-finite|infinite"),
    "NaN variance": (GOOD_Y, np.r_[GOOD_V[:-1], np.nan], "NaN|non-finite|missing"),
    "infinite variance": (GOOD_Y, np.r_[GOOD_V[:-1], np.inf], "non-finite|infinite"),
    "negative variance": (GOOD_Y, np.r_[GOOD_V[:-1], -0.01], "positive|negative"),
    "zero variance": (GOOD_Y, np.r_[GOOD_V[:-1], 0.0], "positive|zero"),
    "mismatched lengths": (GOOD_Y, GOOD_V[:-1], "length|shape"),
    "k = 1": (GOOD_Y[:1], GOOD_V[:1], "k >= 2|at least 2"),
}

# NaN estimate, negative variance and k = 1 are in tests/test_reanalysis.py::test_dl_pool_rejects_bad_input
@pytest.mark.parametrize("kind", [k for k in BAD if k not in {"NaN estimate", "negative variance", "k = 1"}])
def test_dl_pool_bad_input(kind):
    y, v, words = BAD[kind]
    with pytest.raises(ValueError, match=words):
        reanalysis.dl_pool(y, v)


# a NaN estimate is in tests/test_bias.py::test_bias_bad_input; k = 1 is allowed (one study has a funnel)
@pytest.mark.parametrize("kind", [k for k in BAD if k not in {"k = 1", "NaN estimate"}])
def test_funnel_data_bad_input(kind):
    y, v, words = BAD[kind]
    with pytest.raises(ValueError, match=words):
        bias.funnel_data(y, v)


@pytest.mark.parametrize("kind", [k for k in BAD if k != "k = 1"])
def test_forest_plot_bad_input(kind):
    from tracking_evidence.site import plots

    y, v, words = BAD[kind]
    with pytest.raises(ValueError, match=words):
        plots.forest(y, v, [f"study {i}" for i in range(len(y))])
    import matplotlib.pyplot as plt

    plt.close("all")


# ------------------------------------------------------------------- a chapter with a failing cell


FAILING_PAGE = NOTEBOOK_FRONT_MATTER + """
# A page that fails

```{code-cell} ipython3
x = 1
```

```{code-cell} ipython3
raise ValueError("deliberate failure in broken_page")
```
"""


@pytest.fixture
def tiny_book(tmp_path: Path) -> Path:
    """The book's _config.yml with a one-page _toc.yml whose page has a failing cell."""
    book = tmp_path / "tiny"
    (book / "book").mkdir(parents=True)
    shutil.copy2(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "book" / "_ext", book / "book" / "_ext")
    shutil.copytree(ROOT / "book" / "_static", book / "book" / "_static")
    shutil.copy2(ROOT / "book" / "references.bib", book / "book" / "references.bib")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/broken_page\n", encoding="utf-8")
    (book / "book" / "broken_page.md").write_text(FAILING_PAGE, encoding="utf-8")
    return book


@pytest.mark.slow
def test_failing_cell_fails_the_build_and_names_the_page(tiny_book):
    done = subprocess.run([str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"], cwd=tiny_book,
                          capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "broken_page.md" in output, output[-3000:]
    assert "deliberate failure in broken_page" in output, output[-3000:]


@pytest.mark.slow
def test_failing_cell_fails_preexecution_and_names_the_page(tiny_book):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "preexecute.py"), "--root", str(tiny_book)],
                          capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "FAILED book/broken_page.md" in output
    assert "deliberate failure in broken_page" in output
    assert "notebook execution failed in: book/broken_page.md" in output
    # nothing was cached for the failing page, so the build that follows executes it again and fails
    from jupyter_cache import get_cache

    assert get_cache(str(tiny_book / "_build" / ".jupyter_cache")).list_cache_records() == []


WORKING_PAGE = FAILING_PAGE.replace('raise ValueError("deliberate failure in broken_page")', "y = x + 1")


@pytest.mark.slow
def test_changed_data_re_executes_cached_pages(tiny_book, data_copy, monkeypatch):
    """Jupyter Book's cache keys on a page's code only; pre-execution also keys on the package, the
    data and the fixtures (the fingerprint of book/_ext/execution_inputs.py, stamped on each cached
    notebook), so an edited data file (page code unchanged) re-executes the page instead of showing
    the numbers of the old file. (tests/test_rebuild.py: the same through `jupyter-book build .`.)"""
    scripts = str(ROOT / "scripts")
    monkeypatch.syspath_prepend(scripts)
    import preexecute
    from jupyter_cache import get_cache

    (tiny_book / "book" / "broken_page.md").write_text(WORKING_PAGE, encoding="utf-8")
    monkeypatch.setenv("TRACKING_EVIDENCE_DATA", str(data_copy))
    quiet = dict(jobs=1, log=lambda *_: None)
    assert list(preexecute.preexecute(tiny_book, **quiet)) == ["book/broken_page.md"]
    assert preexecute.preexecute(tiny_book, **quiet) == {}  # nothing changed: nothing executed
    with (data_copy / "exam.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")  # an edit the page's code cannot see
    assert list(preexecute.preexecute(tiny_book, **quiet)) == ["book/broken_page.md"]
    [record] = get_cache(str(tiny_book / "_build" / ".jupyter_cache")).list_cache_records()
    assert record.data[preexecute.FINGERPRINT_KEY] == preexecute.inputs_fingerprint()


# ----------------------------------------------------------------------- property tests (hypothesis)

finite = st.floats(min_value=-2, max_value=2, allow_nan=False, allow_infinity=False)
variance = st.floats(min_value=1e-3, max_value=0.5, allow_nan=False, allow_infinity=False)
studies = st.integers(min_value=3, max_value=25).flatmap(
    lambda k: st.tuples(st.lists(finite, min_size=k, max_size=k), st.lists(variance, min_size=k, max_size=k)))


@settings(max_examples=60, deadline=None)
@given(studies)
def test_dl_pool_agrees_with_meta_pool(sv):
    """Two implementations of DerSimonian-Laird (the vectorised one of the simulation and meta.pool)."""
    y, v = map(np.asarray, sv)
    fast = reanalysis.dl_pool(y, v)
    ref = meta.pool(y, v, method="DL")
    assert float(fast["estimate"]) == pytest.approx(ref.estimate, rel=1e-9, abs=1e-12)
    assert float(fast["se"]) == pytest.approx(ref.se, rel=1e-9)
    assert float(fast["tau2"]) == pytest.approx(ref.tau2, rel=1e-7, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(studies, st.floats(min_value=-1, max_value=1))
def test_egger_intercept_ignores_a_common_shift(sv, shift):
    """Adding c to every estimate adds c to the slope of y/s on 1/s and leaves the intercept alone."""
    y, v = map(np.asarray, sv)
    assume(np.ptp(np.sqrt(v)) > 1e-3)
    try:
        base, moved = bias.egger(y, v), bias.egger(y + shift, v)
    except ValueError as error:  # an exact fit has no test (tests/test_bias.py::test_egger_refuses_an_exact_fit)
        assume("fits the studies exactly" not in str(error))
        raise
    assert moved.intercept == pytest.approx(base.intercept, abs=1e-8)
    assert moved.slope == pytest.approx(base.slope + shift, abs=1e-8)


@settings(max_examples=60, deadline=None)
@given(studies, st.randoms(use_true_random=False))
def test_egger_order_invariance(sv, rnd):
    y, v = map(np.asarray, sv)
    assume(np.ptp(np.sqrt(v)) > 1e-3)
    s = np.sqrt(v)
    residual = np.polyfit(1 / s, y / s, 1, full=True)[1]
    assume(residual.size and residual[0] > 1e-8)  # an (almost) exact fit leaves p as rounding noise: reported
    order = list(range(len(y)))
    rnd.shuffle(order)
    a, b = bias.egger(y, v), bias.egger(y[order], v[order])
    # nan_ok: an exact fit (e.g. every estimate 0) leaves no residual variance and p is NaN either way
    assert (a.intercept, a.p) == pytest.approx((b.intercept, b.p), rel=1e-9, abs=1e-12, nan_ok=True)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.01, max_value=1.0), st.floats(min_value=0.5, max_value=0.99),
       st.sampled_from([0.01, 0.05, 0.10]))
def test_mde_has_the_power_it_promises(se, target, alpha):
    assume(target > alpha)
    effect = reanalysis.mde(se, alpha=alpha, power_target=target)
    assert reanalysis.power(effect, se, alpha=alpha) == pytest.approx(target, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.05, max_value=0.8), st.integers(min_value=5, max_value=60),
       st.floats(min_value=0.0, max_value=0.4))
def test_schools_needed_is_the_smallest_even_number_with_enough_power(effect, m, icc):
    needed = gaps.schools_needed(effect, m, icc)
    assume(needed <= 20_000)
    assert needed % 2 == 0
    assert gaps.cluster_trial_power(effect, needed, m, icc) >= 0.8 - 1e-9
    if needed > 2:
        assert gaps.cluster_trial_power(effect, needed - 2, m, icc) < 0.8


def _groups(draw_values, n_f, n_r):
    return pd.DataFrame({"y": draw_values, "g": ["f"] * n_f + ["r"] * n_r})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=3, max_value=30), st.integers(min_value=3, max_value=30),
       st.integers(min_value=0, max_value=2**32 - 1), st.floats(min_value=-5, max_value=5),
       st.floats(min_value=0.1, max_value=10))
def test_standardized_gap_is_affine_invariant_and_antisymmetric(n_f, n_r, seed, a, b):
    rng = np.random.default_rng(seed)
    frame = _groups(rng.normal(size=n_f + n_r), n_f, n_r)
    assume(frame.groupby("g")["y"].std().min() > 1e-6)
    base = gaps.standardized_gap(frame, "y", "g", focal="f")
    scaled = gaps.standardized_gap(frame.assign(y=a + b * frame["y"]), "y", "g", focal="f")
    flipped = gaps.standardized_gap(frame, "y", "g", focal="r")
    assert scaled.d == pytest.approx(base.d, rel=1e-9, abs=1e-12)
    assert flipped.d == pytest.approx(-base.d, rel=1e-9, abs=1e-12)
    assert (base.ci_low, base.ci_high) == pytest.approx((-flipped.ci_high, -flipped.ci_low), rel=1e-9, abs=1e-12)


# --------------------------------------------------------- the table in README.md is true


TABLE_DOC = ROOT / "README.md"
NODE = re.compile(r"`tests/(test_\w+)\.py::(\w+)`")


def _documented_tests() -> list[tuple[str, str]]:
    text = TABLE_DOC.read_text(encoding="utf-8")
    section = text.split("## Robustness", 1)[1]
    return sorted(set(NODE.findall(section)))


def test_every_test_the_robustness_table_names_exists():
    named = _documented_tests()
    assert len(named) >= 20, "the robustness table names fewer tests than it has rows"
    missing = []
    for module, function in named:
        source = (ROOT / "tests" / f"{module}.py").read_text(encoding="utf-8")
        names = {node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)}
        if function not in names:
            missing.append(f"tests/{module}.py::{function}")
    assert not missing, f"README.md names tests that do not exist: {missing}"
