"""How to cite the book, and its licences: CITATION.cff is valid Citation File Format 1.2.0 (the
format's own JSON schema, tests/schemas/), agrees with the project's metadata, and the "How to cite"
page shows the citation written from it and the licence of the code, the text and every dataset."""

from __future__ import annotations

import json
import re
import sys
import tomllib

import jsonschema
import pytest
import yaml

from .conftest import ROOT
from .test_site import _text

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import citation  # noqa: E402

SCHEMA = json.loads((ROOT / "tests" / "schemas" / "citation-file-format-1.2.0.json").read_text(encoding="utf-8"))
REQUIRED = ["authors", "cff-version", "message", "title"]  # CFF 1.2.0's required keys


def _record() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def _validator():
    return jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_citation_file_is_valid_citation_file_format_1_2_0():
    record = _record()
    assert SCHEMA["required"] == REQUIRED
    assert all(record.get(key) for key in REQUIRED)
    assert record["cff-version"] == "1.2.0"
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in _validator().iter_errors(record)]
    assert errors == []


@pytest.mark.parametrize("breakage", ["drop authors", "unknown key", "bad licence", "bad version"])
def test_the_schema_catches_a_broken_citation_file(breakage):
    record = _record()
    if breakage == "drop authors":
        record.pop("authors")
    elif breakage == "unknown key":
        record["auhtors"] = record["authors"]
    elif breakage == "bad licence":
        record["license"] = "MIT-ish"
    else:
        record["cff-version"] = "1.1.0"
    assert list(_validator().iter_errors(record))


def test_citation_file_agrees_with_the_project():
    record = _record()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert record["title"] == config["title"]
    assert record["version"] == project["version"]
    assert [author.get("name") for author in record["authors"]] == [config["author"]]
    assert project["license"]["text"] in record["license"]
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_the_cite_page_shows_the_citation_written_from_the_file():
    record = _record()
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    year = re.search(r"\d{4}", str(config["copyright"])).group(0)
    text = _text("book/appendix/cite")
    assert citation.citation_text(record, year) in text
    assert f"title = {{{record['title']}}}" in text  # the BibTeX entry


def test_the_cite_page_states_the_licence_of_the_code_the_text_and_every_dataset():
    text = _text("book/appendix/cite")
    assert "MIT" in text and "CC BY 4.0" in text
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    licences = readme.split("## Licences", 1)[1].split("\n## ", 1)[0]
    for licence in re.findall(r"`([^`]+)`", licences):  # `GPL (>= 2)`, `GPL-2 | GPL-3`, r-cran-nlme, ...
        assert licence in text, f"the cite page does not state {licence!r} (data/README.md)"
    for dataset in re.findall(r"^\| `([\w.]+\.csv)` \|", readme, re.M):  # the checksum table: every microdata file
        assert dataset in text, f"the cite page does not give {dataset}'s licence"
    for registry in ("claims.csv", "evidence.csv", "data/sources/"):
        assert registry in text


@pytest.mark.parametrize("broken, words", [
    ({"title": "x", "version": "1"}, "missing authors"),
    ({"title": "x", "authors": [{"affiliation": "nowhere"}], "version": "1"}, "an author without a name"),
])
def test_the_citation_extension_names_what_is_missing(tmp_path, broken, words):
    path = tmp_path / "CITATION.cff"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(ValueError, match=words):
        citation.author_names(citation.read_citation(path))
