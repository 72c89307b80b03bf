"""Rules for B3 (no harm to high performers), B8 (all benefit from targeting), C4 (pressure to
differentiate) and C6 (mixed classrooms help all students: the claim Source C meant)."""

from __future__ import annotations

from .common import WEIGHING, effect_part, no_harm_part, weigh
from .core import Part
from .registry import Judgement, rule


#: B3's pathways and the contrast that removes each.
PATHWAYS = {"honors and tracked classes": "course tracking",
            "advanced (gifted, selective) classes": "placement",
            "accelerated pathways": "acceleration"}
BANDS = ("low", "middle", "high")


@rule("B3", params=WEIGHING + ("sesoi",))
def b3(spec) -> Judgement:
    parts = []
    for name, contrast in PATHWAYS.items():
        s = weigh("high", contrast, spec)
        parts.append(no_harm_part(name, s, harm_sign=1, sesoi=spec["sesoi"], spec=spec,
                                  label=f"effect of {contrast} on high achievers", what=f"{contrast} for high achievers"))
    # "does not harm ... in any way": every pathway must be judged
    return Judgement("B3", tuple(parts), "each pathway judged on the weighed effect of the separate provision on high "
                                         "achievers (a benefit is what its removal would take away): "
                                         + "; ".join(f"{p.name} {p.verdict}" for p in parts), universal=True)


@rule("B8", params=WEIGHING + ("sesoi", "targeting_contrast"))
def b8(spec) -> Judgement:
    contrast = spec["targeting_contrast"]
    # "all students benefit": every prior-achievement band must be judged (an average gain is implied
    # by gains in every band and cannot stand in for a band without evidence)
    parts = []
    for band in BANDS:
        s = weigh(band, contrast, spec)
        parts.append(effect_part(f"{band} achievers", s, sign=1, sesoi=spec["sesoi"], spec=spec,
                                 label=f"effect of {contrast} on {band} achievers", what=f"{contrast} for {band} achievers"))
    return Judgement("B8", tuple(parts), "'all students benefit' needs a benefit in every prior-achievement band: "
                                         + "; ".join(f"{p.name} {p.verdict}" for p in parts), universal=True)


@rule("C4", params=WEIGHING + ("sesoi",))
def c4(spec) -> Judgement:
    # pressure (a share of teachers, or of time) under detracking minus under tracking: C4 says it falls
    pressure = effect_part("teachers' pressure to differentiate", weigh("detrack_practice", "detracking reform", spec),
                           sign=-1, sesoi=0.0, spec=spec, unit="proportion",
                           label="change in teachers' reported differentiation under detracking",
                           what="surveys or time-use studies comparing teachers' differentiation in tracked and "
                                "detracked classes (surveys of teachers in mixed classes alone have no comparison)")
    spread = Part("wider range of prior achievement to teach", "not testable here",
                  "a mixed class is more spread than a track cut on the same score by construction: the ratio is "
                  "arithmetic, not evidence",
                  needs="class rosters with prior scores under real tracking and detracking, or observed instruction")
    return Judgement("C4", (pressure, spread), "nothing in the book measures teachers' pressure to differentiate "
                                               "under tracking and detracking; the spread ratio is true by construction")


@rule("C6", params=WEIGHING + ("sesoi",))
def c6(spec) -> Judgement:
    parts = []
    for band in BANDS:
        s = weigh(f"detrack_{band}", "detracking reform", spec)
        parts.append(effect_part(f"{band} achievers", s, sign=1, sesoi=spec["sesoi"], spec=spec,
                                 label=f"effect of detracking on {band} achievers",
                                 what=f"detracking reforms for {band} achievers"))
    return Judgement("C6", tuple(parts), "judged as Source C meant it (mixed, not 'homogeneous', classrooms): every "
                                         "prior-achievement band must gain: "
                                         + "; ".join(f"{p.name} {p.verdict}" for p in parts), universal=True)
