"""Offer every page of the book as a clean Jupyter notebook.

After an HTML build, each MyST notebook page (a ``.md`` with a kernelspec) is written to
``_build/html/_notebooks/<docname>.ipynb``: code cells stay code (without outputs, so that a
student runs them), prose becomes plain Markdown. MyST syntax that Jupyter cannot render is
translated: glued values are replaced by the values this build computed (read from the execution
cache), admonitions become block quotes, exercises become bold headings, solutions become
``<details>`` blocks, cross-references become links to the sibling notebooks, citations become
their keys. Each page's download menu gets an ``.ipynb`` entry. Each notebook opens with a cell
that says how to run it away from the repository: install the book's wheel, the student pack
(``student_pack.py``), which carries the package and its data.

The translation is deliberately strict: :func:`markdown_for_jupyter` raises if any MyST directive
or role is left, so a new construct fails the build instead of leaking into a notebook.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import student_pack  # noqa: E402

NOTEBOOK_DIR = "_notebooks"
GLUE = re.compile(r"\{glue(?::(?:text|md|any))?\}`([^`]+)`")
ROLE = re.compile(r"\{(?P<name>[a-z:]+)\}`(?P<body>[^`]*)`")
FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<argument>.*)$")
SOLUTION_SUMMARY = "Solution (click to show)"
HOW_TO_RUN = """**How to run this notebook.** It is a chapter of *The Tracking Debate, Recomputed* and needs
Python 3.11 or newer with the book's package, `tracking_evidence`, which carries the book's data.
The package is one file on the book's site, `{wheel}` (every page's download menu links it, under
`.whl`; it sits in the site's `_downloads` folder). Install it once, then run the cells from the top:

- on your own computer, in a terminal, in the folder where you saved the file: `pip install {wheel}`;
- on a hosted notebook service (JupyterHub, Binder, Google Colab, ...): upload the file beside this
  notebook, run `%pip install {wheel}` in a new cell, then restart the kernel.

pip brings what the package needs (numpy, pandas, SciPy, statsmodels, matplotlib) when it is missing.
Inside the book's repository nothing needs installing: `make book` has set up `.venv`."""


def _format_glued(value, spec: str) -> str:
    if not spec:
        return str(value)
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def glued_values(executed) -> dict:
    """``{key: python value}`` from the glue outputs of an executed notebook."""
    values = {}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if not record:
                continue
            prefix = record.get("mime_prefix", "")
            plain = output.get("data", {}).get(f"{prefix}text/plain")
            if plain is None:
                continue
            try:
                values[record["name"]] = ast.literal_eval(plain)
            except (ValueError, SyntaxError):
                values[record["name"]] = plain.strip("'\"")
    return values


def _replace_glue(text: str, values: dict, docname: str) -> str:
    def substitute(match: re.Match) -> str:
        reference = match.group(1)
        if "::" in reference:  # cross-page glue: resolved from the other page's values
            raise KeyError(f"{docname}: cross-page glue '{reference}' is not supported in notebooks")
        key, _, spec = reference.partition(":")
        if key not in values:
            raise KeyError(f"{docname}: glue key '{key}' has no value in the executed notebook")
        return _format_glued(values[key], spec)

    return GLUE.sub(substitute, text)


def _role(match: re.Match) -> str:
    name, body = match.group("name"), match.group("body")
    labelled = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^>]+)>$", body, re.S)
    text, target = (labelled["text"], labelled["target"]) if labelled else (body, body)
    if name == "doc":
        return f"[{text}]({target.removesuffix('.md')}.ipynb)"
    if name.startswith("cite"):
        return "[" + "; ".join(key.strip() for key in body.split(",")) + "]"
    if name == "math":
        return f"${body}$"
    if name in {"ref", "numref", "term", "abbr", "sub", "sup", "eq", "download"}:
        return text if labelled or name != "eq" else f"({body})"
    return text


def _directive_block(name: str, argument: str, options: dict, body: str) -> str:
    """Plain Markdown for one MyST directive."""
    if name == "solution":
        return f"<details>\n<summary>{SOLUTION_SUMMARY}</summary>\n\n{body.strip()}\n\n</details>"
    if name == "exercise":
        label = options.get("label", "")
        title = f"Exercise{f' ({label})' if label else ''}{f': {argument}' if argument else ''}"
        return f"**{title}**\n\n{body.strip()}"
    if name == "math":
        return f"$$\n{body.strip()}\n$$"
    if name in {"code", "code-block", "sourcecode"}:
        return f"```{argument}\n{body.rstrip()}\n```"
    if name in {"figure", "image"}:
        return f"![{body.strip() or options.get('alt', '')}]({argument})"
    if name in {"bibliography", "toctree", "tableofcontents", "glossary-index"}:
        return ""
    if name == "literalinclude":
        return f"(See the file `{argument}` in the repository.)"
    if name == "dropdown":
        return f"<details>\n<summary>{argument}</summary>\n\n{body.strip()}\n\n</details>"
    title = argument or name.capitalize()
    quoted = "\n".join(f"> {line}" if line else ">" for line in body.strip().split("\n"))
    return f"> **{title}**\n>\n{quoted}"


