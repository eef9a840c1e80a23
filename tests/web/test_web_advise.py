"""The decision aid page: every profile field on the form, the core's ranking, errors, htmx."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import annotated_types
import pytest
import yaml
from lxml import html as lxml_html
from tests.web.conftest import WebClient

from postcart.decision import DISCLAIMER, TIERS, Advice, PatientProfile, default_rulebook
from postcart.evidence import load
from postcart.report.advice import advise_with_review, pooled_efficacy
from postcart.web.app import HTMX, HTMX_SSE
from postcart.web.routes.advise import (
    FIELD_TEXT,
    GROUPS,
    KINDS,
    control_of,
    form_groups,
    profile_data,
    raw_values,
    tri_state,
)

_EVIDENCE = load()
_EFFICACY = pooled_efficacy(_EVIDENCE)


def _cli_advice(profile: dict[str, Any]) -> Advice:
    """What ``postcart advise`` answers: the same core call, with the review's pooled rates."""
    return advise_with_review(profile, _EVIDENCE, _EFFICACY)


@pytest.fixture(autouse=True)
def _warm(request: pytest.FixtureRequest) -> None:
    """Warm each app's caches with what it would compute (a second per app otherwise);
    ``test_a_cold_app_orders_like_the_terminal`` keeps the cold path."""
    if "cold" in request.node.name or "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    app.state.evidence = _EVIDENCE
    app.state.efficacy = dict(_EFFICACY)


def test_a_cold_app_orders_like_the_terminal(client: WebClient) -> None:
    profile = {"histology": "DLBCL", "days_to_progression": 200, "cd19_status": "positive"}
    tree = _tree(client.get("/advise?" + urlencode(_query(profile))).text)
    assert _ranking(tree) == [(o.tier, o.name) for o in _cli_advice(profile).options]


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "docs" / "examples").glob("*.yaml"))
HX = {"HX-Request": "true"}


def _tree(text: str) -> Any:
    return lxml_html.fromstring(text)


def _query(profile: dict[str, Any]) -> list[tuple[str, str]]:
    """A YAML profile as the form would send it: yes/no for booleans, lists repeated."""
    pairs: list[tuple[str, str]] = []
    for name, value in profile.items():
        if isinstance(value, bool):
            pairs.append((name, "yes" if value else "no"))
        elif isinstance(value, list):
            pairs.extend((name, str(item)) for item in value)
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


def _ranking(tree: Any) -> list[tuple[str, str]]:
    """(tier, option name) in page order."""
    return [
        (item.xpath("ancestor::section[@data-tier][1]/@data-tier")[0], name.text_content())
        for item in tree.xpath("//li[@data-option]")
        for name in item.xpath(".//*[@class='option-name']")
    ]


def _advice_options(tree: Any) -> list[Any]:
    found: list[Any] = tree.xpath("//*[@id='advice']//li[@data-option]")
    return found


def _fragments(text: str) -> list[Any]:
    """The top-level elements of an htmx answer (a fragment, not a document)."""
    found: list[Any] = list(lxml_html.fragments_fromstring(text))
    return found


# --- the query-string helpers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("no", False), ("", None), ("unknown", None), (" YES ", True),
     ("true", True), ("false", False), ("maybe", "maybe")],
)  # fmt: skip
def test_tri_state_reads_yes_no_unknown_and_leaves_the_rest_to_the_model(
    raw: str, expected: bool | str | None
) -> None:
    assert tri_state(raw) == expected


def test_profile_data_drops_unknowns_and_keeps_what_the_model_must_judge() -> None:
    pairs = [
        ("histology", "DLBCL"),
        ("cart_product", " axi-cel "),
        ("cd19_status", "unknown"),
        ("age", ""),
        ("rebiopsied", "yes"),
        ("marrow_involved", ""),
        ("prior_therapies", "polatuzumab"),
        ("prior_therapies", "radiotherapy"),
        ("ecog", "1"),
        ("ecog", "2"),
        ("nonsense", ""),
    ]
    assert profile_data(pairs) == {
        "histology": "DLBCL",
        "cart_product": "axi-cel",
        "rebiopsied": True,
        "prior_therapies": ["polatuzumab", "radiotherapy"],
        "ecog": ["1", "2"],  # ambiguous: refused by the model, not silently one of them
        "nonsense": "",  # unknown parameter: refused by the model (extra="forbid")
    }


