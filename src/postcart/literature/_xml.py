"""The one place postcart parses untrusted XML: streaming, offline, and entity-free.

PubMed and PMC answers are XML from the network or from a user's disk. A hostile file can
declare entities that read local files (XXE) or expand exponentially ("billion laughs"), so
any DOCTYPE that declares entities is refused outright instead of being expanded. Parsing is
incremental (``iterparse``) and processed elements are freed, so a 200 MB file needs little
memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import IO

from lxml import etree

from postcart.errors import RecordParseError
from postcart.literature.readers._text import decode_head

#: Bytes read before parsing to vet the prolog; the document element must start within them.
PROLOG_LIMIT = 65536

_ENTITY_RE = re.compile(r"<!ENTITY", re.IGNORECASE)
_ELEMENT_START_RE = re.compile(r"<[A-Za-z_]")


class _Replay:
    """A read-only stream that first returns bytes already consumed, then the rest of ``inner``."""

    def __init__(self, head: bytes, inner: IO[bytes]) -> None:
        self._head = head
        self._inner = inner

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                chunk, self._head = self._head, b""
                rest = self._inner.read(-1 if size < 0 else size - len(chunk))
                return chunk + rest
            chunk, self._head = self._head[:size], self._head[size:]
            return chunk
        return self._inner.read(size)


def _vet_prolog(head: bytes, path: str) -> None:
    """Refuse entity declarations, and prologs too long to vet, before lxml sees the file."""
    text = decode_head(head)
    root_at = _ELEMENT_START_RE.search(text)
    if _ENTITY_RE.search(text if root_at is None else text[: root_at.start()]):
        raise RecordParseError(
            path, 1, "DOCTYPE", "XML declares entities; refused (possible XXE or entity bomb)"
        )
    if root_at is None and len(head) >= PROLOG_LIMIT:
        raise RecordParseError(
            path, 1, "DOCTYPE", f"no document element within the first {PROLOG_LIMIT} bytes"
        )


def iter_elements(source: IO[bytes], path: str, tags: Iterable[str]) -> Iterator[etree._Element]:
    """Yield each completed element named in ``tags``; it is freed once the caller moves on.

    Only the yielded element and its subtree are valid during the caller's step; earlier
    siblings are deleted so memory stays flat however long the file is.
    """
    head = source.read(PROLOG_LIMIT)
    _vet_prolog(head, path)
    events = etree.iterparse(
        _Replay(head, source),
        events=("end",),
        tag=tuple(tags),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _event, element in events:
            yield element
            element.clear(keep_tail=False)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        raise RecordParseError(path, line, "xml", f"malformed XML: {exc.msg}") from exc


def text_of(element: etree._Element | None) -> str:
    """All text inside ``element``, inline markup (``<i>``) flattened, whitespace collapsed."""
    if element is None:
        return ""
    pieces = [piece for piece in element.itertext() if isinstance(piece, str)]
    return " ".join("".join(pieces).split())


def line_of(element: etree._Element) -> int:
    """Line where ``element`` starts (0 when lxml does not know)."""
    line: object = element.sourceline
    return line if isinstance(line, int) else 0
