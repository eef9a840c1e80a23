"""The living review online and the evidence browser: same numbers as the report, links that
resolve, filters that return exactly the matching records, and search text that stays inert."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import cast

import lxml.html
import pytest
from fastapi import FastAPI
from lxml.html import HtmlElement
from tests.web.conftest import WebClient

from postcart.evidence import Evidence, Outcome, load
from postcart.evidence.vocab import CohortRole, Measure, ProvenanceKind
from postcart.report.cells import fmt_fixed
from postcart.report.model import Report, assemble
from postcart.report.tables.pooled import ci_text
from postcart.web import review_cache
from postcart.web.evidence_search import (
    LIMIT,
    NO_THERAPY,
    Filters,
    parse_filters,
    safe_url,
    search,
)


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    """The curated evidence, loaded once for the module."""
    return load()


@pytest.fixture(scope="module")
def report(evidence: Evidence) -> Report:
    """The report, assembled once for the module (seconds; every app below reuses it)."""
    return assemble(evidence)


@pytest.fixture
def web(app: FastAPI, client: WebClient, evidence: Evidence, report: Report) -> WebClient:
    """An anonymous client on an app whose caches are warm with the module's evidence and report."""
    app.state.evidence = evidence
    app.state.report = report
    return client


def parse(html: str) -> HtmlElement:
    """The document (or fragment) as an HTML element tree."""
    return cast(HtmlElement, lxml.html.fromstring(html))


def page(client: WebClient, url: str, **kwargs: object) -> HtmlElement:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text[:500]
    return parse(response.text)


def text(element: HtmlElement) -> str:
    return str(element.text_content())


def local_links_resolve(doc: HtmlElement) -> int:
    """Every ``#anchor`` link names an element id on the page; returns how many were checked."""
    ids = set(doc.xpath("//@id"))
    hrefs = [str(h) for h in doc.xpath("//a/@href") if str(h).startswith("#")]
    missing = sorted({h for h in hrefs if h[1:] not in ids})
    assert not missing, missing[:10]
    return len(hrefs)


# ------------------------------------------------------------------ the living review


def test_review_is_public_and_shows_the_snapshot(web: WebClient, report: Report) -> None:
    response = web.get("/review", headers={"accept": "text/html"})
    assert response.status_code == 200  # no redirect to /login
    snapshot = text(parse(response.text).find_class("snapshot")[0])
    assert report.snapshot.label in snapshot
    assert report.snapshot.content_hash in snapshot
    assert f"{report.snapshot.outcomes} outcomes" in snapshot


def test_review_tables_match_the_report_cell_for_cell(web: WebClient, report: Report) -> None:
    doc = page(web, "/review")
    headings = [text(h) for h in doc.iter("h2")]
    for table in report.tables:
        assert table.title in headings, table.name
        if not table.rows:
            continue
        shown = doc.xpath(f"//table[@data-table='{table.name}']")
        assert len(shown) == 1, table.name
        head = [text(th) for th in shown[0].xpath("./thead/tr/th")]
        assert head == list(table.columns), table.name
        body = [[text(td) for td in tr.xpath("./td")] for tr in shown[0].xpath("./tbody/tr")]
        assert body == [[cell.text for cell in row] for row in table.rows], table.name


def test_review_numbers_link_to_their_provenance(web: WebClient, report: Report) -> None:
    doc = page(web, "/review")
    assert local_links_resolve(doc) > 100
    notes = doc.xpath("//section[@id='provenance']//li/@id")
    assert notes == [r.anchor for r in report.refs.ordered()]
    table = report.table("table3")
    row = next(r for r in table.rows if any(c.ref and c.text for c in r[7:]))
    cell = next(c for c in row[7:] if c.ref and c.text)
    links = doc.xpath(f"//table[@data-table='table3']//a[@href='#{cell.ref}']")
    assert [text(a) for a in links][:1] == [cell.text]


def test_pooled_titles_link_to_their_analysis_pages(web: WebClient, report: Report) -> None:
    doc = page(web, "/review")
    for name in ("pooled_cart", "pooled_salvage"):
        titles = doc.xpath(f"//table[@data-table='{name}']/tbody/tr/td[1]/a")
        assert titles, name
        for a in titles:
            analysis = next(p for p in report.analyses if p.title == text(a))
            assert a.get("href") == f"/review/analyses/{analysis.name}"


