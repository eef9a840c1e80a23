"""``postcart user add`` creates a hashed account without a prompt when POSTCART_PASSWORD is set."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from postcart.cli import app
from postcart.db import make_engine
from postcart.literature import store

runner = CliRunner()


def test_user_add_owner_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    env = {"POSTCART_PASSWORD": "s3cret-pass", "DATABASE_URL": url}
    result = runner.invoke(app, ["user", "add", "carol", "--role", "owner"], env=env)
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            carol = store.authenticate(session, "carol", "s3cret-pass")
            assert carol.site_role == "owner"
    finally:
        engine.dispose()


def test_user_add_refuses_a_taken_name_and_an_unknown_role(tmp_path: Path) -> None:
    env = {"POSTCART_PASSWORD": "pw", "DATABASE_URL": f"sqlite:///{tmp_path / 'team.db'}"}
    assert runner.invoke(app, ["user", "add", "dan"], env=env).exit_code == 0
    again = runner.invoke(app, ["user", "add", "dan"], env=env)
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert "Traceback" not in again.output
    odd = runner.invoke(app, ["user", "add", "erin", "--role", "king"], env=env)
    assert odd.exit_code == 1
    assert "site role 'king'" in odd.output
