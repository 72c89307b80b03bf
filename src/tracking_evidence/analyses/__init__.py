"""What the chapters compute, numbers only: the synthesis of the published evidence per question
(``synthesis``), achievement gaps and their decomposition (``gaps``), peer composition (``peers``),
the reanalysis of published significance (``reanalysis``), the tracking model (``models``),
staffing (``sections``), acceleration and private resources (``acceleration``), the detracking
evidence (``detracking``) and the pooling chapter's examples (``pooling``).

Layer 3 of 5 (see CONTRIBUTING.md): it may import ``stats`` and ``data``; it never returns a
verdict (judgement is :mod:`tracking_evidence.verdicts`, one layer up).
"""
