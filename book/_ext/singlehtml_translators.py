"""Let the single-page builder render every node the HTML builder renders.

Sphinx looks up a node's HTML visitors by builder name first, and by format only when no
extension registered visitors under that name. sphinx-exercise registers its nodes for
``singlehtml`` by name, so under ``singlehtml`` Sphinx stops looking at the ``html`` visitors that
the other extensions (sphinx-design's dropdowns, sphinx-togglebutton, ...) registered, and the
single-page build (``make pdf``) fails with "unknown node type: dropdown_title". This copies the
``html`` visitors that ``singlehtml`` lacks.
"""

from __future__ import annotations


def share_html_visitors(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visitors in handlers.get("html", {}).items():
        single.setdefault(node, visitors)


def setup(app):
    app.connect("builder-inited", share_html_visitors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
