"""Computations behind *The Tracking Debate, Recomputed*.

Five layers, each a subpackage; an import points down only (``import-linter`` contracts in
``pyproject.toml`` make an upward import fail the tests; CONTRIBUTING.md draws the picture):

1. ``stats``: the engine (pooling, the three-level model, robust inference, publication bias,
   effect-size conversions);
2. ``data``: loading and validating what is shipped (datasets, evidence and codings, the claims
   registry, the source texts and their sentence map);
3. ``analyses``: what the chapters compute, numbers only;
4. ``verdicts``: judgement only (parameters, rules, certainty, the multiverse and its store);
5. ``site``: presentation (ledger, verdict boxes, plots, tables, figure data, gluing, source pages).

Chapters call these functions; they never re-implement them.
"""

__version__ = "0.1.0"
