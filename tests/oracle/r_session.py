"""A single long-lived R process that answers metafor questions for the whole test session.

Starting R and loading metafor costs about a second; doing it once per pytest session (and
sending many datasets per request) keeps the oracle suite fast.
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from pathlib import Path
from typing import Any

#: The R side of the protocol: reads one JSON request per line, writes one JSON reply per line.
SERVER_SCRIPT = Path(__file__).resolve().parent / "r" / "server.R"


class RError(RuntimeError):
    """R evaluated the request and signalled an error (its message is kept verbatim)."""


#: How the server spells non-finite doubles (jsonlite ``na = "string"``).
_NON_FINITE: dict[str, float | None] = {
    "NA": None,
    "NaN": math.nan,
    "Inf": math.inf,
    "-Inf": -math.inf,
}


def decode_non_finite(value: Any) -> Any:
    """Turn jsonlite's "NA"/"NaN"/"Inf"/"-Inf" strings back into None/floats, recursively."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, list):
        return [decode_non_finite(v) for v in value]
    if isinstance(value, dict):
        return {key: decode_non_finite(v) for key, v in value.items()}
    return value


class RSession:
    """Send R expressions to one ``Rscript server.R`` process and read JSON answers back.

    Each request is ``{"code": ..., "data": ...}``; inside R, ``data`` is bound to ``d``.
    Doubles come back with 15 significant digits (jsonlite's maximum). R's ``NA`` comes
    back as ``None``, ``NaN`` as ``nan`` and ``Inf``/``-Inf`` as ``±inf``.
    """

    def __init__(self, rscript: str = "Rscript") -> None:
        # Kept open for the life of the process (closed in close()), so no context manager.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self._process = subprocess.Popen(
            [rscript, "--vanilla", str(SERVER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )

    def call(self, code: str, data: dict[str, Any] | None = None) -> Any:
        """Evaluate ``code`` in R with ``d`` bound to ``data``; return the decoded result.

        Raises
        ------
        RError
            If R signalled an error, or the R process died (stderr tail included).
        """
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        request = json.dumps({"code": code, "data": data or {}}, allow_nan=False)
        try:
            stdin.write(request + "\n")
            stdin.flush()
            line = stdout.readline()
        except (BrokenPipeError, OSError) as exc:
            raise RError(f"R process is gone: {self._stderr_tail()}") from exc
        if not line:
            raise RError(f"R process ended without answering: {self._stderr_tail()}")
        reply = json.loads(line)
        if "error" in reply:
            raise RError(f"R error: {reply['error']}\n--- code ---\n{code}")
        return decode_non_finite(reply["result"])

    def close(self) -> None:
        """Close R's stdin so the server loop ends, then wait for the process."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> RSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _stderr_tail(self, chars: int = 2000) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-chars:]
