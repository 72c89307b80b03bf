"""What the book's chapters contain: titles, exercises, solutions, verdict boxes, figures.

Read from the chapter sources (``book/*.md``) and ``_toc.yml``, for the instructor guide and for
the tests that hold every chapter to the same outline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

__all__ = ["ChapterInfo", "chapter_info", "chapters", "exercises_table", "book_root"]

EXERCISE = re.compile(r"^`{3,}\{exercise\}\s*(?P<title>.*)\n:label:\s*(?P<label>[\w-]+)", re.M)
SOLUTION = re.compile(r"^`{3,}\{solution(?:-start)?\}\s*(?P<label>[\w-]+)", re.M)
VERDICT_BOX = re.compile(r"^:{3,}\{admonition\}\s*Verdict on (?P<claim>[A-C]\d+)[^\n]*\n:class:[^\n]*\bverdict\b", re.M)
CHANGE_BOX = re.compile(r"^:class:[^\n]*\bwhat-would-change\b", re.M)
FIGURE = re.compile(r"^\s+figure:\s*$", re.M)


def book_root() -> Path:
    return Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ChapterInfo:
    page: str  # the _toc.yml entry, e.g. "book/gaps"
    title: str
    has_objectives: bool
    has_prerequisites: bool
    has_summary: bool
    exercises: tuple[tuple[str, str], ...]  # (label, title)
    solutions: tuple[str, ...]  # labels
    verdict_boxes: tuple[str, ...]  # claim ids
    change_boxes: int
    figures: int


def chapter_info(path: Path, page: str | None = None) -> ChapterInfo:
    text = path.read_text(encoding="utf-8")
    title = re.search(r"^# (.+)$", text, re.M)
    if title is None:
        raise ValueError(f"{path}: no '# ' title line")
    return ChapterInfo(
        page=page or path.stem,
        title=title.group(1).strip(),
        has_objectives=bool(re.search(r"learning objectives", text, re.I)),
        has_prerequisites=bool(re.search(r"prerequisites", text, re.I)),
        has_summary=bool(re.search(r"^## (Summary|In short)", text, re.M)),  # a summary, at the end or the top
        exercises=tuple((m["label"], m["title"].strip()) for m in EXERCISE.finditer(text)),
        solutions=tuple(m["label"] for m in SOLUTION.finditer(text)),
        verdict_boxes=tuple(m["claim"] for m in VERDICT_BOX.finditer(text)),
        change_boxes=len(CHANGE_BOX.findall(text)),
        figures=len(FIGURE.findall(text)),
    )


def _toc_pages(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages.extend(chapter["file"] for chapter in part["chapters"])
    return pages


def chapters(root: Path | None = None, computing_only: bool = True) -> list[ChapterInfo]:
    """The chapters in table-of-contents order; ``computing_only`` keeps those with exercises."""
    root = root or book_root()
    infos = [chapter_info(root / f"{page}.md", page) for page in _toc_pages(root)]
    return [info for info in infos if info.exercises] if computing_only else infos


def exercises_table(root: Path | None = None) -> pd.DataFrame:
    """One row per exercise: chapter page, chapter title, label, exercise title."""
    rows = [
        {"chapter": info.page.removeprefix("book/"), "chapter title": info.title, "label": label, "exercise": title}
        for info in chapters(root)
        for label, title in info.exercises
    ]
    return pd.DataFrame(rows, columns=["chapter", "chapter title", "label", "exercise"])