def test_analysis_page_shows_the_pooled_estimate_and_every_study(
    web: WebClient, report: Report
) -> None:
    rw_orr = next(a for a in report.analyses if a.name == "rw_orr")
    head = rw_orr.headline()
    assert head is not None
    doc = page(web, "/review/analyses/rw_orr")
    assert text(doc.find(".//h1")) == rw_orr.title
    assert text(doc.get_element_by_id("pooled-value")) == f"{fmt_fixed(head[0])}%"
    assert text(doc.get_element_by_id("pooled-ci")) == ci_text(head[1], head[2])
    assert text(doc.get_element_by_id("pooled-pi")) == ci_text(head[3], head[4])
    assert text(doc.get_element_by_id("analysis-k")) == str(rw_orr.k)
    used = [text(tr.xpath("./td")[0]) for tr in doc.xpath("//table[@data-table='used']/tbody/tr")]
    assert used == [r.label for r in rw_orr.rows]
    left = doc.xpath("//table[@data-table='left-out']/tbody/tr")
    assert [text(tr.xpath("./td")[0]) for tr in left] == [s.study.name for s in rw_orr.skipped]
    assert [text(tr.xpath("./td")[1]) for tr in left] == [s.reason for s in rw_orr.skipped]
    assert len(doc.xpath("//table[@data-table='loo']/tbody/tr")) == len(rw_orr.loo)
    figure = doc.xpath("//figure//img/@src")
    assert len(figure) == 1
    assert str(figure[0]).startswith("data:image/svg+xml;base64,")
    local_links_resolve(doc)


def test_every_analysis_has_a_page(web: WebClient, report: Report) -> None:
    for analysis in report.analyses:
        doc = page(web, f"/review/analyses/{analysis.name}")
        assert text(doc.find(".//h1")) == analysis.title
        if analysis.guard():
            assert analysis.guard() in text(doc)
        local_links_resolve(doc)


def test_an_unknown_analysis_is_not_found(web: WebClient) -> None:
    assert web.get("/review/analyses/no_such_analysis").status_code == 404


def test_the_report_is_built_once_for_concurrent_readers(
    web_url: str, report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postcart.web import create_app

    calls: list[int] = []

    def slow_assemble(evidence: Evidence) -> Report:
        calls.append(1)
        threading.Event().wait(0.2)  # long enough for every reader to arrive during the build
        return report

    monkeypatch.setattr(review_cache, "assemble", slow_assemble)
    app = create_app(web_url)
    try:
        app.state.evidence = Evidence()
        got: list[Report] = []
        threads = [
            threading.Thread(target=lambda: got.append(review_cache.report_of(app)))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert calls == [1]
        assert got == [report] * 8
        assert app.state.report is report
    finally:
        app.state.engine.dispose()


# ------------------------------------------------------------------ the evidence browser


def expect(evidence: Evidence, keep: Callable[[Outcome], bool]) -> list[str]:
    """Refs of the outcomes ``keep`` admits, in evidence order (computed from the records)."""
    return [o.ref for o in evidence.outcomes if keep(o)]


def role_of(evidence: Evidence, o: Outcome) -> CohortRole:
    return evidence.cohort(o.cohort_key).role


def searchable(evidence: Evidence, o: Outcome) -> str:
    cohort = evidence.cohort(o.cohort_key)
    study = evidence.study(cohort.study_key)
    fields = (study.name, cohort.label, evidence.source(study.source_key).citation, o.label,
              o.provenance.quote)  # fmt: skip
    return " ".join(f for f in fields if f).lower()


def every_ref(evidence: Evidence, filters: Filters) -> list[str]:
    return [r.ref for r in search(evidence, filters, limit=len(evidence.outcomes)).rows]


def test_search_filters_return_exactly_the_matching_records(evidence: Evidence) -> None:
    cases: list[tuple[Filters, Callable[[Outcome], bool]]] = [
        (Filters(measure=Measure.orr), lambda o: o.measure == Measure.orr),
        (Filters(provenance=ProvenanceKind.primary),
         lambda o: o.provenance.kind == ProvenanceKind.primary),
        (Filters(role=CohortRole.salvage_after_cart),
         lambda o: role_of(evidence, o) == CohortRole.salvage_after_cart),
        (Filters(therapy="polatuzumab"),
         lambda o: evidence.cohort(o.cohort_key).therapy == "polatuzumab"),
        (Filters(therapy=NO_THERAPY), lambda o: evidence.cohort(o.cohort_key).therapy is None),
        (Filters(product="tisa-cel"),
         lambda o: "tisa-cel" in evidence.cohort(o.cohort_key).products),
        (Filters(q="DESCAR-T"), lambda o: "descar-t" in searchable(evidence, o)),
        (Filters(q="descar-t  TISA-CEL", measure=Measure.cr),
         lambda o: o.measure == Measure.cr and "descar-t" in searchable(evidence, o)
         and "tisa-cel" in searchable(evidence, o)),
    ]  # fmt: skip
    for filters, keep in cases:
        expected = expect(evidence, keep)
        assert expected, filters  # each case must select something to mean anything
        assert every_ref(evidence, filters) == expected, filters
    assert every_ref(evidence, Filters()) == [o.ref for o in evidence.outcomes]


def test_search_counts_everything_but_shows_at_most_the_limit(evidence: Evidence) -> None:
    assert len(evidence.outcomes) > LIMIT
    found = search(evidence, Filters())
    assert len(found.rows) == LIMIT
    assert found.matched == len(evidence.outcomes)
    assert found.truncated


def test_unknown_filter_terms_are_refused(evidence: Evidence) -> None:
    for field in ("measure", "provenance", "role", "therapy", "product"):
        with pytest.raises(ValueError, match=field):
            parse_filters(evidence, **{field: "no-such-term"})
    assert parse_filters(evidence, therapy="none", measure=" orr ") == Filters(
        therapy=NO_THERAPY, measure=Measure.orr
    )


def shown_refs(doc: HtmlElement) -> list[str]:
    return [str(r) for r in doc.xpath("//tbody[@id='evidence-rows']/tr/@data-outcome")]


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("q=Blood", lambda ev, o: "blood" in searchable(ev, o)),
        ("measure=cr", lambda ev, o: o.measure == Measure.cr),
        ("provenance=review", lambda ev, o: o.provenance.kind == ProvenanceKind.review),
        ("role=comparator", lambda ev, o: role_of(ev, o) == CohortRole.comparator),
        ("q=axi&measure=orr&provenance=primary&role=cart_all_comers",
         lambda ev, o: "axi" in searchable(ev, o) and o.measure == Measure.orr
         and o.provenance.kind == ProvenanceKind.primary
         and role_of(ev, o) == CohortRole.cart_all_comers),
    ],
)  # fmt: skip
def test_the_browser_shows_only_matching_rows(
    web: WebClient,
    evidence: Evidence,
    query: str,
    keep: Callable[[Evidence, Outcome], bool],
) -> None:
    expected = expect(evidence, lambda o: keep(evidence, o))
    assert expected, query
    doc = page(web, f"/evidence?{query}")
    assert shown_refs(doc) == expected[:LIMIT]
    assert text(doc.get_element_by_id("evidence-count")).startswith(f"{len(expected)} outcome")


