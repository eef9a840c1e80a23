"""Generated patient profiles (issue 16): the decision aid gives advice or a ``ProfileError``
naming the field; never another exception. Booleans never pass as numbers, and every value
it accepts is inside the declared range.

Examples per test come from ``POSTCART_FUZZ_EXAMPLES`` (300 in ``make test``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postcart.decision import PatientProfile, advise, parse_profile, read_profile
from postcart.errors import PostcartError

EXAMPLES = int(os.environ.get("POSTCART_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))  # fmt: skip

FIELDS = list(PatientProfile.model_fields)
value = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(10**13), 10**13),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
        st.sampled_from(["DLBCL", "MCL", "FL", "PMBCL", "negative", "positive", "CR", "PD",
                         "unknown", "localized", "axi-cel", "yes", "1", "true"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)  # fmt: skip
hostile = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), value,
                          max_size=8)  # fmt: skip
#: Near-valid profiles, so that many examples get past validation and reach the rules.
plausible = st.fixed_dictionaries({}, optional={
    "histology": st.sampled_from(["DLBCL", "HGBCL", "PMBCL", "tFL", "MCL", "FL", "MZL", "other"]),
    "age": st.integers(-2, 125), "ecog": st.integers(-1, 5),
    "days_to_progression": st.integers(-5, 8000), "cd19_status": st.sampled_from(
        ["positive", "negative", "dim", "unknown"]), "cd20_status": st.sampled_from(
        ["positive", "negative", "unknown"]), "best_response_to_cart": st.sampled_from(
        ["CR", "PR", "SD", "PD", "unknown"]), "disease_extent": st.sampled_from(
        ["localized", "advanced", "unknown"]), "ldh_elevated": st.booleans(),
    "transplant_eligible": st.one_of(st.booleans(), st.integers(0, 1)),
    "current_response": st.sampled_from(["CR", "PR", "SD", "PD", "unknown"]),
})  # fmt: skip
profile = st.one_of(plausible, hostile)


def _check_accepted(accepted: PatientProfile, raw: dict[str, Any]) -> None:
    for name, given_value in raw.items():
        if isinstance(given_value, bool):
            kept = getattr(accepted, name)
            assert isinstance(kept, bool) or kept is None, f"{name}: bool taken as {kept!r}"
    for name, info in PatientProfile.model_fields.items():
        kept = getattr(accepted, name)
        for limit in info.metadata:
            low = getattr(limit, "ge", None)
            high = getattr(limit, "le", None)
            if kept is not None and low is not None:
                assert kept >= low, name
            if kept is not None and high is not None:
                assert kept <= high, name


@FUZZ
@given(profile)
def test_generated_profiles_give_advice_or_a_named_error(raw: dict[str, Any]) -> None:
    try:
        accepted = parse_profile(raw)
    except PostcartError:
        return
    _check_accepted(accepted, raw)
    advise(accepted)


@FUZZ
@given(profile, st.sampled_from(["json", "yaml-dup", "bytes"]), st.binary(max_size=30))
def test_profile_files_are_read_or_refused(raw: dict[str, Any], kind: str, junk: bytes) -> None:
    try:
        text = json.dumps(raw, allow_nan=True)
    except (TypeError, ValueError):
        return
    data = {"json": text.encode(), "yaml-dup": (text[:-1] + ', "age": 1}').encode()
            if text.startswith("{") and len(text) > 2 else text.encode(),
            "bytes": junk + text.encode()}[kind]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "profile.json"
        path.write_bytes(data)
        with contextlib.suppress(PostcartError):
            read_profile(path)
