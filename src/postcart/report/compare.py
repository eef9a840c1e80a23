"""What changed between two builds: new studies, moved estimates, conclusions that flipped.

Also, for living versions (PRISMA-LSR): estimates that left the previous version's 95% CI,
certainty of evidence that changed (GRADE level or its upper-bound mark), and, when the build
knows them, the version compared against and what triggered the update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postcart.errors import PostcartError

#: A pooled estimate "moved" when it shifts by at least this many percentage points.
MOVE_THRESHOLD = 1.0
#: Significance level for "the products differ" (Q-between p-value).
ALPHA = 0.05


@dataclass(frozen=True)
class Changes:
    """Differences between an older ``results.json`` and the current results."""

    old_snapshot: str
    new_studies: tuple[str, ...] = ()
    removed_studies: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    flipped: tuple[str, ...] = ()
    unchanged: bool = field(default=False)
    #: Pooled values now outside the previous version's 95% CI.
    beyond_ci: tuple[str, ...] = ()
    #: GRADE certainty that changed, e.g. "ORR: ≤ Moderate → ≤ Low".
    certainty: tuple[str, ...] = ()
    #: The living version compared against, and what triggered this one (set by the build).
    since_version: int | None = None
    trigger: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "old_snapshot": self.old_snapshot, "new_studies": list(self.new_studies),
            "removed_studies": list(self.removed_studies), "moved": list(self.moved),
            "flipped": list(self.flipped), "unchanged": self.unchanged,
            "beyond_ci": list(self.beyond_ci), "certainty": list(self.certainty),
            "since_version": self.since_version, "trigger": list(self.trigger),
        }  # fmt: skip

    def lines(self) -> list[str]:
        """Every change as one line, in the order the report prints them."""
        out = [f"Trigger: {t}" for t in self.trigger]
        out += [f"New study: {s}" for s in self.new_studies]
        out += [f"Removed study: {s}" for s in self.removed_studies]
        out += [f"Moved: {s}" for s in self.moved]
        out += [f"Outside the previous CI: {s}" for s in self.beyond_ci]
        out += [f"Certainty: {s}" for s in self.certainty]
        out += [f"Flipped: {s}" for s in self.flipped]
        return out + (["Nothing changed."] if self.unchanged else [])

    @property
    def heading(self) -> str:
        """``What changed since version 3 (evidence 1a2b…)``."""
        since = (
            f"version {self.since_version} ({self.old_snapshot})"
            if self.since_version
            else (self.old_snapshot)
        )
        return f"What changed since {since}"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _beyond_ci(title: str, before: dict[str, Any], now: dict[str, Any]) -> str | None:
    """A line when the new pooled value lies outside the previous 95% CI."""
    ci, value = before.get("ci_percent"), now.get("pooled_percent")
    if not ci or value is None or None in ci:
        return None
    if ci[0] <= value <= ci[1]:
        return None
    return f"{title}: {_pct(value)} lies outside the previous 95% CI {_pct(ci[0])}–{_pct(ci[1])}"


def certainty_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """GRADE labels that changed, appeared or disappeared between two results documents.

    A results file from before certainty existed has no ``certainty`` key: nothing to compare.
    """
    if "certainty" not in old:
        return []
    before: dict[str, Any] = old.get("certainty") or {}
    after: dict[str, Any] = new.get("certainty") or {}
    out = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        title = (b or a or {}).get("title", name)
        was = "not rated" if a is None else a["label"]
        now = "not rated" if b is None else b["label"]
        if was != now:
            out.append(f"{title}: {was} → {now}")
    return out


class ResultsFileError(PostcartError):
    """A ``--compare`` file that is not a results.json this project wrote."""


#: The parts of results.json that ``compare`` reads, and the type each must have.
_SHAPE: dict[str, type] = {
    "studies": list,
    "analyses": dict,
    "product_comparisons": dict,
    "snapshot": dict,
    "certainty": dict,
}


def read_results(path: Path) -> dict[str, Any]:
    """An older ``results.json``, checked for the shape :func:`compare` reads.

    A file cut off, of another shape, or from another program is refused with its path and
    the key at fault, rather than failing halfway through the comparison.
    """
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ResultsFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise ResultsFileError(
            f"{path}:{error.lineno}:{error.colno}: not JSON ({error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise ResultsFileError(f"{path}: expected a results.json object, found {_kind(data)}")
    _check_shape(path, data)
    return data


def _check_shape(path: Path, data: dict[str, Any]) -> None:
    for key, kind in _SHAPE.items():
        if key in data and not isinstance(data[key], kind):
            raise ResultsFileError(f"{path}: {key}: expected {_name(kind)}, "
                                   f"found {_kind(data[key])}")  # fmt: skip
    for group in ("analyses", "product_comparisons", "certainty"):
        for name, entry in data.get(group, {}).items():
            if not isinstance(entry, dict):
                raise ResultsFileError(f"{path}: {group}.{name}: expected an object")
    texts = [("analyses", "status"), ("analyses", "title"), ("certainty", "label")]
    for group, key in texts:
        for name, entry in data.get(group, {}).items():
            if not isinstance(entry.get(key), str):
                raise ResultsFileError(f"{path}: {group}.{name}.{key}: missing or not text")


def _name(kind: type) -> str:
    return "a list" if kind is list else "an object" if kind is dict else kind.__name__


def _kind(value: object) -> str:
    if isinstance(value, list | dict):
        return _name(type(value))
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    return "a number" if isinstance(value, int | float) else "null"


def compare(old: dict[str, Any], new: dict[str, Any]) -> Changes:
    """Compare two results documents (as written by the report's ``results.json``)."""
    old_studies, new_studies = set(old.get("studies", [])), set(new.get("studies", []))
    moved: list[str] = []
    flipped: list[str] = []
    beyond: list[str] = []
    old_an: dict[str, Any] = old.get("analyses", {})
    for name, now in new.get("analyses", {}).items():
        before = old_an.get(name)
        if before is None:
            if now["status"] == "pooled":
                flipped.append(f"{now['title']}: newly pooled ({_pct(now['pooled_percent'])})")
            continue
        if before["status"] != now["status"]:
            flipped.append(f"{now['title']}: {before['status']} → {now['status']}")
            continue
        a, b = before.get("pooled_percent"), now.get("pooled_percent")
        if a is not None and b is not None and abs(a - b) >= MOVE_THRESHOLD:
            moved.append(f"{now['title']}: {_pct(a)} → {_pct(b)} (k {before['k']} → {now['k']})")
        outside = _beyond_ci(now["title"], before, now)
        if outside is not None:
            beyond.append(outside)
    old_pc: dict[str, Any] = old.get("product_comparisons", {})
    for name, now in new.get("product_comparisons", {}).items():
        before = old_pc.get(name)
        if before is None:
            continue
        was = before.get("q_between_p") is not None and before["q_between_p"] < ALPHA
        is_ = now.get("q_between_p") is not None and now["q_between_p"] < ALPHA
        if was != is_:
            verdict = "products now differ" if is_ else "products no longer differ"
            flipped.append(f"Axi-cel vs tisa-cel, {now['title']}: {verdict} (p < {ALPHA})")
    added = tuple(sorted(new_studies - old_studies))
    removed = tuple(sorted(old_studies - new_studies))
    snap = old.get("snapshot", {}).get("content_hash", "unknown")
    grade = tuple(certainty_changes(old, new))
    return Changes(
        old_snapshot=str(snap)[:12], new_studies=added, removed_studies=removed,
        moved=tuple(moved), flipped=tuple(flipped),
        unchanged=not (added or removed or moved or flipped or beyond or grade),
        beyond_ci=tuple(beyond), certainty=grade,
    )  # fmt: skip