def _translate_directives(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        opened = FENCE_OPEN.match(lines[i])
        if not opened:
            out.append(lines[i])
            i += 1
            continue
        fence, name, argument = opened["fence"], opened["name"], opened["argument"].strip()
        j, depth = i + 1, 1
        body_lines: list[str] = []
        while j < len(lines):
            inner = FENCE_OPEN.match(lines[j])
            if inner and inner["fence"] == fence:
                depth += 1
            elif lines[j].strip() == fence:
                depth -= 1
                if depth == 0:
                    break
            body_lines.append(lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"unclosed directive '{name}' opened by: {lines[i]}")
        options: dict[str, str] = {}
        if body_lines and body_lines[0].strip() == "---":  # YAML option block
            end = body_lines.index("---", 1)
            for option in body_lines[1:end]:
                key, _, value = option.partition(":")
                options[key.strip()] = value.strip()
            body_lines = body_lines[end + 1:]
        while body_lines and re.match(r"^:[\w-]+:", body_lines[0]):
            key, _, value = body_lines.pop(0)[1:].partition(":")
            options[key.strip()] = value.strip()
        body = _translate_directives("\n".join(body_lines))
        out.append(_directive_block(name, argument, options, body))
        i = j + 1
    return "\n".join(out)


def markdown_for_jupyter(text: str, values: dict, docname: str) -> str:
    """Translate one Markdown cell of a MyST notebook into Markdown that Jupyter renders."""
    text = _replace_glue(text, values, docname)
    text = re.sub(r"^\((?P<label>[\w-]+)\)=\s*$", "", text, flags=re.M)  # target labels
    text = _translate_directives(text)
    text = ROLE.sub(_role, text)
    # definition lists: "term" on one line, ": definition" on the next
    text = re.sub(r"^(?P<term>[^\s>|#:][^\n]*)\n: ", lambda m: f"**{m['term']}**: ", text, flags=re.M)
    leftover = re.search(r"^(`{3,}|:{3,})\{|\{[a-z:]+\}`", text, re.M)
    if leftover:
        raise ValueError(f"{docname}: MyST syntax left in a notebook cell near: {text[leftover.start():][:80]!r}")
    return text


def to_notebook(source: Path, executed, docname: str, wheel: str):
    """A clean notebook for one MyST page: first a cell that says how to run it (installing ``wheel``),
    then the page's code without outputs and its prose as Jupyter-ready Markdown."""
    from myst_nb.core.read import read_myst_markdown_notebook

    text = source.read_text(encoding="utf-8")
    if executed is None and GLUE.search(text):
        raise KeyError(f"{docname}: no executed notebook in the cache matches this page's code "
                       "(was the page edited during the build?)")
    notebook = read_myst_markdown_notebook(text)
    values = glued_values(executed) if executed is not None else {}
    cells = [nbformat.v4.new_markdown_cell(HOW_TO_RUN.format(wheel=wheel))]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            translated = markdown_for_jupyter(cell.source, values, docname).strip()
            if translated:
                cells.append(nbformat.v4.new_markdown_cell(translated))
        elif cell.cell_type == "code":
            code = nbformat.v4.new_code_cell(cell.source)
            tags = [t for t in cell.metadata.get("tags", []) if t not in {"remove-cell", "remove-input", "hide-input"}]
            if tags:
                code.metadata["tags"] = tags
            cells.append(code)
    for index, cell in enumerate(cells):  # stable ids: the same notebook bytes on every build
        cell["id"] = f"{docname.replace('/', '-')}-{index}"[-64:]
    clean = nbformat.v4.new_notebook(cells=cells)
    clean.metadata["kernelspec"] = notebook.metadata.get("kernelspec", {})
    clean.metadata["language_info"] = {"name": "python"}
    nbformat.validate(clean)
    return clean


def _is_notebook_page(path: Path) -> bool:
    head = path.read_text(encoding="utf-8")[:600]
    return head.startswith("---") and "kernelspec:" in head


def write_notebooks(app, exception):
    if exception is not None or app.builder.name != "html":  # not for the single page of `make pdf`
        return
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    cache_path = Path(app.outdir).parent / ".jupyter_cache"
    cache = get_cache(str(cache_path)) if cache_path.exists() else None
    target_dir = Path(app.outdir) / NOTEBOOK_DIR
    wheel = student_pack.wheel_name(Path(app.srcdir))
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if source.suffix != ".md" or not _is_notebook_page(source):
            continue
        executed = None
        if cache is not None:
            try:
                record = cache.match_cache_notebook(read_myst_markdown_notebook(source.read_text(encoding="utf-8")))
                executed = cache.get_cache_bundle(record.pk).nb
            except KeyError:
                executed = None
        notebook = to_notebook(source, executed, docname, wheel)
        destination = target_dir / f"{docname}.ipynb"
        destination.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, destination)


def add_download_entry(app, pagename, templatename, context, doctree):
    """Add '.ipynb' to the page's download menu (sphinx-book-theme's "download-buttons" group)."""
    source = Path(app.env.doc2path(pagename)) if pagename in app.env.found_docs else None
    if source is None or source.suffix != ".md" or not _is_notebook_page(source):
        return
    url = context["pathto"](f"{NOTEBOOK_DIR}/{pagename}.ipynb", 1)
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].insert(0, {"type": "link", "url": url, "text": ".ipynb", "icon": "fas fa-code",
                                         "tooltip": "Download notebook file", "label": "download-notebook-button"})
            return


def setup(app):
    app.connect("build-finished", write_notebooks)
    app.connect("html-page-context", add_download_entry, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
