"""Living versions (PRISMA-LSR): each evidence state the report is built from gets a number.

A version is identified by what the report's conclusions rest on: the evidence files, the
risk-of-bias templates and judgements, and the GRADE rules and overrides (SHA-256 per file, no
clock). Building into an output folder reads ``versions/index.json`` there: the same inputs keep
the same number (a rebuild), changed inputs make the next number, compared against the last one
("changes since version N"), with the trigger stated as the files that changed plus any note the
analyst gives. Each version's ``results.json``, ``index.html`` and ``report.md`` are kept under
``versions/v<N>/`` so old versions stay readable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postcart.errors import PostcartError
from postcart.evidence.loader import DATA_DIR
from postcart.evidence.risk_of_bias import ROB_DIR, TEMPLATE_DIR
from postcart.report.certainty.rules import OVERRIDES_FILE, RULES_FILE

INDEX = Path("versions") / "index.json"
#: Files kept per version.
KEPT = ("results.json", "index.html", "report.md")


@dataclass(frozen=True)
class Version:
    """One living version: its number, input identity, files, trigger and predecessor."""

    number: int
    identity: str
    files: dict[str, str]
    trigger: tuple[str, ...]
    previous: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON view (``versions/index.json`` entry and ``results.json`` → ``version``)."""
        return {"number": self.number, "identity": self.identity, "files": self.files,
                "trigger": list(self.trigger), "previous": self.previous}  # fmt: skip


def input_files(data_dir: Path | None = None) -> dict[str, str]:
    """SHA-256 of every input a version rests on, keyed by a stable relative name."""
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    groups = {
        "evidence": sorted(folder.glob("*.yaml")) if folder.is_dir() else [folder],
        "risk_of_bias": sorted(ROB_DIR.glob("*.yaml")),
        "risk_of_bias/templates": sorted(TEMPLATE_DIR.glob("*.yaml")),
        "certainty": [RULES_FILE, OVERRIDES_FILE],
    }
    return {f"{group}/{path.name}": hashlib.sha256(path.read_bytes()).hexdigest()
            for group, paths in groups.items() for path in paths}  # fmt: skip


def identity(files: dict[str, str]) -> str:
    """One hash over every input's name and hash."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name]}\0".encode())
    return digest.hexdigest()


def read_index(out_dir: Path) -> list[dict[str, Any]]:
    """The versions recorded in ``out_dir`` (empty for a fresh folder)."""
    path = Path(out_dir) / INDEX
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        versions = data["versions"]
        assert isinstance(versions, list)
        return versions
    except (ValueError, KeyError, AssertionError) as error:
        raise PostcartError(f"{path}: not a versions index ({error}); move it away to start "
                            "a new version history") from error  # fmt: skip


def _trigger(before: dict[str, str], after: dict[str, str]) -> list[str]:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(n for n in set(before) & set(after) if before[n] != after[n])
    out = [f"{label}: {', '.join(names)}" for label, names in
           (("files added", added), ("files removed", removed), ("files changed", changed))
           if names]  # fmt: skip
    return out


def plan(out_dir: Path, data_dir: Path | None = None, note: str | None = None) -> Version:
    """The version this build is: the last one again (same inputs) or the next one."""
    files = input_files(data_dir)
    ident = identity(files)
    history = read_index(out_dir)
    if not history:
        first = ["first version in this folder"] + ([note] if note else [])
        return Version(1, ident, files, tuple(first), None)
    last = history[-1]
    if last["identity"] == ident:
        return Version(last["number"], ident, files, tuple(last["trigger"]), last["previous"])
    trigger = _trigger(last["files"], files) + ([note] if note else [])
    return Version(last["number"] + 1, ident, files, tuple(trigger), last["number"])


def previous_results(out_dir: Path, version: Version) -> Path | None:
    """The kept ``results.json`` of the version this one is compared against."""
    if version.previous is None:
        return None
    path = Path(out_dir) / "versions" / f"v{version.previous}" / "results.json"
    return path if path.exists() else None


def record(out_dir: Path, version: Version) -> None:
    """Keep this version's files under ``versions/v<N>/`` and update the index."""
    out = Path(out_dir)
    keep = out / "versions" / f"v{version.number}"
    keep.mkdir(parents=True, exist_ok=True)
    for name in KEPT:
        source = out / name
        if source.exists():
            (keep / name).write_bytes(source.read_bytes())
    history = [v for v in read_index(out) if v["number"] != version.number]
    history.append(version.to_dict())
    history.sort(key=lambda v: v["number"])
    (out / INDEX).write_text(json.dumps({"versions": history}, indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")  # fmt: skip
