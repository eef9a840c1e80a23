"""The evidence base and the living review, built once per app on first use and then shared.

Assembling the report refits every pooled model (seconds), and loading the evidence validates
every curated file (about a second); neither changes while the app runs, so one build serves
every reader until the app restarts. Routes are plain ``def`` functions, so a build runs in the
thread pool: the lock makes the first concurrent readers wait for one build instead of starting
several, and never blocks the event loop.
"""

from __future__ import annotations

import threading

from starlette.applications import Starlette

from postcart.evidence import Evidence, load
from postcart.report.model import Report, assemble

#: One lock per artefact: the report's build reads the evidence (through its own lock) and must
#: not wait on itself.
_EVIDENCE_LOCK = threading.Lock()
_REPORT_LOCK = threading.Lock()


def evidence_of(app: Starlette) -> Evidence:
    """The app's evidence (``app.state.evidence``), loaded from the curated files on first use."""
    cached = getattr(app.state, "evidence", None)
    if isinstance(cached, Evidence):
        return cached
    with _EVIDENCE_LOCK:
        cached = getattr(app.state, "evidence", None)
        if not isinstance(cached, Evidence):
            cached = load()
            app.state.evidence = cached
    return cached


def report_of(app: Starlette) -> Report:
    """The app's report (``app.state.report``), assembled from :func:`evidence_of` on first use.

    Tests (and a server that wants to be warm before its first reader) may set
    ``app.state.report`` beforehand; that report is then used as is.
    """
    cached = getattr(app.state, "report", None)
    if isinstance(cached, Report):
        return cached
    with _REPORT_LOCK:
        cached = getattr(app.state, "report", None)
        if not isinstance(cached, Report):
            cached = assemble(evidence_of(app))
            app.state.report = cached
    return cached


__all__ = ["evidence_of", "report_of"]
