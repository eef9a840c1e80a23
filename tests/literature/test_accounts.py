"""Who a command-line user is: no password prompt on a local file, passwords on a server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from postcart.cli.literature import app
from postcart.db import make_engine, migrate
from postcart.errors import InputError
from postcart.literature import accounts

runner = CliRunner()


def _session(tmp_path: Path) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path / 'lit.db'}")
    migrate(engine)
    return Session(engine)


def test_a_local_file_with_one_account_needs_no_password(tmp_path: Path) -> None:
    with _session(tmp_path) as session:
        first = accounts.local_reviewer(session, "ann", "", local=True)
        assert accounts.local_reviewer(session, "anyone", "", local=True).id == first.id


def test_several_accounts_or_a_server_need_the_password(tmp_path: Path) -> None:
    with _session(tmp_path) as session:
        accounts.add_user(session, "ann", "pw-ann")
        accounts.add_user(session, "ben", "pw-ben")
        with pytest.raises(InputError, match="several accounts"):
            accounts.local_reviewer(session, "ann", "", local=True)
        assert accounts.local_reviewer(session, "ben", "pw-ben", local=True).name == "ben"
        with pytest.raises(InputError, match="wrong password"):
            accounts.local_reviewer(session, "ann", "pw-ben", local=True)
        with pytest.raises(InputError, match="needs the account's password"):
            accounts.local_reviewer(session, "ann", "", local=False)


def test_the_cli_never_prompts_on_a_local_file(tmp_path: Path, shared_dir: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lit.db'}"
    ris = next((shared_dir / "data" / "literature").rglob("*.ris"))
    result = runner.invoke(app, ["import", str(ris), "--db", db], input="", env={})
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    out = tmp_path / "prisma"
    done = runner.invoke(app, ["prisma", "--db", db, "-o", str(out)], input="", env={})
    assert done.exit_code == 0, done.output
