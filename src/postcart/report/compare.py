"""What changed between two builds: new studies, moved estimates, conclusions that flipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "old_snapshot": self.old_snapshot, "new_studies": list(self.new_studies),
            "removed_studies": list(self.removed_studies), "moved": list(self.moved),
            "flipped": list(self.flipped), "unchanged": self.unchanged,
        }  # fmt: skip


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}%"


def compare(old: dict[str, Any], new: dict[str, Any]) -> Changes:
    """Compare two results documents (as written by the report's ``results.json``)."""
    old_studies, new_studies = set(old.get("studies", [])), set(new.get("studies", []))
    moved: list[str] = []
    flipped: list[str] = []
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
    return Changes(
        old_snapshot=str(snap)[:12], new_studies=added, removed_studies=removed,
        moved=tuple(moved), flipped=tuple(flipped),
        unchanged=not (added or removed or moved or flipped),
    )  # fmt: skip