def test_the_browser_form_offers_the_vocabularies(web: WebClient, evidence: Evidence) -> None:
    doc = page(web, "/evidence?measure=orr")
    form = doc.xpath("//form[@action='/evidence']")[0]
    assert form.get("method") == "get"
    assert form.get("hx-get") == "/evidence"
    assert form.get("hx-target") == "#evidence-rows"

    def values(name: str) -> list[str]:
        return [str(v) for v in form.xpath(f".//select[@name='{name}']/option/@value")]

    assert values("measure") == ["", *(m.value for m in Measure)]
    assert values("provenance") == ["", *(k.value for k in ProvenanceKind)]
    assert values("role") == ["", *(r.value for r in CohortRole)]
    assert values("therapy") == ["", NO_THERAPY, *(t.key for t in evidence.therapies)]
    assert values("product") == ["", *(p.key for p in evidence.products)]
    assert form.xpath(".//select[@name='measure']/option[@selected]/@value") == ["orr"]


def test_the_htmx_request_gets_only_rows(web: WebClient, evidence: Evidence) -> None:
    response = web.get("/evidence?measure=orr", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<form" not in response.text
    assert response.text.lstrip().startswith("<tr")
    assert "HX-Request" in response.headers["vary"]
    trs = parse(f"<table>{response.text}</table>").xpath("//tr")
    count = [tr for tr in trs if tr.get("id") == "evidence-count"]
    assert len(count) == 1
    assert count[0].get("hx-swap-oob") == "true"
    refs = [str(tr.get("data-outcome")) for tr in trs if tr.get("data-outcome")]
    assert refs == expect(evidence, lambda o: o.measure == Measure.orr)
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in web.get("/evidence?measure=orr", headers=restore).text


def test_the_browser_without_filters_says_how_many_are_hidden(
    web: WebClient, evidence: Evidence
) -> None:
    doc = page(web, "/evidence")
    assert len(shown_refs(doc)) == LIMIT
    count = text(doc.get_element_by_id("evidence-count"))
    assert count.startswith(f"{len(evidence.outcomes)} outcomes matched")
    assert f"first {LIMIT}" in count


def test_a_search_for_markup_is_echoed_escaped_and_inert(web: WebClient) -> None:
    attack = "<script>alert(1)</script>"
    response = web.get("/evidence", params={"q": attack})
    assert response.status_code == 200
    assert attack not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    doc = parse(response.text)
    assert doc.xpath("//input[@name='q']/@value") == [attack]
    assert not [s for s in doc.iter("script") if "alert" in (s.text or "")]
    assert shown_refs(doc) == []
    partial = web.get("/evidence", params={"q": attack}, headers={"HX-Request": "true"})
    assert attack not in partial.text


def test_an_unknown_filter_is_a_bad_request(web: WebClient) -> None:
    assert web.get("/evidence?measure=bogus").status_code == 400
    assert web.get("/evidence?role=%3Cscript%3E").status_code == 400


def test_only_web_addresses_become_links() -> None:
    assert safe_url("https://doi.org/10.1/x") == "https://doi.org/10.1/x"
    assert safe_url("HTTP://example.org") == "HTTP://example.org"
    for bad in ("javascript:alert(1)", " javascript:alert(1)", "data:text/html,x", "", None):
        assert safe_url(bad) is None
