"""The evidence base and the living review, built once per app on first use and then shared.

Assembling the report refits every pooled model (seconds), and loading the evidence validates
every curated file (about a second); neither changes while the app runs, so one build serves
every reader until the app restarts, or until a study is accepted into the evidence base from
the browser (:func:`invalidate`). Routes are plain ``def`` functions, so a build runs in the
thread pool: the lock makes the first concurrent readers wait for one build instead of starting
several, and never blocks the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from starlette.applications import Starlette

from postcart.decision import PooledEfficacy
from postcart.evidence import Evidence, load
from postcart.literature.extraction import base_paths, extracted_dir
from postcart.report.advice import pooled_efficacy
from postcart.report.compare import compare
from postcart.report.model import Report, assemble

_T = TypeVar("_T")

#: One lock per artefact: the report's build reads the evidence (through its own lock) and must
#: not wait on itself.
_EVIDENCE_LOCK = threading.Lock()
_REPORT_LOCK = threading.Lock()


def evidence_paths(app: Starlette) -> list[Path]:
    """What the app's evidence is loaded from: the curated files, plus the directory of studies
    accepted in the browser when it exists (``POSTCART_EXTRACTED_DIR`` or beside the SQLite
    file), so the review pools every accepted study with the curated ones."""
    engine: Engine = app.state.engine
    return base_paths(extracted_dir(engine.url))


def _cached(app: Starlette, name: str, kind: type[_T], lock: threading.Lock,
            build: Callable[[], _T]) -> _T:  # fmt: skip
    """``app.state.<name>`` if it holds a ``kind``, else built once under ``lock`` and stored.

    Checked again inside the lock, so readers arriving during a build wait for it instead of
    starting their own.
    """
    cached = getattr(app.state, name, None)
    if isinstance(cached, kind):
        return cached
    with lock:
        cached = getattr(app.state, name, None)
        if not isinstance(cached, kind):
            cached = build()
            setattr(app.state, name, cached)
    return cached


def evidence_of(app: Starlette) -> Evidence:
    """The app's evidence (``app.state.evidence``), loaded on first use from
    :func:`evidence_paths`: the curated files and the accepted extractions."""
    return _cached(app, "evidence", Evidence, _EVIDENCE_LOCK, lambda: load(evidence_paths(app)))


def report_of(app: Starlette) -> Report:
    """The app's report (``app.state.report``), assembled from :func:`evidence_of` on first use.

    Tests (and a server that wants to be warm before its first reader) may set
    ``app.state.report`` beforehand; that report is then used as is. After :func:`invalidate`,
    the new build carries what changed since the one it replaces (new studies, moved estimates,
    estimates outside the old CI, certainty, flipped conclusions) and what triggered it.
    """
    return _cached(app, "report", Report, _REPORT_LOCK, lambda: _build(app))


def _build(app: Starlette) -> Report:
    report = assemble(evidence_of(app))
    previous: dict[str, Any] | None = getattr(app.state, "previous_results", None)
    if previous is None:
        return report
    trigger: tuple[str, ...] = getattr(app.state, "change_trigger", None) or ()
    changes = replace(compare(previous, report.results()), trigger=trigger)
    return replace(report, changes=changes)


_EFFICACY_LOCK = threading.Lock()


def efficacy_of(app: Starlette) -> Mapping[str, PooledEfficacy]:
    """The pooled response rates the decision aid orders by, from the app's evidence.

    Read from the built report when there is one (no refit), else computed from the salvage
    analyses alone (about a second), once per app until :func:`invalidate`.
    """

    def build() -> dict[str, PooledEfficacy]:
        report = getattr(app.state, "report", None)
        if isinstance(report, Report) and report.certainty is not None:
            return dict(pooled_efficacy(evidence_of(app), analyses=report.analyses,
                                        assessed=report.certainty))  # fmt: skip
        return dict(pooled_efficacy(evidence_of(app)))

    return _cached(app, "efficacy", dict, _EFFICACY_LOCK, build)


def invalidate(app: Starlette, trigger: str | None = None) -> None:
    """Forget the cached evidence and report, so the next reader rebuilds both from the files.

    Called when a study is accepted into the evidence base. Both locks are taken in the order
    :func:`report_of` takes them, so a build already running finishes first and is then dropped
    rather than stored over the newer state. Only this process's cache is cleared: a server
    running several worker processes rebuilds in the others when they restart.
    """
    with _REPORT_LOCK, _EVIDENCE_LOCK:
        current = getattr(app.state, "report", None)
        if isinstance(current, Report):  # the version readers saw: what the next one is against
            app.state.previous_results = current.results()
            app.state.change_trigger = (trigger,) if trigger else ()
        app.state.report = None
        app.state.evidence = None
        app.state.efficacy = None


__all__ = ["efficacy_of", "evidence_of", "evidence_paths", "invalidate", "report_of"]
