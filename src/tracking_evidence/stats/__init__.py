"""The engine: meta-analytic pooling, meta-regression, the three-level model and cluster-robust
inference, publication bias. Each estimator is one function with its formula and references in
its docstring, checked against R's metafor and clubSandwich through committed fixtures.

Layer 1 of 5 (see CONTRIBUTING.md): it imports nothing of the package.
"""

from .bias import egger, pcurve, pet_peese, trimfill
from .meta import METHODS, MetaRegResult, PoolResult, check_inputs, estimate_tau2, metareg, pool, tau2_ci
from .multilevel import ROBUST_TYPES, MultilevelResult, RobustResult, pool_multilevel, robust

__all__ = ["METHODS", "PoolResult", "MetaRegResult", "pool", "tau2_ci", "metareg", "estimate_tau2", "check_inputs",
           "ROBUST_TYPES", "MultilevelResult", "RobustResult", "pool_multilevel", "robust",
           "egger", "trimfill", "pet_peese", "pcurve"]
