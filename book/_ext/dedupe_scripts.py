"""Write each inline script once per page.

With Sphinx 7.4, the inline scripts that sphinx-thebe and sphinx-togglebutton register once the
builder exists reach every page twice. Twice is harmless for ``var`` but not for sphinx-thebe's
``const THEBE_JS_URL``: the second copy throws "Identifier 'THEBE_JS_URL' has already been
declared" in the browser. The two copies differ only in how they spell "no file" (``None`` from
the builder, ``''`` from the registry), so Sphinx's own check does not see them as equal. This
keeps the first of the script entries that are identical once that spelling is folded.
"""

from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
