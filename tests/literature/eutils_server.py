"""A local stand-in for NCBI E-utilities that replays real answers and injects failures.

It listens on 127.0.0.1 only, answers ``esearch.fcgi`` and ``efetch.fcgi`` from the Biopython
recordings in ``shared/data/literature/biopython`` (or from a function a test supplies), and
records every request exactly as it arrived, so tests check what the client sent rather than
what our own code believes it sent. Queued :class:`Fault` objects are served first: an HTTP
status with headers, a body cut short, or a delay long enough to trip the client's timeout.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

import pytest

BIOPYTHON = Path("data") / "literature" / "biopython"
PUBMED_FILES = ("pubmed1.xml", "pubmed2.xml", "pubmed4.xml", "pubmed5.xml")

_ARTICLE_RE = re.compile(rb"<PubmedArticle>.*?</PubmedArticle>", re.DOTALL)
_CITATION_PMID_RE = re.compile(rb"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>")

Answer = Callable[[dict[str, str]], bytes]


class FakeClock:
    """Monotonic time that only moves when someone sleeps; records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    utility: str
    query_string: str
    body: bytes
    params: dict[str, str]
    at: float


@dataclass(frozen=True)
class Fault:
    """An answer served instead of the normal one."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    #: Send only this many bytes of the (normal or given) body, then close the connection.
    truncate_to: int | None = None
    #: Declare the full length in Content-Length even when truncating.
    honest_length: bool = True
    #: Seconds to wait before answering.
    delay: float = 0.0


def article_pmids(xml: bytes) -> list[str]:
    """PMIDs of the citations in a PubmedArticleSet (not of the references they cite)."""
    return [m.group(1).decode() for m in _CITATION_PMID_RE.finditer(xml)]


def esearch_xml(
    count: int, pmids: list[str], *, retmax: int, retstart: int = 0, translation: str = ""
) -> bytes:
    """An esearch answer shaped like the recorded ones."""
    ids = "".join(f"<Id>{pmid}</Id>\n" for pmid in pmids)
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
        '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
        f"<eSearchResult><Count>{count}</Count><RetMax>{retmax}</RetMax>"
        f"<RetStart>{retstart}</RetStart><IdList>\n{ids}</IdList><TranslationSet/>"
        f"<QueryTranslation>{translation}</QueryTranslation></eSearchResult>\n"
    ).encode()


def dated_corpus_answer(corpus: dict[str, date]) -> Answer:
    """esearch over a synthetic corpus {PMID: date}: counts honour mindate/maxdate like PubMed."""
    newest_first = sorted(corpus, key=int, reverse=True)

    def answer(params: dict[str, str]) -> bytes:
        hits = newest_first
        if "mindate" in params:
            low = date(*map(int, params["mindate"].split("/")))
            high = date(*map(int, params["maxdate"].split("/")))
            hits = [pmid for pmid in newest_first if low <= corpus[pmid] <= high]
        retmax, retstart = int(params["retmax"]), int(params.get("retstart", "0"))
        page = hits[retstart : retstart + retmax]
        return esearch_xml(len(hits), page, retmax=retmax, retstart=retstart)

    return answer


class ReplayServer:
    """The server; use as a context manager. ``base_url`` is what the client is given."""

    def __init__(self, shared_dir: Path, clock: FakeClock | None = None) -> None:
        self.folder = shared_dir / BIOPYTHON
        self.clock = clock
        self.requests: list[Seen] = []
        self.faults: dict[str, deque[Fault]] = {"esearch": deque(), "efetch": deque()}
        self.esearch_answer: Answer = lambda _params: (self.folder / "esearch1.xml").read_bytes()
        self.efetch_answer: Answer = self._replay_efetch
        self._articles: dict[str, bytes] = {}
        self._whole_files: dict[frozenset[str], bytes] = {}
        for name in PUBMED_FILES:
            raw = (self.folder / name).read_bytes()
            self._whole_files[frozenset(article_pmids(raw))] = raw
            for match in _ARTICLE_RE.finditer(raw):
                self._articles[article_pmids(match.group(0))[0]] = match.group(0)
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/entrez/eutils/"

    def fail_next(self, utility: str, *faults: Fault) -> None:
        """Serve ``faults`` (in order) to the next requests for ``utility``."""
        self.faults[utility].extend(faults)

    def seen(self, utility: str) -> list[Seen]:
        return [request for request in self.requests if request.utility == utility]

    def payload(self, utility: str, fault: Fault, params: dict[str, str]) -> bytes:
        """The body to send: the fault's own, a status page, or the normal answer."""
        if fault.body is not None:
            return fault.body
        if fault.status != 200:
            return f"<html><body>{fault.status} from replay server</body></html>".encode()
        answer = self.esearch_answer if utility == "esearch" else self.efetch_answer
        return answer(params)

    def _replay_efetch(self, params: dict[str, str]) -> bytes:
        """The recorded file when the IDs are exactly its articles; else recorded articles
        re-wrapped (unknown IDs get a minimal citation)."""
        ids = params.get("id", "").split(",")
        whole = self._whole_files.get(frozenset(ids))
        if whole is not None:
            return whole
        parts = [
            self._articles.get(
                pmid,
                f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID></MedlineCitation>"
                "</PubmedArticle>".encode(),
            )
            for pmid in ids
        ]
        return (
            b'<?xml version="1.0" ?>\n<PubmedArticleSet>\n'
            + b"\n".join(parts)
            + (b"\n</PubmedArticleSet>\n")
        )

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output clean."""

        def do_GET(self) -> None:
            self._answer(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self._answer(self.rfile.read(length))

        def _answer(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            utility = parts.path.rsplit("/", 1)[-1].removesuffix(".fcgi")
            merged = parse_qs(parts.query) | parse_qs(body.decode())
            params = {key: values[0] for key, values in merged.items()}
            at = server.clock.monotonic() if server.clock else 0.0
            seen = Seen(self.command, utility, parts.query, body, params, at)
            server.requests.append(seen)
            if utility not in server.faults:
                self._send(404, {}, b"unknown utility")
                return
            queue = server.faults[utility]
            fault = queue.popleft() if queue else Fault()
            if fault.delay and server._stopping.wait(fault.delay):
                return
            payload = server.payload(utility, fault, params)
            self._send(fault.status, fault.headers, payload, fault.truncate_to, fault.honest_length)

        def _send(
            self,
            status: int,
            headers: dict[str, str],
            payload: bytes,
            truncate_to: int | None = None,
            honest_length: bool = True,
        ) -> None:
            sent = payload if truncate_to is None else payload[:truncate_to]
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if honest_length:
                    self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(sent)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


def iter_ids(seen: list[Seen]) -> Iterator[str]:
    """Every PMID the client asked efetch for, in request order."""
    for request in seen:
        yield from request.params["id"].split(",")


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock at t=1000 s that advances only when slept on."""
    return FakeClock()


@pytest.fixture
def replay(shared_dir: Path, fake_clock: FakeClock) -> Iterator[ReplayServer]:
    """A running replay server that stamps requests with ``fake_clock``."""
    with ReplayServer(shared_dir, fake_clock) as server:
        yield server
