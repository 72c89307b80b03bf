"""Presentation: what a reader sees. The ledger and the verdict boxes (``ledger``, ``boxes``),
plots and the figures' data (``plots``, ``figure_data``), tables at every width (``tables``),
gluing values into prose (``gluing``), the source pages (``source_pages``) and the book's own
metadata (``bookinfo``).

Layer 5 of 5 (see CONTRIBUTING.md): it may import every layer below; nothing imports it.
(Named ``site``, not ``book``: ``book/`` is the chapters' folder at the repository's root.)
"""