def test_raw_values_show_selects_unknown_as_empty_and_booleans_as_yes_no() -> None:
    values = raw_values([("cd19_status", "unknown"), ("rebiopsied", "true"), ("age", "abc")])
    assert values == {"cd19_status": "", "rebiopsied": "yes", "age": "abc"}


def test_every_field_has_a_control_label_help_and_exactly_one_group() -> None:
    fields = set(PatientProfile.model_fields)
    assert set(FIELD_TEXT) == fields
    assert all(label and help_text for label, help_text in FIELD_TEXT.values())
    grouped = [name for _, names in GROUPS for name in names]
    assert sorted(grouped) == sorted(fields)
    assert [title for title, _ in form_groups()] == [title for title, _ in GROUPS]
    assert set(KINDS) == fields


def test_a_field_type_without_a_control_fails_loudly() -> None:
    with pytest.raises(TypeError, match="no form control"):
        control_of(dict[str, int])


# --- the form ------------------------------------------------------------------------------


def test_the_form_has_one_named_control_per_profile_field(client: WebClient) -> None:
    page = client.get("/advise")
    assert page.status_code == 200
    tree = _tree(page.text)
    form = tree.get_element_by_id("profile-form")
    names = {control.get("name") for control in form.xpath(".//input | .//select")}
    assert names == set(PatientProfile.model_fields)
    assert form.get("method") == "get"
    assert form.get("action") == "/advise"
    assert form.get("hx-get") == "/advise"
    assert form.get("hx-target") == "#advice"
    assert form.get("hx-push-url") == "true"
    assert not form.xpath(".//input[@name='csrf_token']")  # GET changes nothing
    # The page's context must not shadow the template globals naming the vendored scripts.
    assert tree.xpath("//head/script/@src") == [f"/static/{HTMX}", f"/static/{HTMX_SSE}"]
    assert not _advice_options(tree)


def test_every_control_is_labelled_and_described(client: WebClient) -> None:
    tree = _tree(client.get("/advise").text)
    for control in tree.xpath("//form[@id='profile-form']//*[self::select or self::input]"):
        if control.get("type") == "checkbox":
            assert control.xpath("ancestor::label"), control.get("value")
            continue
        assert tree.xpath(f"//label[@for='{control.get('id')}']"), control.get("name")
        for described in control.get("aria-describedby").split():
            assert tree.xpath(f"//*[@id='{described}']"), described


def test_selects_offer_unknown_and_every_literal_value(client: WebClient) -> None:
    tree = _tree(client.get("/advise").text)
    for name, kind in KINDS.items():
        if kind not in ("choice", "tristate"):
            continue
        values = tree.xpath(f"//select[@name='{name}']/option/@value")
        assert values[0] == ""  # "unknown" first, and selected on an empty form
        assert tree.xpath(f"//select[@name='{name}']/option[@selected]/@value") == [""]
        if kind == "tristate":
            assert values == ["", "yes", "no"]
        else:
            _, literal = control_of(PatientProfile.model_fields[name].annotation)
            assert set(values[1:]) == set(literal) - {"unknown"}


def test_number_inputs_carry_the_models_bounds(client: WebClient) -> None:
    tree = _tree(client.get("/advise").text)
    for name, info in PatientProfile.model_fields.items():
        if KINDS[name] not in ("int", "float"):
            continue
        (control,) = tree.xpath(f"//input[@name='{name}']")
        assert control.get("type") == "number"
        assert control.get("step") == ("1" if KINDS[name] == "int" else "any")
        bounds = {type(b): b for b in info.metadata}
        ge, le = bounds.get(annotated_types.Ge), bounds.get(annotated_types.Le)
        assert control.get("min") == (None if ge is None else f"{float(ge.ge):g}")
        assert control.get("max") == (None if le is None else f"{float(le.le):g}")
    help_text = tree.get_element_by_id("help-ldh_ratio_uln").text_content()
    assert "above 0" in help_text  # an exclusive bound has no HTML attribute: said in words


def test_prior_therapies_offers_every_option_of_the_rulebook(client: WebClient) -> None:
    tree = _tree(client.get("/advise").text)
    offered = tree.xpath("//input[@name='prior_therapies'][@type='checkbox']/@value")
    assert offered == [option.id for option in default_rulebook().options]


def test_the_aid_disclaimer_is_on_the_page(client: WebClient) -> None:
    assert DISCLAIMER in _tree(client.get("/advise").text).text_content()


