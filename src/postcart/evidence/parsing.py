"""Read one curated YAML file into an ``EvidenceFile``, keeping the line of every field.

PyYAML's composed node tree carries marks; we walk it once to map each field path to its line
and to the scalar text as written (``82.0`` vs ``82``: the printed precision matters when
events are derived from a percentage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from postcart.errors import Problem
from postcart.evidence.schemas import EvidenceFile
from postcart.evidence.yaml_budget import check_alias_budget

#: A field's location in a file: mapping keys and list indices, as pydantic reports them.
FieldPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """``('studies', 0, 'key')`` → ``studies[0].key``: how problems name a field."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(file)"


@dataclass
class LineIndex:
    """Lines (1-based) and raw scalar texts of one file's fields."""

    lines: dict[FieldPath, int] = field(default_factory=dict)
    raw: dict[FieldPath, str] = field(default_factory=dict)
    duplicates: list[tuple[FieldPath, int]] = field(default_factory=list)

    def line(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path``, or of its nearest ancestor present (a missing field's parent)."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)

    def add(self, node: yaml.Node, path: FieldPath, line: int) -> None:
        """Record ``node`` (whose field starts at ``line``) and everything below it."""
        self.lines[path] = line
        if isinstance(node, yaml.ScalarNode):
            self.raw[path] = node.value
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.add(item, (*path, index), item.start_mark.line + 1)
        elif isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            merged: list[yaml.Node] = []
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged.append(value_node)
                    continue
                name = str(key_node.value)
                child = (*path, name)
                if name in seen:
                    self.duplicates.append((child, key_node.start_mark.line + 1))
                seen.add(name)
                self.add(value_node, child, key_node.start_mark.line + 1)
            self._add_merged(merged, path, seen)

    def _add_merged(self, merged: list[yaml.Node], path: FieldPath, seen: set[str]) -> None:
        """Fields a ``<<: *anchor`` merge brings in, located where the anchor defines them.

        Overriding a merged field is what merge keys are for, so it is not a duplicate.
        """
        for source in merged:
            mappings = source.value if isinstance(source, yaml.SequenceNode) else [source]
            for mapping in mappings:
                if not isinstance(mapping, yaml.MappingNode):
                    continue
                for key_node, value_node in mapping.value:
                    name = str(key_node.value)
                    if name not in seen:
                        seen.add(name)
                        self.add(value_node, (*path, name), key_node.start_mark.line + 1)


@dataclass(frozen=True)
class ParsedFile:
    """A file that parsed and passed the schema, with its line index."""

    path: Path
    content: EvidenceFile
    index: LineIndex

    @property
    def name(self) -> str:
        """The file name stored with every record for traceability."""
        return self.path.name

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        """A problem located at ``path`` in this file."""
        return Problem(str(self.path), self.index.line(path), format_path(path), message)


def read_yaml(path: Path) -> tuple[Any, LineIndex] | list[Problem]:
    """A curated YAML file's data and the line of every field, or the problems reading it.

    Shared by every curated-file reader (evidence, risk of bias): the alias budget is checked
    before any walk and an empty file is a problem rather than ``None``. Fields given twice are
    in ``index.duplicates`` (:func:`duplicate_problems`), so a caller can report them together
    with its own checks.
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [Problem(where, None, "(file)", f"cannot read: {error}")]
    loader = yaml.SafeLoader(text)
    index = LineIndex()
    try:
        node = loader.get_single_node()
        if node is None:
            return [Problem(where, None, "(file)", "file is empty")]
        check_alias_budget(node)  # before any walk: nested aliases multiply
        # Index first: constructing flattens ``<<`` merges inside the node tree.
        index.add(node, (), node.start_mark.line + 1)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        return [Problem(where, line, "(yaml)", str(error.problem or error).strip())]
    except yaml.YAMLError as error:
        return [Problem(where, None, "(yaml)", str(error))]
    finally:
        loader.dispose()
    return data, index


def duplicate_problems(path: Path, index: LineIndex) -> list[Problem]:
    """A problem for each field given twice (YAML silently keeps only the last)."""
    return [
        Problem(str(path), line, format_path(dup), "field given twice (YAML keeps only the last)")
        for dup, line in index.duplicates
    ]


def parse_file(path: Path) -> ParsedFile | list[Problem]:
    """Parse and schema-check one file; on failure return every problem found in it."""
    read = read_yaml(path)
    if isinstance(read, list):
        return read
    data, index = read
    problems = duplicate_problems(path, index)
    try:
        content = EvidenceFile.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(detail["loc"])
            problems.append(Problem(str(path), index.line(loc), format_path(loc), detail["msg"]))
        return problems
    return problems or ParsedFile(path, content, index)
