"""A ~200 MB PubMed XML file streams through in bounded memory and reasonable time.

The file is generated here with a known number of articles, so the expected count is the
generator's loop count, not something our parser reported.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from postcart.literature.readers import read_records

_ABSTRACT = "Relapse after CD19 CAR T-cell therapy was followed in a cohort. " * 28
_AUTHORS = "".join(
    f"<Author><LastName>Author{i}</LastName><Initials>AB</Initials></Author>" for i in range(8)
)


def _article(pmid: int) -> str:
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="1">{pmid}</PMID>'
        "<Article><Journal><JournalIssue><Volume>12</Volume><PubDate><Year>2024</Year>"
        "</PubDate></JournalIssue><Title>Synthetic Journal</Title></Journal>"
        f"<ArticleTitle>Synthetic article number {pmid}</ArticleTitle>"
        f'<Abstract><AbstractText Label="RESULTS">{_ABSTRACT}</AbstractText></Abstract>'
        f"<AuthorList>{_AUTHORS}</AuthorList>"
        f'<ELocationID EIdType="doi">10.5555/synthetic.{pmid}</ELocationID>'
        "</Article></MedlineCitation></PubmedArticle>\n"
    )


def _rss_mib() -> float:
    """Current resident set size; sampled during the loop, since the process peak may predate it."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


@pytest.mark.slow
def test_200mb_pubmed_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big_pubmed.xml"
    articles = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0"?>\n<PubmedArticleSet>\n')
        while out.tell() < 200 * 1024 * 1024:
            articles += 1
            out.write(_article(articles))
        out.write("</PubmedArticleSet>\n")
    assert path.stat().st_size >= 200 * 1024 * 1024

    before = _rss_mib()
    highest = before
    started = time.perf_counter()
    count = 0
    last_pmid = None
    for record in read_records(path):
        count += 1
        last_pmid = record.pmid
        if count % 2000 == 0:
            highest = max(highest, _rss_mib())
    elapsed = time.perf_counter() - started
    growth = highest - before

    assert count == articles
    assert last_pmid == str(articles)
    assert growth < 200, f"peak RSS grew by {growth:.0f} MiB"
    assert elapsed < 60, f"took {elapsed:.1f} s"
    print(f"{articles} articles, {elapsed:.1f} s, peak RSS growth {growth:.0f} MiB")  # noqa: T201
