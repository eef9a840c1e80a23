"""Each reviewer's own screening keys: stored, shown on the screen, clashes refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from tests.web._team import ALICE, BOB, Team, make_team
from tests.web.conftest import WebClient, sign_in

from postcart.errors import InputError
from postcart.literature import screen_keys

#: Keys are application logic, not SQL: SQLite only, to keep the suite fast.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def team(web_url: str) -> Team:
    return make_team(web_url, n=2)


@pytest.fixture
def bob(app: FastAPI) -> Iterator[WebClient]:
    c = WebClient(app)
    yield c
    c.close()


def _keys(client: WebClient, token: str, yes: str, maybe: str, no: str) -> int:
    data = {"yes": yes, "maybe": maybe, "no": no, "csrf_token": token}
    return client.post("/settings/keys", data=data).status_code


@SQLITE_ONLY
def test_defaults_until_a_reviewer_saves_their_own(
    client: WebClient, bob: WebClient, team: Team
) -> None:
    token = sign_in(client, *ALICE)
    screen = client.get(f"/projects/{team.project_id}/screen").text
    for key in ("y", "m", "n"):
        assert f'data-key="{key}"' in screen
    assert _keys(client, token, "J", "k", "l") == 303  # upper case is stored as typed lower
    screen = client.get(f"/projects/{team.project_id}/screen").text
    for key in ("j", "k", "l"):
        assert f'data-key="{key}"' in screen
        assert f"<kbd>{key}</kbd>" in screen  # and shown to the reader
    assert 'data-key="y"' not in screen
    assert 'value="j"' in client.get("/settings/keys").text
    # Keys are per person: bob still has the defaults.
    sign_in(bob, *BOB)
    assert 'data-key="y"' in bob.get(f"/projects/{team.project_id}/screen").text


@SQLITE_ONLY
def test_clashing_or_unusable_keys_are_refused(client: WebClient, team: Team) -> None:
    token = sign_in(client, *ALICE)
    for keys, message in ((("a", "b", "a"), "already the key for"), (("1", "b", "c"), "reserved")):
        response = client.post(
            "/settings/keys",
            data={"yes": keys[0], "maybe": keys[1], "no": keys[2], "csrf_token": token},
        )
        assert response.status_code == 400
        assert message in response.text
    # Nothing was stored: the screen keeps the defaults.
    assert 'data-key="y"' in client.get(f"/projects/{team.project_id}/screen").text


@SQLITE_ONLY
def test_a_key_that_is_markup_is_shown_as_text(client: WebClient, team: Team) -> None:
    token = sign_in(client, *ALICE)
    assert _keys(client, token, "<", ">", "&") == 303
    screen = client.get(f"/projects/{team.project_id}/screen").text
    assert 'data-key="&lt;"' in screen
    assert "<kbd><</kbd>" not in screen


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (("a", "b", "a"), "'no': 'a' is already the key for 'yes'"),
        (("a", "A", "c"), "'maybe': 'a' is already the key for 'yes'"),
        (("1", "b", "c"), "reserved"),
        (("a", "b", "0"), "reserved"),
        (("ab", "b", "c"), "one printable character"),
        ((" ", "b", "c"), "one printable character"),
        (("", "b", "c"), "one printable character"),
        (("\x1b", "b", "c"), "one printable character"),
    ],
)
def test_the_core_refuses_clashing_or_unusable_keys(
    keys: tuple[str, str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        screen_keys.check(dict(zip(("yes", "maybe", "no"), keys, strict=True)))


def test_the_core_stores_keys_lower_case() -> None:
    assert screen_keys.check({"yes": "Q", "maybe": "w", "no": "e"}) == {
        "yes": "q", "maybe": "w", "no": "e"}  # fmt: skip
