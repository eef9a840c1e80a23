"""Bytes to text for the line-based formats: BOMs, UTF-16 without BOM, Latin-1 fallbacks.

Exports arrive in whatever encoding the vendor or the user's spreadsheet chose; guessing wrong
turns "Martínez" into mojibake, which then defeats dedup on author names.
"""

from __future__ import annotations

import codecs

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """Encoding of a file from its first bytes, and how many BOM bytes to skip."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    sample = head[:4096]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nuls > 0.4 * half and even_nuls < 0.1 * half:
            return "utf-16-le", 0
        if even_nuls > 0.4 * half and odd_nuls < 0.1 * half:
            return "utf-16-be", 0
    return "utf-8", 0


def decode_bytes(data: bytes) -> str:
    """Whole-file text: BOM or UTF-16 if present, else UTF-8, else Windows-1252, else Latin-1."""
    encoding, skip = sniff_encoding(data)
    body = data[skip:]
    if encoding != "utf-8":
        return body.decode(encoding, errors="replace")
    for candidate in ("utf-8", "cp1252"):
        try:
            return body.decode(candidate)
        except UnicodeDecodeError:
            continue
    return body.decode("latin-1")


def decode_head(head: bytes) -> str:
    """Best-effort text of a file's first bytes, tolerating a multi-byte character cut in half."""
    encoding, skip = sniff_encoding(head)
    body = head[skip:]
    if encoding.startswith("utf-16") and len(body) % 2:
        body = body[:-1]
    text = body.decode(encoding, errors="replace")
    if encoding == "utf-8" and text.count("\ufffd") > 8:
        text = body.decode("latin-1")
    return text
