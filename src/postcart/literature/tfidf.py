"""TF-IDF features of titles and abstracts, built with numpy/scipy only.

Screening prioritisation needs a bag-of-words representation; scikit-learn is not a dependency,
so the vectoriser is written here: word 1-2-grams, sublinear term frequency (a word said ten times
is not ten times as telling), smoothed IDF and l2-normalised rows so long abstracts do not dominate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9\-]*[a-z0-9]|[a-z]")

#: Function words that carry no topic; dropped before n-grams are formed.
_STOP_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also may however thus within
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` without stop words or single digits."""
    words = _TOKEN_RE.findall(text.lower())
    return [w for w in words if w not in STOP_WORDS and not (len(w) == 1 and w.isdigit())]


def _terms(text: str, max_n: int) -> list[str]:
    words = tokenize(text)
    terms = list(words)
    for n in range(2, max_n + 1):
        terms.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return terms


@dataclass(frozen=True, slots=True)
class TfidfMatrix:
    """Document-term matrix (rows = documents, l2 norm 1) and the term of each column."""

    matrix: sp.csr_matrix
    terms: tuple[str, ...]


def tfidf(
    texts: Sequence[str], max_n: int = 2, min_df: int = 1, max_df: float = 0.95
) -> TfidfMatrix:
    """TF-IDF matrix of ``texts``: ``(1 + log tf) * (log((1 + n) / (1 + df)) + 1)``, rows l2-normed.

    Terms in more than ``max_df`` of documents (boilerplate) or fewer than ``min_df`` are dropped.
    """
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    counts: list[float] = []
    for row, text in enumerate(texts):
        bag: dict[int, int] = {}
        for term in _terms(text, max_n):
            col = vocabulary.setdefault(term, len(vocabulary))
            bag[col] = bag.get(col, 0) + 1
        rows.extend([row] * len(bag))
        cols.extend(bag)
        counts.extend(bag.values())
    n_docs = len(texts)
    tf = sp.csr_matrix(
        (np.asarray(counts, dtype=float), (rows, cols)), shape=(n_docs, len(vocabulary))
    )
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    keep = np.flatnonzero((df >= min_df) & (df <= max_df * n_docs))
    tf = tf[:, keep].tocsr()
    tf.data = 1.0 + np.log(tf.data)
    idf = np.log((1.0 + n_docs) / (1.0 + df[keep])) + 1.0
    weighted = sp.csr_matrix(tf @ sp.diags(idf))
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0.0] = 1.0
    normalised = sp.csr_matrix(sp.diags(1.0 / norms) @ weighted)
    by_column = sorted(vocabulary, key=vocabulary.__getitem__)
    return TfidfMatrix(normalised, tuple(by_column[i] for i in keep))
