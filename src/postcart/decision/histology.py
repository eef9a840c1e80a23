"""Which histologies an option's post-CAR T evidence covers, read from the evidence base.

The founding review is about large B-cell lymphoma; its sentence on the other histologies is
that salvage after CAR T in MCL and FL "remains uncertain". So each option states the families
its own post-CAR T cohorts enrolled, and a rule lowers an option for a patient whose histology
none of them covers. Cohorts that mix NHL subtypes without a breakdown are reported as such:
they may include the patient's histology, but the base cannot say how many.
"""

from __future__ import annotations

from collections.abc import Sequence

from postcart.decision.cards import EvidenceCard

#: Evidence-base disease → histology family of the decision aid.
DISEASE_FAMILY = {
    "LBCL": "LBCL",
    "DLBCL": "LBCL",
    "PMBCL": "LBCL",
    "HGBCL": "LBCL",
    "aggressive B-cell lymphoma": "LBCL",
    "MCL": "MCL",
    "FL": "FL",
    "MZL": "MZL",
    "iNHL": "FL/MZL",
    "NHL mixed": "mixed NHL",
    "B-cell malignancies mixed": "mixed NHL",
}

MIXED = "mixed NHL"


def covered_families(cards: Sequence[EvidenceCard]) -> tuple[str, ...]:
    """Families enrolled by the option's post-CAR T cohorts, in a fixed order."""
    found: set[str] = set()
    for card in cards:
        if card.role != "salvage_after_cart":
            continue
        family = DISEASE_FAMILY.get(card.disease)
        if family == "FL/MZL":
            found |= {"FL", "MZL"}
        elif family is not None:
            found.add(family)
    order = ("LBCL", "MCL", "FL", "MZL", MIXED)
    return tuple(family for family in order if family in found)


def coverage_note(family: str, covered: Sequence[str]) -> tuple[bool, str | None]:
    """Whether to lower the option for ``family``, and the sentence saying why (or None)."""
    if family in covered:
        return False, None
    if not covered:
        return True, f"No post-CAR T cohort in {family} (or any histology) in the evidence base."
    if MIXED in covered:
        named = [c for c in covered if c != MIXED]
        extra = f" and {', '.join(named)}" if named else ""
        return True, (
            f"Post-CAR T evidence from mixed NHL cohorts{extra}: how many had {family} is not "
            "recorded."
        )
    return True, f"Post-CAR T evidence only in {', '.join(covered)}, none in {family}."
