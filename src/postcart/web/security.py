"""Cross-site request forgery and login throttling: the two guards FastAPI does not ship.

Every unsafe request (POST, PUT, PATCH, DELETE) must pass two checks:

1. *Where it came from.* ``Sec-Fetch-Site`` (sent by every current browser) must be
   ``same-origin`` or ``none``; ``Origin``, when present, must be this server's own origin.
2. *A synchronizer token.* The form field ``csrf_token`` or the ``X-CSRF-Token`` header must
   equal the token of the signed-in session. Before sign-in (the login form) the token is the
   one set in the ``postcart_csrf`` cookie when the form was served (double submit).

Either failing answers 403. Login throttling counts failures per name and per client address
over a sliding window, so guessing passwords costs time without locking a name out for good.
"""

from __future__ import annotations

import hmac
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from threading import Lock
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: Cookie holding the pre-sign-in token (the login form's double submit).
CSRF_COOKIE = "postcart_csrf"
SESSION_COOKIE = "postcart_session"


def _origin_of(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def check_origin(request: Request) -> None:
    """403 unless the request comes from this site (Fetch metadata and Origin)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise HTTPException(403, "cross-site request refused")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = urlsplit(_origin_of(request))
        given = urlsplit(origin)
        if (given.scheme, given.netloc) != (expected.scheme, expected.netloc):
            raise HTTPException(403, "cross-origin request refused")
    elif origin == "null":
        raise HTTPException(403, "opaque origin refused")


async def submitted_token(request: Request) -> str:
    """The token the request carries: header first, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette; the route reads the same form
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def tokens_match(expected: str | None, given: str) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected or "", given)


@dataclass
class LoginThrottle:
    """At most ``limit`` failed sign-ins per name and per address within ``window`` seconds."""

    limit: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: Lock = field(default_factory=Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, name: str, address: str) -> bool:
        """Whether either key has used up its failures in the window."""
        now = time.monotonic()
        with self._lock:
            return any(
                len(self._recent(key, now)) >= self.limit
                for key in (f"name:{name.lower()}", f"addr:{address}")
            )

    def failed(self, name: str, address: str) -> None:
        """Record one failed attempt for the name and the address."""
        now = time.monotonic()
        with self._lock:
            for key in (f"name:{name.lower()}", f"addr:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        """A correct password clears the name's failures (not the address's)."""
        with self._lock:
            self._failures.pop(f"name:{name.lower()}", None)
