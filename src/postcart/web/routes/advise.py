"""The decision aid page: a patient profile form and, once submitted, the aid's advice.

The computation changes nothing, so the form submits by GET: no CSRF token is needed and the
URL of an answer can be shared or bookmarked. The route only turns query strings into the
profile's fields; validation is ``PatientProfile``'s and every ranking decision is the core's
(``postcart.decision.advise``), exactly as for ``postcart advise``.

The form is built from ``PatientProfile.model_fields`` (control type, choices and bounds), so a
field added to the model appears on the page; only its label, help text and group live here.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.applications import Starlette

from postcart.decision import (
    DISCLAIMER,
    TIERS,
    Advice,
    PatientProfile,
    default_rulebook,
)
from postcart.errors import ProfileError
from postcart.evidence import load
from postcart.report.advice import advise_with_review
from postcart.web.app import Who, render
from postcart.web.review_cache import efficacy_of, evidence_of

router = APIRouter()

Kind = Literal["choice", "tristate", "int", "float", "text", "multi"]

#: Query values that mean "not known": the field keeps its default (None or "unknown").
UNKNOWN = frozenset({"", "unknown"})

#: Tri-state answers for ``bool | None`` fields. "true"/"false" are accepted too, so a profile
#: converted mechanically from YAML/JSON reads the same as one entered by hand.
TRI_STATE = {"yes": True, "no": False, "true": True, "false": False}

#: Label and help text per profile field. Help says what to enter, not what the aid concludes
#: from it: the conclusions belong to the rules, which the advice shows with their ids.
FIELD_TEXT: dict[str, tuple[str, str]] = {
    "histology": ("Histology", "Lymphoma subtype of the relapse."),
    "cart_product": (
        "CAR T product",
        "The CAR T product infused, as a product key of the evidence base (e.g. axi-cel).",
    ),
    "best_response_to_cart": (
        "Best response to CAR T",
        "Best response reached after the infusion; SD or PD means primary refractory.",
    ),
    "days_to_progression": (
        "Days from infusion to progression",
        "0 or more. Raw days: the published cut-offs (day 30, day 90, 4 months, 180 days) "
        "are derived from them.",
    ),
    "rebiopsied": ("Re-biopsied at relapse", "Whether the relapse was biopsied again."),
    "cd19_status": ("CD19 on the relapse", "CD19 expression of the relapsed lymphoma."),
    "cd20_status": ("CD20 on the relapse", "CD20 expression of the relapsed lymphoma."),
    "disease_extent": ("Extent of the relapse", "Localised (few sites) or disseminated."),
    "extranodal_sites": ("Extranodal sites", "Number of extranodal sites involved."),
    "marrow_involved": ("Bone marrow involved", "Lymphoma in the bone marrow at relapse."),
    "ldh_ratio_uln": (
        "LDH ÷ upper limit of normal",
        "LDH at relapse divided by the laboratory's upper limit (1.0 = at the limit).",
    ),
    "ldh_elevated": (
        "LDH elevated",
        "Use when only \u201cabove normal\u201d is known; must agree with the ratio if both given.",
    ),
    "crp_mg_l": ("CRP (mg/L)", "C-reactive protein at relapse."),
    "crp_elevated": (
        "CRP above the local upper limit",
        "No source gives a CRP cut-off, so the aid takes the clinician's reading.",
    ),
    "ferritin_ng_ml": ("Ferritin (ng/mL)", "Serum ferritin at relapse."),
    "hemoglobin_g_dl": ("Haemoglobin (g/dL)", "Haemoglobin at relapse."),
    "age": ("Age (years)", "Age at relapse."),
    "ecog": ("ECOG performance status", "0 (fully active) to 4 (bed-bound)."),
    "organ_function": (
        "Organ function",
        "Cardiac, pulmonary, hepatic and renal function as the treating team reads it.",
    ),
    "significant_comorbidity": (
        "Significant comorbidity",
        "A comorbidity the treating team judges significant for intensive therapy.",
    ),
    "transplant_eligible": (
        "Transplant candidate",
        "Fit for allogeneic stem cell transplantation in the treating team's judgement.",
    ),
    "donor_available": ("Donor identified", "A suitable allogeneic donor has been found."),
    "current_response": (
        "Response to salvage so far",
        "Response to salvage already given after CAR T; \u201cnot treated\u201d if none yet.",
    ),
    "lines_since_cart": (
        "Therapies since CAR T",
        "Number of lines of therapy given after the CAR T infusion.",
    ),
    "prior_therapies": (
        "Options already received",
        "Salvage options already given after CAR T (tick every one that applies).",
    ),
}

#: Form sections, in the order a clinician reads a relapse: course, biology, labs, fitness.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Disease and CAR T course",
        ("histology", "cart_product", "best_response_to_cart", "days_to_progression"),
    ),
    (
        "Relapse biology",
        (
            "rebiopsied",
            "cd19_status",
            "cd20_status",
            "disease_extent",
            "extranodal_sites",
            "marrow_involved",
        ),
    ),
    (
        "Laboratory values at relapse",
        (
            "ldh_ratio_uln",
            "ldh_elevated",
            "crp_mg_l",
            "crp_elevated",
            "ferritin_ng_ml",
            "hemoglobin_g_dl",
        ),
    ),
    (
        "Patient fitness and transplant",
        (
            "age",
            "ecog",
            "organ_function",
            "significant_comorbidity",
            "transplant_eligible",
            "donor_available",
        ),
    ),
    ("Treatment since CAR T", ("current_response", "lines_since_cart", "prior_therapies")),
)


#: How the evidence cards name the measures they show (others: the measure key in words).
MEASURES = {
    "orr": "ORR",
    "cr": "CR",
    "os_rate": "OS",
    "pfs_rate": "PFS",
    "median_os": "median OS",
    "median_pfs": "median PFS",
    "median_dor": "median DOR",
    "nrm_rate": "NRM",
    "crs_g3plus": "CRS grade ≥3",
    "icans_g3plus": "ICANS grade ≥3",
}


@dataclass(frozen=True, slots=True)
class ProfileField:
    """One form control, derived from a ``PatientProfile`` field.

    ``choices`` are ``(value, label)`` pairs: select options (the first, ``""``, is "unknown"),
    checkboxes, or suggestions for a text field. ``minimum``/``maximum`` are the model's
    inclusive bounds as HTML attributes; ``bounds`` states every bound in words, because an
    exclusive bound (LDH ratio above 0) has no HTML attribute.
    """

    name: str
    label: str
    help: str
    kind: Kind
    choices: tuple[tuple[str, str], ...] = ()
    minimum: str | None = None
    maximum: str | None = None
    bounds: str = ""


def control_of(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    """The control kind for a field's type, with the values of a ``Literal``.

    Raises ``TypeError`` for a type the form cannot show, so a new kind of field fails loudly
    at import instead of silently vanishing from the page.
    """
    inner = [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
    if len(inner) == 1:
        (kind,) = inner
        if get_origin(kind) is Literal:
            return "choice", tuple(str(value) for value in get_args(kind))
        if get_origin(kind) is tuple:
            return "multi", ()
        simple: dict[Any, Kind] = {bool: "tristate", int: "int", float: "float", str: "text"}
        if kind in simple:
            return simple[kind], ()
    raise TypeError(f"no form control for a profile field of type {annotation!r}")


#: Control kind per field, computed once: parsing a query needs it before anything is loaded.
KINDS: dict[str, Kind] = {
    name: control_of(info.annotation)[0] for name, info in PatientProfile.model_fields.items()
}


def _number(value: Any) -> str:
    """A bound or value as HTML shows it: ``2`` not ``2.0``, full precision otherwise."""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _bounds(metadata: list[Any]) -> tuple[str | None, str | None, str]:
    """Inclusive HTML min/max and a sentence naming every bound the model enforces."""
    low = high = None
    words = []
    for bound in metadata:
        if isinstance(bound, annotated_types.Ge):
            low = _number(bound.ge)
            words.append(f"at least {low}")
        elif isinstance(bound, annotated_types.Gt):
            words.append(f"above {_number(bound.gt)}")
        elif isinstance(bound, annotated_types.Le):
            high = _number(bound.le)
            words.append(f"at most {high}")
        elif isinstance(bound, annotated_types.Lt):
            words.append(f"below {_number(bound.lt)}")
    if low is not None and high is not None and len(words) == 2:
        return low, high, f"Allowed: {low} to {high}."
    return low, high, ("Allowed: " + ", ".join(words) + ".") if words else ""


def _label(value: str) -> str:
    return value.replace("_", " ")


@lru_cache(maxsize=1)
def _product_choices() -> tuple[tuple[str, str], ...]:
    """Product keys the engine accepts for ``cart_product`` (the evidence base's catalogue).

    Loaded once per process: reading the evidence base takes about a second.
    """
    return tuple(
        (
            product.key,
            product.generic_name + (f" ({product.brand_name})" if product.brand_name else ""),
        )
        for product in load().products
    )


@lru_cache(maxsize=1)
def profile_fields() -> tuple[ProfileField, ...]:
    """Every ``PatientProfile`` field as a form control, in the model's order."""
    fields = []
    for name, info in PatientProfile.model_fields.items():
        kind, literal = control_of(info.annotation)
        label, help_text = FIELD_TEXT.get(name, (_label(name), ""))
        choices: tuple[tuple[str, str], ...] = ()
        if kind == "choice":
            known = tuple((value, _label(value)) for value in literal if value not in UNKNOWN)
            choices = (("", "unknown"), *known)
        elif kind == "tristate":
            choices = (("", "unknown"), ("yes", "yes"), ("no", "no"))
        elif kind == "multi":
            choices = tuple((option.id, option.name) for option in default_rulebook().options)
        elif kind == "text" and name == "cart_product":
            choices = _product_choices()
        low, high, bounds = _bounds(info.metadata)
        fields.append(ProfileField(name, label, help_text, kind, choices, low, high, bounds))
    return tuple(fields)


def form_groups() -> list[tuple[str, list[ProfileField]]]:
    """The fields in their sections; a field no section names lands in a last "Other" one."""
    by_name = {field.name: field for field in profile_fields()}
    groups = [(title, [by_name[name] for name in names]) for title, names in GROUPS]
    placed = {name for _, names in GROUPS for name in names}
    rest = [field for field in profile_fields() if field.name not in placed]
    if rest:
        groups.append(("Other", rest))
    return groups


def tri_state(raw: str) -> bool | str | None:
    """A yes/no/unknown answer: ``"yes"`` → True, ``"no"`` → False, ``""``/unknown → None.

    Anything else comes back unchanged for ``PatientProfile`` to accept or refuse with its own
    message, so the model stays the one judge of what a valid value is.
    """
    value = raw.strip()
    if value.lower() in UNKNOWN:
        return None
    return TRI_STATE.get(value.lower(), value)


def _collect(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    collected: dict[str, list[str]] = {}
    for key, value in pairs:
        collected.setdefault(key, []).append(value.strip())
    return collected


def profile_data(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query pairs → the mapping ``PatientProfile`` validates; empty or "unknown" = not given.

    A repeated single-valued field is passed on as a list, and an unknown parameter as is, so
    the model refuses them: an ambiguous or misspelt input must not silently become "unknown"
    in a clinical tool.
    """
    data: dict[str, Any] = {}
    for name, raw in _collect(pairs).items():
        kind = KINDS.get(name)
        given = [value for value in raw if value not in UNKNOWN]
        if kind is None:
            data[name] = raw[-1]
        elif kind == "multi":
            if given:
                data[name] = given
        elif len(given) > 1:
            data[name] = given
        elif given:
            value = tri_state(given[0]) if kind == "tristate" else given[0]
            if value is not None:
                data[name] = value
    return data


def raw_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """What the user sent, to show again next to the errors (selects show "unknown" as "")."""
    values: dict[str, str | list[str]] = {}
    for name, raw in _collect(pairs).items():
        kind = KINDS.get(name)
        if kind == "multi":
            values[name] = raw
        elif kind is not None:
            last = raw[-1]
            answer = tri_state(last) if kind == "tristate" else None
            if isinstance(answer, bool):
                last = "yes" if answer else "no"
            values[name] = "" if kind != "text" and last in UNKNOWN else last
    return values


def profile_values(profile: PatientProfile) -> dict[str, str | list[str]]:
    """What the aid used, to show in the form: a valid answer always reflects the profile."""
    values: dict[str, str | list[str]] = {}
    for name in PatientProfile.model_fields:
        value = getattr(profile, name)
        if isinstance(value, tuple):
            values[name] = list(value)
        elif value is None or value == "unknown":
            values[name] = ""
        elif isinstance(value, bool):
            values[name] = "yes" if value else "no"
        elif isinstance(value, (int, float)):
            values[name] = _number(value)
        else:
            values[name] = str(value)
    return values


def _shown(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """Each problem as ``(field, message)``; the model's cross-field checks name their field.

    The offending input is quoted in the message (the page escapes it), because a select
    cannot show a value it does not offer.
    """
    problems = []
    for detail in error.errors():
        loc = detail["loc"]
        message = detail["msg"].removeprefix("Value error, ")
        if not loc:
            field, _, message = message.partition(": ") if ": " in message else ("", "", message)
        else:
            field = str(loc[0])
            if detail["type"] == "extra_forbidden":
                message = "not a field of the patient profile"
            elif isinstance(detail.get("input"), (str, list)):
                message += f" (got {_shown(detail['input'])!r})"
        problems.append((field, message))
    return problems


@dataclass(frozen=True, slots=True)
class Problem:
    """One error for the summary: the field (if it is one of the form's) and the message."""

    field: str | None
    label: str
    message: str


def _problems(found: list[tuple[str, str]]) -> tuple[list[Problem], dict[str, list[str]]]:
    labels = {field.name: field.label for field in profile_fields()}
    summary: list[Problem] = []
    by_field: dict[str, list[str]] = {}
    for field, message in found:
        known = field if field in labels else None
        summary.append(Problem(known, labels.get(field, field or "Profile"), message))
        if known is not None:
            by_field.setdefault(known, []).append(message)
    return summary, by_field


def _evaluate(
    pairs: list[tuple[str, str]], app: Starlette
) -> tuple[PatientProfile | None, Advice | None, list[tuple[str, str]]]:
    """Validate with ``PatientProfile`` and ask the core; errors as ``(field, message)``.

    The same call as ``postcart advise`` (``advise_with_review``) on the app's evidence, so
    the page orders options exactly as the terminal does.
    """
    try:
        profile = PatientProfile.model_validate(profile_data(pairs))
    except ValidationError as exc:
        return None, None, field_errors(exc)
    try:
        # References to the evidence base (product, option ids) are checked by the engine.
        return profile, advise_with_review(profile, evidence_of(app), efficacy_of(app)), []
    except ProfileError as exc:
        return profile, None, [(exc.field, str(exc).removeprefix(f"{exc.field}: "))]


@router.get("/advise")
def advise_page(request: Request, who: Who) -> Response:
    """The profile form; with query parameters, their advice below it (422 with the errors).

    With ``HX-Request`` only the changed part is sent: the advice (plus the form out of band,
    clearing old error messages), or the form with its errors retargeted onto the form. A
    history restore asks for the whole page, so it gets one.
    """
    pairs = request.query_params.multi_items()
    fragment = (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
    profile, advice, found = (
        _evaluate(pairs, request.app) if pairs else (PatientProfile(), None, [])
    )
    summary, errors = _problems(found)
    # Errors show what was sent; an answer shows what the aid read (e.g. "true" as "yes").
    values = raw_values(pairs) if summary or profile is None else profile_values(profile)
    context: dict[str, Any] = {
        "groups": form_groups(),
        "values": values,
        "errors": errors,
        "problems": summary,
        "advice": advice,
        "tiers": TIERS,
        "measures": MEASURES,
        "labels": {field.name: field.label for field in profile_fields()},
        "disclaimer": DISCLAIMER,
        "fragment": fragment,
    }
    status = 422 if summary else 200
    if not fragment:
        response = render(request, who, "advise.html", status, **context)
    elif summary:
        response = render(request, who, "_advise_form.html", status, **context)
        response.headers["HX-Retarget"] = "#profile-form"
        response.headers["HX-Reswap"] = "outerHTML"
    else:
        response = render(request, who, "_advice.html", status, **context)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response
