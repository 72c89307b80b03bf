"""The book's citation, written from ``CITATION.cff`` (one source for the page and the file).

``{cff-citation}`` renders the recommended citation as a sentence and as a BibTeX entry, from the
title, authors and version of ``CITATION.cff`` at the book's root, and the year of ``copyright``
in ``_config.yml`` (the file records no release date). The page is read again when the file changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.util.docutils import SphinxDirective

CITATION_FILE = "CITATION.cff"


def read_citation(path: Path) -> dict:
    """The fields of a ``CITATION.cff`` that a citation needs; ``ValueError`` naming what is missing."""
    if not path.exists():
        raise ValueError(f"{path} not found: the book's citation is written from it")
    record = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [key for key in ("title", "authors", "version") if not record.get(key)]
    if missing:
        raise ValueError(f"{path.name}: missing {', '.join(missing)}")
    return record


def author_names(record: dict) -> list[str]:
    """Each author as written: an entity's ``name``, or a person's given and family names."""
    names = []
    for author in record["authors"]:
        name = author.get("name") or " ".join(filter(None, [author.get("given-names"), author.get("family-names")]))
        if not name:
            raise ValueError(f"{CITATION_FILE}: an author without a name: {author}")
        names.append(name)
    return names


def citation_text(record: dict, year: str) -> str:
    return f"{'; '.join(author_names(record))} ({year}). {record['title']} (version {record['version']})."


def bibtex(record: dict, year: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", record["title"].lower()).strip("_")
    authors = " and ".join("{" + name + "}" for name in author_names(record))
    return (f"@misc{{{key},\n  author = {{{authors}}},\n  title = {{{record['title']}}},\n"
            f"  year = {{{year}}},\n  note = {{Version {record['version']}. Open executable research book}}\n}}")


def _year(copyright_text: str) -> str:
    found = re.search(r"\b(\d{4})\b", copyright_text or "")
    if found is None:
        raise ValueError(f"no year in the book's copyright setting ({copyright_text!r}): the citation needs one")
    return found.group(1)


class CffCitation(SphinxDirective):
    has_content = False

    def run(self):
        path = Path(self.env.app.confdir) / CITATION_FILE
        self.env.note_dependency(str(path))
        try:
            record = read_citation(path)
            year = _year(self.config.copyright)
        except ValueError as error:
            raise self.error(str(error)) from error
        sentence = nodes.paragraph()
        title = nodes.emphasis(text=record["title"])
        authors = "; ".join(author_names(record))
        sentence += [nodes.Text(f"{authors} ({year}). "), title, nodes.Text(f" (version {record['version']}).")]
        entry = nodes.literal_block(text=bibtex(record, year), language="bibtex")
        return [sentence, entry]


def setup(app):
    app.add_directive("cff-citation", CffCitation)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
