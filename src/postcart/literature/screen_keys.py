"""Each reviewer's own keys for keyboard screening, checked so that no key means two things.

Screeners come with habits (``j``/``k``, ``1``/``0``, a left-hand layout); a tool that forces
its own keys slows every one of thousands of votes. The keys are per person, not per project,
because the habit is the person's. Defaults are ``workflow.DEFAULT_KEYS``.

A key is one printable character, stored lower-case (the browser script compares the lower-case
key). Refused: two decisions on one key, a digit (1-9 pick the full-text exclusion reason and
0 is kept beside them), white space, and the characters that have another meaning on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy.orm import Session

from postcart.errors import InputError
from postcart.literature import accounts
from postcart.literature import models as m
from postcart.literature.workflow import DEFAULT_KEYS

DECISIONS = ("yes", "maybe", "no")
#: Characters a key may not be: digits (reason keys) and keys the browser or page uses.
RESERVED = frozenset("0123456789/?")


def keys_of(session: Session, reviewer: m.Reviewer) -> Mapping[str, str]:
    """The reviewer's keys per decision: their own if saved, else the defaults."""
    row = session.get(m.ScreenKeys, reviewer.id)
    if row is None:
        return DEFAULT_KEYS
    return MappingProxyType({d: row.keys.get(d, DEFAULT_KEYS[d]) for d in DECISIONS})


def check(keys: Mapping[str, str]) -> dict[str, str]:
    """The keys normalised (lower-case), or InputError naming the field and what is wrong."""
    found: dict[str, str] = {}
    for decision in DECISIONS:
        raw = keys.get(decision, "")
        if len(raw) != 1 or not raw.isprintable() or raw.isspace():
            raise InputError(f"key for {decision!r}: one printable character, not {raw!r}")
        key = raw.lower()
        if key in RESERVED:
            raise InputError(
                f"key for {decision!r}: {key!r} is reserved (digits pick exclusion reasons)"
            )
        for other, taken in found.items():
            if taken == key:
                raise InputError(f"key for {decision!r}: {key!r} is already the key for {other!r}")
        found[decision] = key
    return found


def save(session: Session, reviewer: m.Reviewer, keys: Mapping[str, str]) -> Mapping[str, str]:
    """Check and store ``reviewer``'s keys (audited); returns them as stored."""
    checked = check(keys)
    before = dict(keys_of(session, reviewer))
    row = session.get(m.ScreenKeys, reviewer.id)
    if row is None:
        session.add(m.ScreenKeys(reviewer_id=reviewer.id, keys=checked))
    else:
        row.keys = checked
    session.flush()
    accounts.audit(session, reviewer, "set_keys", "user", reviewer.id,
                   before={"keys": before}, after={"keys": checked})  # fmt: skip
    return MappingProxyType(checked)


__all__ = ["DECISIONS", "RESERVED", "check", "keys_of", "save"]
