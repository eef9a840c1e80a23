"""/review/versions: the living versions built into the report folder, each readable as built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from tests.web.conftest import WebClient


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A report folder holding two versions, written in the format ``report.versions`` keeps."""
    monkeypatch.setenv("POSTCART_OUT", str(tmp_path))
    folder = tmp_path / "report" / "versions"
    history = [
        {"number": 1, "identity": "a" * 64, "files": {"evidence/x.yaml": "1"},
         "trigger": ["first version in this folder"], "previous": None},
        {"number": 2, "identity": "b" * 64, "files": {"evidence/x.yaml": "2"},
         "trigger": ["files changed: evidence/x.yaml", "<script>alert(1)</script>"],
         "previous": 1},
    ]  # fmt: skip
    for entry in history:
        kept = folder / f"v{entry['number']}"
        kept.mkdir(parents=True)
        (kept / "index.html").write_text(f"<h1>Version {entry['number']} page</h1>", "utf-8")
    (folder / "index.json").write_text(json.dumps({"versions": history}), encoding="utf-8")
    return tmp_path


def test_versions_are_listed_newest_first_and_readable(client: WebClient, out: Path) -> None:
    page = client.get("/review/versions")
    assert page.status_code == 200
    tree: Any = lxml.html.fromstring(page.text)
    rows = tree.xpath("//table[@data-table='versions']/tbody/tr")
    assert [str(r.xpath("string(td[1])")).strip() for r in rows] == ["Version 2", "Version 1"]
    assert "files changed: evidence/x.yaml" in rows[0].text_content()
    assert "<script>alert(1)</script>" not in page.text  # a trigger note is text, never markup
    assert client.get("/review/versions/1").text == "<h1>Version 1 page</h1>"
    for missing in ("3", "0", "-1", "..%2F..%2Fetc"):
        assert client.get(f"/review/versions/{missing}").status_code in (404, 422)


def test_no_versions_yet_says_how_to_build_one(
    client: WebClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTCART_OUT", str(tmp_path))
    assert "No version has been built" in client.get("/review/versions").text
