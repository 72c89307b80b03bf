"""Rules for B3 (no harm to high performers), B8 (all benefit from targeting), C4 (pressure to
differentiate) and C6 (mixed classrooms help all students: the claim Source C meant).

B3, B8 and C6 are universal ("in any way", "all students"): each falls to one credible
counterexample (:func:`.common.counterexample_part`), and otherwise needs every part judged."""

from __future__ import annotations

from .common import WEIGHING, counterexample_part, effect_part, harm_level, lines_part, no_harm_part, weigh
from .core import Part
from .registry import Judgement, rule

#: B3's pathways and the contrast that removes each.
PATHWAYS = {"honors and tracked classes": "course tracking",
            "advanced (gifted, selective) classes": "placement",
            "accelerated pathways": "acceleration"}
BANDS = ("low", "middle", "high")
COUNTEREXAMPLE = ("counterexample_designs", "counterexample_max_rob")
#: Why trials of tracked against mixed classes bear only indirectly on removing tracks (read in reverse).
REVERSED = "a trial of tracked against mixed classes read in reverse, not a detracking reform"


@rule("B3", params=WEIGHING + ("sesoi", "harm_threshold") + COUNTEREXAMPLE)
def b3(spec) -> Judgement:
    parts, syntheses = [], []
    for name, contrast in PATHWAYS.items():
        s = weigh("high", contrast, spec)
        syntheses.append(s)
        parts.append(no_harm_part(name, s, harm_sign=1, sesoi=spec["sesoi"], spec=spec,
                                  label=f"effect of {contrast} on high achievers", what=f"{contrast} for high achievers"))
    # the detracking evaluations' own high-achiever estimates bear on it directly (harm: a negative effect)
    reform = weigh("detrack_high", "detracking reform", spec)
    parts.append(no_harm_part("detracking reforms' high achievers", reform, harm_sign=-1, sesoi=spec["sesoi"], spec=spec,
                              label="effect of detracking reforms on high achievers",
                              what="detracking reforms' effects on high achievers"))
    harm = harm_level(spec, spec["sesoi"])  # one threshold of harm for every part of the claim
    counter = counterexample_part("a credible study showing harm", syntheses, against_sign=1, threshold=harm, spec=spec,
                                  label="what removing the separate provision costs high achievers", what="",
                                  indirect="separate provision for high achievers compared with none, read in reverse: "
                                           "not the removal of honours, advanced or accelerated pathways itself")
    counter = counter or counterexample_part("a credible study showing harm", [reform], against_sign=-1, threshold=harm,
                                             spec=spec, label="effect of detracking on high achievers", what="")
    if counter is not None:
        parts.append(counter)
        head = (f"'does not harm high performers in any way' falls to one credible study of harm, {counter.because}, "
                "though it compares separate with mixed classes in one programme, not the removal of honours or "
                "acceleration: ")
    else:
        head = "'does not harm high performers in any way' falls to one credible study of harm; none is coded: "
    return Judgement("B3", tuple(parts), head + "; ".join(f"{p.name} {p.verdict}" for p in parts if not p.refutes),
                     universal=True)


@rule("B8", params=WEIGHING + ("sesoi", "targeting_contrast") + COUNTEREXAMPLE)
def b8(spec) -> Judgement:
    contrast = spec["targeting_contrast"]
    # "all students benefit": every prior-achievement band must be judged, and one credible study in
    # which a band gains no worthwhile benefit refutes it
    parts, syntheses = [], []
    for band in BANDS:
        s = weigh(band, contrast, spec)
        syntheses.append(s)
        parts.append(effect_part(f"{band} achievers", s, sign=1, sesoi=spec["sesoi"], spec=spec,
                                 label=f"effect of {contrast} on {band} achievers", what=f"{contrast} for {band} achievers"))
    counter = counterexample_part("a band with no worthwhile benefit", syntheses, against_sign=-1,
                                  threshold=-spec["sesoi"], spec=spec, label=f"effect of {contrast} (negated)", what="")
    if counter is not None:
        parts.append(counter)
    return Judgement("B8", tuple(parts), "'all students benefit' needs a benefit in every prior-achievement band and "
                                         "falls to one band shown not to gain: "
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


def detracking_lines(question: str, spec: dict, *, label: str, what: str) -> tuple[Part, list]:
    """A detracking effect read from every contrast that bears on it, never pooled together: the
    reforms themselves, and comparisons of tracked with mixed classes read the other way."""
    syntheses = [weigh(question, contrast, spec) for contrast in ("detracking reform", "course tracking")]
    lines = [effect_part("detracking reforms" if s.contrast == "detracking reform" else "tracked vs mixed classes",
                         s, sign=1, sesoi=spec["sesoi"], spec=spec, label=label, what=what,
                         indirect=() if s.contrast == "detracking reform" else (REVERSED,)) for s in syntheses]
    return lines, syntheses


@rule("C6", params=WEIGHING + ("sesoi",) + COUNTEREXAMPLE)
def c6(spec) -> Judgement:
    parts, syntheses = [], []
    for band in BANDS:
        lines, s = detracking_lines(f"detrack_{band}", spec, label=f"effect of detracking on {band} achievers",
                                    what=f"detracking and {band} achievers")
        syntheses += s
        parts.append(lines_part(f"{band} achievers", lines))
    counter = counterexample_part("a band that loses or gains nothing worthwhile", syntheses, against_sign=-1,
                                  threshold=-spec["sesoi"], spec=spec, label="effect of detracking (negated)", what="",
                                  indirect={"course tracking": REVERSED})
    if counter is not None:
        parts.append(counter)
    return Judgement("C6", tuple(parts), "judged as Source C meant it (mixed, not 'homogeneous', classrooms): every "
                                         "prior-achievement band must gain, and one band shown not to refutes it: "
                                         + "; ".join(f"{p.name} {p.verdict}" for p in parts), universal=True)
