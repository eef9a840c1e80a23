"""Compare curated quotes with the text they came from and with the figures they support.

Typography differs between the review's text and a curator's copy (thin spaces, "82 %" vs
"82%", a middle-dot decimal), so both sides are normalised before comparing.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

#: Space characters that typesetting puts between a number and its unit or inside numbers.
_SPACES = "\u00a0\u2009\u202f\u2007\u200a"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_QUOTE_MARKS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_WORD = re.compile(r"[a-z]+")
_NUMBER_WORDS = {
    word: Decimal(number)
    for number, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}
#: Words that put a percentage at an end of the scale.
_PERCENT_WORDS = {"no": Decimal(0), "none": Decimal(0), "all": Decimal(100)}
_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u2009\u202f](?=\d{3}(?!\d))")


def normalise_whitespace(text: str) -> str:
    """Collapse every run of (typographic) whitespace to one ASCII space."""
    for space in _SPACES:
        text = text.replace(space, " ")
    return " ".join(text.split())


def figures_in(text: str) -> list[Decimal]:
    """Every number written in ``text`` ("82%", "4·5 months", "1,200 patients" → 1200)."""
    text = _THOUSANDS.sub("", text).replace("·", ".")
    return [Decimal(match) for match in _NUMBER.findall(text)]


def mentions_figure(quote: str, figure: float, *, percent: bool = False) -> bool:
    """Whether ``quote`` writes ``figure`` (numerically equal, so 82.0 matches "82%").

    Small numbers written as words count ("seven patients"), and for percentages so do the
    words the review uses for the ends of the scale ("had no CR" is 0 %, "all had CRS" 100 %).
    """
    try:
        wanted = Decimal(repr(figure))
    except InvalidOperation:
        return False
    if any(found == wanted for found in figures_in(quote)):
        return True
    words = set(_WORD.findall(quote.lower()))
    named = {_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS}
    if percent:
        named |= {_PERCENT_WORDS[w] for w in words if w in _PERCENT_WORDS}
    return wanted in named


def _canonical(text: str) -> str:
    """Whitespace collapsed, no space before "%", straight quote marks."""
    text = normalise_whitespace(text).replace(" %", "%")
    return text.translate(_QUOTE_MARKS)


def occurs_in(quote: str, text: str) -> bool:
    """Whether ``quote`` occurs verbatim in ``text``, up to spacing and quote-mark style."""
    return _canonical(quote) in _canonical(text)
