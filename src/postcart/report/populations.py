"""The population each analysis and table admits, declared as data and printed with the result.

A pooled number means something only for the patients it pools. Each analysis names its
population once, here: which cohort roles, designs and histologies it admits, whose
denominators (infused before intention-to-treat), and, for salvage, which therapy. Selection
code reads these declarations; it never guesses a population from labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from postcart.evidence import Cohort, Evidence
from postcart.evidence.vocab import CohortRole, DenominatorBasis, Disease, StudyDesign

#: Histologies the review's real-world tables cover (large B-cell lymphoma and its subtypes).
LBCL_DISEASES = frozenset(
    {Disease.LBCL, Disease.DLBCL, Disease.PMBCL, Disease.HGBCL, Disease.aggressive_BCL}
)
#: Designs of the review's Tables 2–3 (clinical trials and case reports were excluded).
REAL_WORLD_DESIGNS = frozenset({StudyDesign.real_world, StudyDesign.registry})
#: Aggregates of other studies: pooling them with their own inputs would double count.
AGGREGATE_DESIGNS = frozenset({StudyDesign.meta_analysis, StudyDesign.systematic_review})
#: Every design but the aggregates.
PRIMARY_DESIGNS = frozenset(StudyDesign) - AGGREGATE_DESIGNS

#: How a denominator basis is printed next to a number.
BASIS_LABEL = {
    DenominatorBasis.intention_to_treat: "ITT",
    DenominatorBasis.treated: "infused/treated",
    DenominatorBasis.evaluable: "evaluable",
    DenominatorBasis.not_stated: "basis not stated",
}


@dataclass(frozen=True)
class Population:
    """Who an analysis pools: roles, designs, histologies, denominators and therapy.

    ``bases`` is an order of preference: within one study the cohort whose denominator comes
    first is taken (infused before ITT), and cohorts on a basis not listed are left out with
    that reason, so ITT and infused figures never mix unlabelled.
    """

    key: str
    label: str
    detail: str
    roles: frozenset[CohortRole]
    designs: frozenset[StudyDesign]
    bases: tuple[DenominatorBasis, ...]
    diseases: frozenset[Disease] | None = None
    therapy: str | None = None
    product: str | None = None
    #: Roles close enough to the population that a study reporting the outcome only in such a
    #: cohort is listed as left out, with the reason (selected CAR T cohorts for the real-world
    #: analyses, a salvage trial's whole population for the salvage ones).
    named_when_left_out: frozenset[CohortRole] = frozenset()

    def admits(self, evidence: Evidence, cohort: Cohort) -> bool:
        """Whether ``cohort`` belongs to this population (its basis is judged separately)."""
        study = evidence.study(cohort.study_key)
        if cohort.role not in self.roles or study.design not in self.designs:
            return False
        if self.diseases is not None and (cohort.disease or study.disease) not in self.diseases:
            return False
        if self.therapy is not None and cohort.therapy != self.therapy:
            return False
        return self.product is None or cohort.products == (self.product,)

    def basis_rank(self, cohort: Cohort) -> int | None:
        """Position of the cohort's basis in ``bases``; ``None`` when not admitted."""
        try:
            return self.bases.index(cohort.denominator_basis)
        except ValueError:
            return None

    def describe(self) -> str:
        """One line printed next to the estimate: who, and whose denominators."""
        bases = ", then ".join(BASIS_LABEL[b] for b in self.bases)
        return f"{self.label}; denominators: {bases}"

    def explain(self) -> str:
        """The full definition: who, whose denominators, and what is left out."""
        return f"{self.describe()} ({self.detail})"


#: Real-world CAR T in LBCL: unselected patients, whole cohorts or disjoint product arms.
REAL_WORLD_CART = Population(
    key="rw_cart_all_comers",
    label="real-world/registry LBCL, CD19 CAR T all-comers",
    detail=(
        "whole cohorts or disjoint product arms; cohorts selected by response, disease status, "
        "prior therapy, eligibility, age or matching, and comparator arms, are left out"
    ),
    roles=frozenset({CohortRole.cart_all_comers, CohortRole.cart_product_arm}),
    designs=REAL_WORLD_DESIGNS,
    bases=(DenominatorBasis.treated, DenominatorBasis.not_stated),
    diseases=LBCL_DISEASES,
    named_when_left_out=frozenset({CohortRole.cart_selected}),
)


def real_world_product(product: str) -> Population:
    """Real-world CAR T all-comers given one product (product-only cohorts or arms)."""
    return Population(
        key=f"rw_cart_{product}",
        label=f"real-world/registry LBCL, {product} all-comers",
        detail="product-only cohorts or arms; " + REAL_WORLD_CART.detail.split("; ", 1)[1],
        roles=REAL_WORLD_CART.roles,
        designs=REAL_WORLD_DESIGNS,
        bases=REAL_WORLD_CART.bases,
        diseases=LBCL_DISEASES,
        product=product,
        named_when_left_out=REAL_WORLD_CART.named_when_left_out,
    )


def salvage(therapy: str, name: str) -> Population:
    """Patients given ``therapy`` after CD19 CAR T failure (any primary design)."""
    return Population(
        key=f"salvage_{therapy}",
        label=f"{name} after CD19 CAR T failure",
        detail=(
            "post-CAR T cohorts and the post-CAR T subgroups of broader trials; trial "
            "populations not restricted to post-CAR T patients are left out"
        ),
        roles=frozenset({CohortRole.salvage_after_cart}),
        designs=PRIMARY_DESIGNS,
        bases=(
            DenominatorBasis.treated,
            DenominatorBasis.not_stated,
            DenominatorBasis.evaluable,
            DenominatorBasis.intention_to_treat,
        ),
        therapy=therapy,
        named_when_left_out=frozenset({CohortRole.salvage_mixed_population}),
    )
