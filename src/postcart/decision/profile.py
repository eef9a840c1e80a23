"""A relapsed patient's situation after CAR T, as the decision aid reads it.

Every field may be unknown (``None`` or ``"unknown"``): the aid then says which rules it could
not apply instead of guessing. Days from infusion to progression are stored raw because every
published cut-off (day 30, day 90, 4 months, 180 days) is derived from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from postcart.errors import ProfileError
from postcart.evidence.yaml_budget import check_alias_budget

Histology = Literal["DLBCL", "HGBCL", "PMBCL", "tFL", "LBCL", "MCL", "FL", "MZL"]
Response = Literal["CR", "PR", "SD", "PD", "unknown"]
AntigenStatus = Literal["positive", "dim", "negative", "unknown"]
Extent = Literal["localized", "disseminated", "unknown"]
CurrentResponse = Literal["CR", "PR", "SD", "PD", "not_treated", "unknown"]
OrganFunction = Literal["adequate", "impaired", "unknown"]

#: A plausibility bound on days from infusion to progression, not a clinical cut-off: 20 years
#: is far beyond any follow-up after CD19 CAR T, so a larger value is a typing error (10^12).
MAX_DAYS_TO_PROGRESSION = 7305


class PatientProfile(BaseModel):
    """Inputs of the decision aid; names are a stable contract (docs/decision.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    histology: Histology | None = None
    cart_product: str | None = None
    best_response_to_cart: Response = "unknown"
    days_to_progression: int | None = Field(default=None, ge=0, le=MAX_DAYS_TO_PROGRESSION)
    rebiopsied: bool | None = None
    cd19_status: AntigenStatus = "unknown"
    cd20_status: AntigenStatus = "unknown"
    disease_extent: Extent = "unknown"
    extranodal_sites: int | None = Field(default=None, ge=0, le=30)
    marrow_involved: bool | None = None
    ldh_ratio_uln: float | None = Field(default=None, gt=0, le=100)
    ldh_elevated: bool | None = None
    crp_mg_l: float | None = Field(default=None, ge=0, le=1000)
    #: Above the local laboratory's upper limit. No source we read gives a CRP cut-off, so the
    #: aid takes the clinician's reading instead of inventing one.
    crp_elevated: bool | None = None
    ferritin_ng_ml: float | None = Field(default=None, ge=0, le=200000)
    hemoglobin_g_dl: float | None = Field(default=None, ge=2, le=25)
    age: int | None = Field(default=None, ge=0, le=120)
    ecog: int | None = Field(default=None, ge=0, le=4)
    #: Cardiac, pulmonary, hepatic and renal function as the treating team reads it. No source
    #: in the evidence base gives numeric organ-function limits, so the aid takes the reading.
    organ_function: OrganFunction = "unknown"
    #: A comorbidity the treating team judges significant for intensive therapy (same reason).
    significant_comorbidity: bool | None = None
    transplant_eligible: bool | None = None
    donor_available: bool | None = None
    current_response: CurrentResponse = "unknown"
    lines_since_cart: int | None = Field(default=None, ge=0, le=20)
    prior_therapies: tuple[str, ...] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _strict_kinds(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse values of the wrong kind that lax parsing would coerce silently.

        ``true`` is not an age and ``1`` is not a yes: in a clinical tool a mistyped file must
        be refused, not reinterpreted. Numeric strings stay accepted for numbers (the web form
        sends text); text and booleans are never numbers, numbers never booleans.
        """
        if value is None or info.field_name is None:
            return value
        kind = _FIELD_KINDS.get(info.field_name)
        if kind in (int, float) and isinstance(value, bool):
            raise ValueError(f"expected a number, got the boolean {value!r}")
        if info.field_name == "days_to_progression" and _negative(value):
            raise ValueError("progression cannot come before the CAR T infusion")
        if kind is bool and not isinstance(value, bool):
            raise ValueError("Input should be a valid boolean: true or false")
        if kind is str and not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        if kind is tuple and isinstance(value, (str, bytes)):
            raise ValueError(f"expected a list of option ids, got the text {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PatientProfile:
        ldh_given = self.ldh_ratio_uln is not None and self.ldh_elevated is not None
        if ldh_given and self.ldh_elevated != ((self.ldh_ratio_uln or 0) > 1):
            raise ValueError(
                f"ldh_elevated: says {self.ldh_elevated} but ldh_ratio_uln is {self.ldh_ratio_uln}"
            )
        treated = self.current_response not in ("not_treated", "unknown")
        if treated and self.lines_since_cart == 0:
            raise ValueError(
                "current_response: a response to salvage is given but lines_since_cart is 0"
            )
        return self

    @property
    def ldh_is_elevated(self) -> bool | None:
        """LDH above the upper limit of normal, from either input."""
        if self.ldh_ratio_uln is not None:
            return self.ldh_ratio_uln > 1
        return self.ldh_elevated


def _negative(value: Any) -> bool:
    """A number (or numeric text, as the web form sends) below zero."""
    try:
        return float(value) < 0
    except (TypeError, ValueError):
        return False


def _kind(annotation: Any) -> type | None:
    """The base kind of a field (int, float, bool, str, tuple) for ``_strict_kinds``."""
    for kind in (bool, int, float):
        if annotation in (kind, kind | None):
            return kind
    text = str(annotation)
    if text.startswith("tuple"):
        return tuple
    if annotation in (str, str | None) or "Literal" in text:
        return str
    return None


_FIELD_KINDS: dict[str, type | None] = {
    name: _kind(info.annotation) for name, info in PatientProfile.model_fields.items()
}


def parse_profile(data: Any, *, origin: str = "profile") -> PatientProfile:
    """Validate raw data into a profile; errors name the offending field."""
    if not isinstance(data, dict):
        raise ProfileError("(root)", f"{origin} must be a mapping of field: value")
    try:
        return PatientProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(root)"
        message = first["msg"].removeprefix("Value error, ")
        if ": " in message and field == "(root)":
            field, message = message.split(": ", 1)
        raise ProfileError(field, message) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping.

    PyYAML (and ``json.loads``) keep the last of two equal keys silently, so a profile saying
    ``age: 45`` then ``age: 85`` would be read as 85 without a word. JSON files are read as
    YAML, so this covers both formats.
    """


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ProfileError(str(key), f"given twice (again at line {line})")
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,
)


def read_profile(path: Path) -> PatientProfile:
    """Read a profile from a YAML or JSON file (JSON is YAML); duplicate keys are refused."""
    try:
        loader = _UniqueKeyLoader(path.read_text(encoding="utf-8"))
        try:
            node = loader.get_single_node()
            if node is not None:
                check_alias_budget(node)  # a 1 KB alias bomb must not exhaust memory
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError as exc:
        raise ProfileError("(file)", f"{path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise ProfileError("(file)", f"{path}: not valid YAML/JSON: {exc}") from None
    except ProfileError as exc:
        raise ProfileError(
            exc.field, f"{path}: {str(exc).removeprefix(exc.field + ': ')}"
        ) from None
    return parse_profile(data, origin=str(path))
