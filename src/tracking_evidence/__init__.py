"""Computations behind *The Tracking Debate, Recomputed*.

Chapters call these functions; they never re-implement them. Modules: ``data`` (loaders and
validation), ``claims`` (the registry and the ledger), ``gluing`` (values into prose) and one
module per family of computations.
"""

__version__ = "0.1.0"
