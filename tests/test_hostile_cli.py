"""One error path: every command, fed hostile input, answers with a message and a non-zero exit.

Each case runs the real entry point (``postcart.cli.main``) in this process, so what is checked
is exactly what a person at the terminal sees. A traceback, or any Python exception's name in
the output, fails the case: it means a failure escaped as a defect instead of a message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from postcart.cli import main

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
GOOD_EVIDENCE = Path(__file__).resolve().parent / "data" / "evidence" / "good"

#: A traceback, or an exception class name such as ``KeyError`` or ``UnicodeDecodeError``.
LEAK = re.compile(r"Traceback|\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b|File \"/")


#: Inputs that look hostile but are valid and must be read, not refused.
READ_FINE = {
    "lit import latin1_records.csv",  # Windows-1252/Latin-1 export, decoded as such
    "lit import huge_ids.ris",  # the impossible year and id are left out, the record kept
    "lit import bad_date.ris",
}


#: (command before the file, files it is fed, options after the file)
FED: list[tuple[list[str], tuple[str, ...], list[str]]] = [
    (["evidence", "validate"], ("latin1_evidence.yaml", "alias_bomb.yaml", "binary.bin",
                                "empty.csv", "not_json.json"), []),
    (["evidence", "summary"], ("latin1_evidence.yaml", "alias_bomb.yaml", "binary.bin",
                               "empty.csv", "not_json.json"), []),
    (["lit", "import"], ("latin1_records.csv", "binary.bin", "empty.csv",
                         "header_only_records.csv", "giant_cell_records.csv", "huge_ids.ris",
                         "bad_date.ris", "not_json.json"), ["--db", "{db}"]),
    (["meta"], ("latin1_meta.csv", "ragged_meta.csv", "nonnumeric_meta.csv", "empty.csv",
                "binary.bin", "huge_numbers_meta.csv", "header_only_records.csv"),
     ["--measure", "GEN"]),
    (["advise"], ("latin1_profile.json", "profile_bool_age.json", "profile_duplicate_keys.json",
                  "profile_absurd_days.json", "not_json.json", "json_list.json", "binary.bin",
                  "alias_bomb.yaml", "empty.csv"), []),
    (["report", "--quiet", "--out", "{tmp}/r", "--compare"],
     ("not_json.json", "json_list.json", "json_wrong_shape.json", "binary.bin",
      "latin1_profile.json"), []),
    (["km", "reconstruct"], ("curve_not_monotone.csv", "curve_text.csv", "binary.bin",
                             "empty.csv", "latin1_meta.csv"), ["--n0", "50"]),
    (["km", "pool"], ("empty.csv", "binary.bin", "curve_text.csv"), []),
    (["lit", "simulate"], ("labelled_no_label.csv", "binary.bin", "empty.csv",
                           "latin1_records.csv"), []),
]  # fmt: skip

GOOD = str(GOOD_EVIDENCE)
UNWRITABLE = "/proc/postcart/x.csv"
RIS = str(HOSTILE / "huge_ids.ris")

#: Hostile settings rather than hostile files.
SETTINGS: list[tuple[str, list[str]]] = [
    ("km reconstruct with a bad risk table", ["km", "reconstruct",
     str(HOSTILE / "curve_not_monotone.csv"), "--at-risk", str(HOSTILE / "risk_text.csv")]),
    ("evidence build from an empty folder", ["evidence", "build", "--db", "{db}",
                                             "--data", "{tmp}"]),
    ("evidence build with a bad URL", ["evidence", "build", "--db", "nonsense://x",
                                       "--data", GOOD]),
    ("evidence build on an unreachable server", ["evidence", "build", "--db",
     "postgresql://nobody@127.0.0.1:1/x", "--data", GOOD]),
    ("evidence export to an unwritable file", ["evidence", "export", "-f", "csv", "-o",
     UNWRITABLE, "--db", "{db}", "--data", GOOD]),
    ("lit export to an unwritable file", ["lit", "export", "-o", UNWRITABLE, "--db", "{db}"]),
    ("lit export in an unknown format", ["lit", "export", "--format", "docx", "--db", "{db}"]),
    ("lit import with --reviewers 0", ["lit", "import", RIS, "--reviewers", "0", "--db", "{db}"]),
    ("lit import with --reviewers 3", ["lit", "import", RIS, "--reviewers", "3", "--db", "{db}"]),
    ("lit screen with a bad URL", ["lit", "screen", "--db", "sqlite:////proc/none/x.db"]),
    ("user add with a bad URL", ["user", "add", "ann", "--db", "nonsense://"]),
    ("report into an unwritable folder", ["report", "--quiet", "--out", "/proc/postcart/r"]),
    ("meta of a missing file", ["meta", "{tmp}/missing.csv"]),
]  # fmt: skip


def _cases() -> list[tuple[str, list[str]]]:
    cases = [
        (f"{' '.join(c for c in command if not c.startswith(('-', '{')))} {name}",
         [*command, str(HOSTILE / name), *after])
        for command, names, after in FED
        for name in names
    ]  # fmt: skip
    return cases + SETTINGS


CASES = _cases()


@pytest.mark.parametrize(("label", "argv"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_gets_a_message_not_a_traceback(
    label: str, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("POSTCART_PASSWORD", "secret-pw")
    monkeypatch.delenv("POSTCART_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'hostile.db'}"
    args = [a.replace("{db}", db).replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as exited:
        main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert LEAK.search(text) is None, f"{label}: leaked\n{text[-2000:]}"
    if label in READ_FINE:
        assert exited.value.code in (0, None), f"{label}: refused\n{text[-2000:]}"
        return
    assert exited.value.code not in (0, None), f"{label}: accepted\n{text[-2000:]}"
    assert exited.value.code != 70, f"{label}: internal error\n{text[-2000:]}"
    assert text.strip(), f"{label}: exit {exited.value.code} without a word"