# --- advice --------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_profile_gets_the_cores_ranking(client: WebClient, example: Path) -> None:
    profile = yaml.safe_load(example.read_text(encoding="utf-8"))
    expected = _cli_advice(profile)
    page = client.get("/advise?" + urlencode(_query(profile)))
    assert page.status_code == 200, page.text
    tree = _tree(page.text)
    assert _ranking(tree) == [(o.tier, o.name) for o in expected.options]
    assert [section.get("data-tier") for section in tree.xpath("//section[@data-tier]")] == list(
        TIERS
    )
    assert tree.xpath("//ul[@class='rules-fired']/li/code/text()") == list(expected.fired)
    assert tree.xpath("//tr[@data-missing]/@data-missing") == sorted(expected.missing)
    for name, rules in expected.missing.items():
        (row,) = tree.xpath(f"//tr[@data-missing='{name}']")
        assert row.xpath("td[2]/code/text()") == list(rules)
    assert tree.xpath("//li[@data-rule]/@data-rule") == [flag.rule for flag in expected.flags]
    for option in expected.options:
        (item,) = tree.xpath(f"//li[@data-option='{option.option}']")
        shown = [reason.text_content() for reason in item.xpath("ul[@class='reasons']/li")]
        assert shown == list(option.reasons)
        assert item.xpath(".//tr[@class='card']/@data-cohort") == [
            card.cohort_key for card in option.cards
        ]
        assert item.xpath("p[@class='rules']/code/text()") == list(option.rules)
    assert tree.text_content().count(expected.disclaimer) == 2  # page top and the advice


def test_an_evidence_card_shows_study_n_value_and_where_read(client: WebClient) -> None:
    profile = yaml.safe_load(EXAMPLES[0].read_text(encoding="utf-8"))
    expected = _cli_advice(profile)
    # A card with a reported n (the trial option, now raised for early failure, has none).
    option = next(
        o for o in expected.options if o.cards and o.cards[0].outcomes and o.cards[0].n is not None
    )
    card = option.cards[0]
    tree = _tree(client.get("/advise?" + urlencode(_query(profile))).text)
    (row,) = tree.xpath(
        f"//li[@data-option='{option.option}']//tr[@data-cohort='{card.cohort_key}']"
    )
    text = row.text_content()
    assert card.study_name in text
    assert str(card.n) in text
    assert card.source_key in text
    first = card.outcomes[0]
    assert f"{first.value:g}" in text
    assert f"read from the {first.provenance} source" in text
    assert first.ref in text


def test_the_form_shows_the_profile_the_aid_read(client: WebClient) -> None:
    query = "histology=PMBCL&age=34&rebiopsied=true&prior_therapies=radiotherapy&cd19_status="
    tree = _tree(client.get(f"/advise?{query}").text)
    assert tree.xpath("//select[@name='histology']/option[@selected]/@value") == ["PMBCL"]
    assert tree.xpath("//input[@name='age']/@value") == ["34"]
    assert tree.xpath("//select[@name='rebiopsied']/option[@selected]/@value") == ["yes"]
    assert tree.xpath("//input[@name='prior_therapies'][@checked]/@value") == ["radiotherapy"]


def test_an_all_unknown_profile_lists_what_is_missing(client: WebClient) -> None:
    page = client.get("/advise?histology=&age=&rebiopsied=")
    assert page.status_code == 200
    tree = _tree(page.text)
    assert _ranking(tree) == [(o.tier, o.name) for o in _cli_advice({}).options]
    assert set(tree.xpath("//tr[@data-missing]/@data-missing")) == set(_cli_advice({}).missing)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("days_to_progression=-5", "days_to_progression", "cannot come before"),
        ("histology=Hodgkin", "histology", "'Hodgkin'"),
        ("ecog=7", "ecog", "less than or equal to 4"),
        ("age=old", "age", "valid integer"),
        ("rebiopsied=maybe", "rebiopsied", "valid boolean"),
        ("ldh_ratio_uln=0.8&ldh_elevated=yes", "ldh_elevated", "ldh_ratio_uln is 0.8"),
        ("cart_product=zz-cel", "cart_product", "unknown product"),
        ("prior_therapies=aspirin", "prior_therapies", "unknown option id"),
        ("ecog=1&ecog=2", "ecog", "valid integer"),
    ],
)
def test_an_invalid_value_gets_422_with_the_message_at_its_field(
    client: WebClient, query: str, field: str, words: str
) -> None:
    page = client.get(f"/advise?{query}")
    assert page.status_code == 422
    tree = _tree(page.text)
    message = tree.get_element_by_id(f"error-{field}").text_content()
    assert words in message
    control = tree.xpath(f"//*[@id='field-{field}']")[0]
    assert f"error-{field}" in control.get("aria-describedby").split()
    if control.tag != "fieldset":
        assert control.get("aria-invalid") == "true"
    (summary,) = tree.xpath("//*[@role='alert']")
    assert summary.xpath(f".//a[@href='#field-{field}']")
    assert not _advice_options(tree)


