"""A relapsed patient's situation after CAR T, as the decision aid reads it.

Every field may be unknown (``None`` or ``"unknown"``): the aid then says which rules it could
not apply instead of guessing. Days from infusion to progression are stored raw because every
published cut-off (day 30, day 90, 4 months, 180 days) is derived from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from postcart.errors import ProfileError

Histology = Literal["DLBCL", "HGBCL", "PMBCL", "tFL", "LBCL", "MCL", "FL", "MZL"]
Response = Literal["CR", "PR", "SD", "PD", "unknown"]
AntigenStatus = Literal["positive", "dim", "negative", "unknown"]
Extent = Literal["localized", "disseminated", "unknown"]
CurrentResponse = Literal["CR", "PR", "SD", "PD", "not_treated", "unknown"]


class PatientProfile(BaseModel):
    """Inputs of the decision aid; names are a stable contract (docs/decision.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    histology: Histology | None = None
    cart_product: str | None = None
    best_response_to_cart: Response = "unknown"
    days_to_progression: int | None = None
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
    transplant_eligible: bool | None = None
    donor_available: bool | None = None
    current_response: CurrentResponse = "unknown"
    lines_since_cart: int | None = Field(default=None, ge=0, le=20)
    prior_therapies: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> PatientProfile:
        if self.days_to_progression is not None and self.days_to_progression < 0:
            raise ValueError(
                "days_to_progression: progression cannot come before the CAR T infusion"
            )
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


def read_profile(path: Path) -> PatientProfile:
    """Read a profile from a YAML or JSON file (JSON is YAML)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError("(file)", f"{path}: not valid YAML/JSON: {exc}") from None
    return parse_profile(data, origin=str(path))
