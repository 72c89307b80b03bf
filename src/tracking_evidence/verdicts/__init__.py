"""Judgement, in one place: every claim's rule, its declared parameters, certainty and multiverse.

- :mod:`.parameters`: every threshold, eligibility choice and assumed value, declared once with a
  default, a defensible range and a reason;
- :mod:`.core`: the verdicts, the parts of a claim and the one rule that combines parts;
- :mod:`.certainty`: the written rule for a certainty grade (GRADE, EEF);
- :mod:`.registry`: the rule of each claim (``claims_*`` modules) and :func:`judge`;
- :mod:`.multiverse`: each verdict over the grid of its parameters; :mod:`.store` shares it;
- presentation of verdicts (boxes, the ledger) lives in :mod:`tracking_evidence.site`, above this layer.

The analysis modules compute numbers and never return a verdict; nothing here is imported by them.
"""

from .core import JUDGED, VERDICTS, Deciding, Part, combine
from .parameters import PARAMETERS, Param
from .registry import RULES, Judgement, Rule, all_rules, judge

__all__ = ["VERDICTS", "JUDGED", "Part", "Deciding", "combine", "Param", "PARAMETERS", "Judgement", "Rule", "RULES",
           "all_rules", "judge"]