def test_every_error_is_reported_at_once(client: WebClient) -> None:
    tree = _tree(client.get("/advise?ecog=9&age=-1&histology=X").text)
    for field in ("ecog", "age", "histology"):
        assert tree.xpath(f"//*[@id='error-{field}']")


def test_an_unknown_parameter_is_refused_not_ignored(client: WebClient) -> None:
    page = client.get("/advise?histology=DLBCL&cd19=negative")
    assert page.status_code == 422
    summary = _tree(page.text).xpath("//*[@role='alert']")[0].text_content()
    assert "cd19" in summary
    assert "not a field" in summary


@pytest.mark.parametrize(
    "query",
    [
        {"cart_product": "<script>alert(1)</script>"},  # free text, refused by the engine
        {"histology": "<script>alert(1)</script>"},  # not one of the select's values
        {"age": '"><script>alert(1)</script>'},  # echoed into a value attribute
        {"<script>alert(1)</script>": "1"},  # an unknown parameter's name
    ],
)
def test_submitted_markup_is_escaped(client: WebClient, query: dict[str, str]) -> None:
    page = client.get("/advise?" + urlencode(query))
    assert page.status_code == 422
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert not _tree(page.text).xpath("//main//script")


# --- htmx ----------------------------------------------------------------------------------


def test_htmx_gets_only_the_advice_and_the_form_out_of_band(client: WebClient) -> None:
    page = client.get("/advise?histology=DLBCL&days_to_progression=45", headers=HX)
    assert page.status_code == 200
    assert "<html" not in page.text
    assert "HX-Request" in page.headers["vary"]
    fragments = _fragments(page.text)
    assert not any(f.tag == "html" for f in fragments)
    assert [f.get("class") for f in fragments if f.tag == "section"] == ["advice"]
    (form,) = [f for f in fragments if f.tag == "form"]
    assert form.get("hx-swap-oob") == "true"  # clears error messages of an earlier submit
    assert not form.xpath(".//*[@role='alert']")
    expected = _cli_advice({"histology": "DLBCL", "days_to_progression": 45})
    names = [n.text_content() for f in fragments for n in f.xpath(".//*[@class='option-name']")]
    assert names == [o.name for o in expected.options]


def test_htmx_errors_replace_the_form_and_clear_the_advice(client: WebClient) -> None:
    page = client.get("/advise?days_to_progression=-5", headers=HX)
    assert page.status_code == 422
    assert "<html" not in page.text
    assert page.headers["HX-Retarget"] == "#profile-form"
    assert page.headers["HX-Reswap"] == "outerHTML"
    fragments = _fragments(page.text)
    (form,) = [f for f in fragments if f.tag == "form"]
    assert form.get("hx-swap-oob") is None
    assert "cannot come before" in form.get_element_by_id("error-days_to_progression").text
    (cleared,) = [f for f in fragments if f.get("id") == "advice"]
    assert cleared.get("hx-swap-oob") == "innerHTML"
    assert not cleared.text_content().strip()


def test_a_422_is_swapped_by_htmx_on_this_page(client: WebClient) -> None:
    (meta,) = _tree(client.get("/advise").text).xpath("//meta[@name='htmx-config']")
    assert '"code":"422","swap":true' in meta.get("content")


def test_a_history_restore_gets_the_whole_page(client: WebClient) -> None:
    headers = {**HX, "HX-History-Restore-Request": "true"}
    page = client.get("/advise?histology=DLBCL", headers=headers)
    assert page.status_code == 200
    tree = _tree(page.text)
    assert tree.tag == "html"
    assert _advice_options(tree)


def test_cold_rates_read_from_a_built_report_equal_a_fresh_fit(app: Any) -> None:
    """``efficacy_of`` takes the report's analyses and certainty when the report is built
    (``cold`` in the name: no warmed cache)."""
    from postcart.report.model import assemble
    from postcart.web.review_cache import efficacy_of

    app.state.evidence = _EVIDENCE
    app.state.report = assemble(_EVIDENCE)
    assert efficacy_of(app) == dict(_EFFICACY)
