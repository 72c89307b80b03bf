"""Copy the book's changed static files (book/_static: CSS, JavaScript) even when no page changed.

Sphinx copies ``html_static_path`` into ``_build/html/_static`` only when it writes at least one
page; a rebuild after an edit of ``book.css`` or ``tables.js`` alone ("no targets are out of date")
would keep serving the old files. After every HTML build this copies each static file whose bytes
differ from the copy in the output.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_changed_static_files(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target_root = Path(app.outdir) / "_static"
    for entry in app.config.html_static_path:
        source_root = Path(app.confdir, entry)
        if not source_root.is_dir():
            continue
        for source in (p for p in source_root.rglob("*") if p.is_file()):
            target = target_root / source.relative_to(source_root)
            if not target.exists() or target.read_bytes() != source.read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def setup(app):
    app.connect("build-finished", copy_changed_static_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
