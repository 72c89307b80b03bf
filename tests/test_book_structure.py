"""Every chapter follows the outline: objectives, prerequisites, a verdict box and a
'what would change this verdict' box for each claim it owns, a summary, exercises with solutions."""

from __future__ import annotations

import pytest
import yaml

from tracking_evidence.site import bookinfo
from tracking_evidence.data import claims

from .conftest import ROOT

TEACHING_PART = "The claims, recomputed"


def _teaching_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    part = next(p for p in toc["parts"] if p["caption"] == TEACHING_PART)
    return [chapter["file"] for chapter in part["chapters"] if chapter["file"] != "book/ledger"]


@pytest.mark.parametrize("page", _teaching_pages())
def test_chapter_outline(page):
    info = bookinfo.chapter_info(ROOT / f"{page}.md", page)
    assert info.has_objectives, f"{page}: no learning objectives"
    assert info.has_prerequisites, f"{page}: no prerequisites"
    assert info.has_summary, f"{page}: no '## Summary' or '## In short'"
    assert info.exercises, f"{page}: no exercise"
    labels = [label for label, _ in info.exercises]
    assert sorted(labels) == sorted(info.solutions), f"{page}: exercises {labels} vs solutions {info.solutions}"


@pytest.mark.parametrize("page", _teaching_pages())
def test_each_owned_claim_has_a_verdict_box_and_a_what_would_change_box(page):
    info = bookinfo.chapter_info(ROOT / f"{page}.md", page)
    registry = claims.load_claims()
    owned = set(registry.loc[registry["chapter"] == f"{page.removeprefix('book/')}.md", "id"])
    assert set(info.verdict_boxes) == owned, f"{page}: verdict boxes {info.verdict_boxes}, owns {sorted(owned)}"
    assert info.change_boxes >= len(owned)


def test_exercise_labels_are_unique_across_the_book():
    table = bookinfo.exercises_table()
    assert not table["label"].duplicated().any()
    assert len(table) >= 3 * len(_teaching_pages()) - 3


def test_chapter_info_reads_a_synthetic_chapter(tmp_path):
    page = tmp_path / "x.md"
    page.write_text(
        "# A title\n\n**Learning objectives.** ...\n**Prerequisites.** ...\n\n"
        ":::{admonition} Verdict on B7 (typed box)\n:class: verdict\n**x**\n:::\n\n"
        ":::{admonition} What would change this verdict\n:class: what-would-change\ny\n:::\n\n"
        "## Summary\n\n```{exercise} First\n:label: ex-x-1\nDo it.\n```\n\n"
        "````{solution} ex-x-1\n:class: dropdown\nDone.\n````\n",
        encoding="utf-8",
    )
    info = bookinfo.chapter_info(page)
    assert info.title == "A title" and info.has_objectives and info.has_prerequisites and info.has_summary
    assert info.exercises == (("ex-x-1", "First"),) and info.solutions == ("ex-x-1",)
    assert info.verdict_boxes == ("B7",) and info.change_boxes == 1
