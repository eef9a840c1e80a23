"""The evidence snapshot a report was built from: a content hash and a date read from the data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from postcart.evidence import DATA_DIR, Evidence


@dataclass(frozen=True)
class Snapshot:
    """Identity of the evidence: same files ⇒ same hash; the year is the newest source year."""

    content_hash: str
    files: int
    newest_source_year: int | None
    sources: int
    studies: int
    outcomes: int

    @property
    def label(self) -> str:
        """Short human label, e.g. ``evidence 3fa2c1d9e0b7 (sources up to 2025)``."""
        year = self.newest_source_year or "unknown"
        return f"evidence {self.content_hash[:12]} (sources up to {year})"

    def to_dict(self) -> dict[str, object]:
        """JSON view."""
        return {
            "content_hash": self.content_hash, "files": self.files,
            "newest_source_year": self.newest_source_year, "sources": self.sources,
            "studies": self.studies, "outcomes": self.outcomes,
        }  # fmt: skip


def content_hash(paths: list[Path]) -> str:
    """SHA-256 over each file's name and bytes, in name order (independent of location)."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def snapshot(evidence: Evidence, data_dir: Path | None = None) -> Snapshot:
    """Describe the evidence loaded from ``data_dir`` (default: the package's curated files)."""
    folder = Path(data_dir) if data_dir is not None else Path(DATA_DIR)
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else [folder]
    years = [s.year for s in evidence.sources if s.year is not None]
    return Snapshot(
        content_hash=content_hash(paths),
        files=len(paths),
        newest_source_year=max(years) if years else None,
        sources=len(evidence.sources),
        studies=len(evidence.studies),
        outcomes=len(evidence.outcomes),
    )
