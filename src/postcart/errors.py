"""The exceptions postcart raises on purpose.

    PostcartError
    ├── InputError                 bad numbers handed to stats (names row and column)
    ├── AccessError                a reviewer asked for a project or record that is not theirs
    ├── EvidenceValidationError    curated evidence files break a rule (lists every Problem)
    ├── RecordParseError           a literature file cannot be read (file, line, field)
    ├── ProfileError               a patient profile is impossible or contradictory (field)
    ├── RuleError                  a decision rule file references something unknown (rule id)
    ├── literature.eutils_answers.EutilsError       PubMed answered with an error or not at all
    └── literature.saved_searches.SavedSearchError  no saved search of that name

Every message names where the problem is, so a user can fix the input without a debugger.
"""

from __future__ import annotations

from dataclasses import dataclass


class PostcartError(Exception):
    """Base of every error postcart raises deliberately."""


class InputError(PostcartError, ValueError):
    """Numbers passed to a statistical routine are unusable (e.g. events > n)."""


class AccessError(PostcartError, PermissionError):
    """A reviewer asked for another project's data; says "not found" so it leaks nothing."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input file: where it is and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}"


class EvidenceValidationError(PostcartError):
    """Curated evidence failed validation; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the evidence files:\n{lines}")


class DestructiveBuildError(PostcartError):
    """An evidence build would delete stored sources that the new files do not hold."""

    def __init__(self, removed: tuple[str, ...], incoming: int) -> None:
        self.removed = removed
        shown = ", ".join(removed[:10]) + (
            f" and {len(removed) - 10} more" if len(removed) > 10 else ""
        )
        super().__init__(
            f"this build would remove {len(removed)} stored source(s) that the {incoming} "
            f"source(s) being built do not hold: {shown}; nothing was changed. Check --data, "
            "back up with `postcart db backup`, and pass --allow-removal if that is intended"
        )


class RecordParseError(PostcartError, ValueError):
    """A bibliographic record could not be parsed."""

    def __init__(self, path: str, line: int | None, field: str, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {message}")


class ProfileError(PostcartError, ValueError):
    """A patient profile is impossible, contradictory or names something unknown."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class RuleError(PostcartError, ValueError):
    """A decision rule refers to an unknown field, option or evidence record."""

    def __init__(self, rule_id: str, message: str) -> None:
        self.rule_id = rule_id
        super().__init__(f"rule {rule_id}: {message}")
