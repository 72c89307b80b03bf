"""The detracking evidence mapped by its codes (tracking_evidence.analyses.detracking)."""

from __future__ import annotations

import ast
import inspect

from tracking_evidence.analyses import detracking, synthesis


def test_rows_are_detracking_reforms_with_the_effect_of_detracking():
    rows = detracking.detracking_rows()
    assert (rows["contrast"] == "detracking reform").all()
    assert (rows["effect_of_detracking"].dropna() == -rows["yi"].dropna()).all()


def test_design_table_has_one_row_per_study():
    table = detracking.design_table()
    assert table["study_id"].is_unique
    assert table["rows"].sum() == len(detracking.detracking_rows())
    assert (table["with_uncertainty"] <= table["rows"]).all()


def test_selection_ages_are_context_rows_in_years_of_age():
    ages = detracking.selection_ages()
    assert len(ages) >= 8 and ages["estimate"].between(9, 19).all()


def test_map_counts_rows_and_studies_by_contrast_and_construct():
    table = detracking.map_table()
    frame = synthesis.book_evidence()
    assert table["rows"].sum() == int((frame["contrast"] != "not a tracking-intensity comparison").sum())


def test_the_analysis_modules_read_no_text_to_code_a_row():
    """No regular expression and no substring search on the evidence's text fields in the modules
    that weigh evidence or judge it (the classifier that did is gone)."""
    from tracking_evidence.analyses import acceleration, models, peers
    from tracking_evidence.verdicts import claims_detracking, claims_peers, claims_reanalysis, claims_sources, common

    for module in (detracking, synthesis, acceleration, models, peers, claims_detracking, claims_peers,
                   claims_reanalysis, claims_sources, common):
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("contains", "startswith", "match", "findall"):
                parent = ast.unparse(node)
                assert ".str." not in parent, (module.__name__, parent)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                assert "re" not in names, module.__name__
