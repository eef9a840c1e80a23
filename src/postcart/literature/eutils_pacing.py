"""When to send the next E-utilities request: NCBI's rate limit and backing off after failures.

NCBI blocks clients that exceed 3 requests/s (10/s with an API key), and asks callers to back
off when it answers 429 or 5xx. Time is injected (``clock`` and ``sleep``) so tests can check
the spacing exactly without waiting for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: Returns seconds on a monotonic scale.
Clock = Callable[[], float]
#: Waits for the given number of seconds.
Sleep = Callable[[float], None]

REQUESTS_PER_SECOND_WITHOUT_KEY = 3.0
REQUESTS_PER_SECOND_WITH_KEY = 10.0


class RateLimiter:
    """Spaces request starts at least ``1 / per_second`` apart, across threads."""

    def __init__(
        self, per_second: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_start: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next request may start, then book that slot."""
        with self._lock:
            now = self._clock()
            if self._next_start is not None and now < self._next_start:
                self._sleep(self._next_start - now)
                now = max(self._clock(), self._next_start)
            self._next_start = now + self.interval


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often to try a request and how long to wait between tries.

    The wait doubles from ``base_delay`` up to ``max_delay``; a server's ``Retry-After`` wins
    when present (capped at ``max_retry_after`` so a hostile header cannot stall a run).
    """

    max_tries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError(f"max_tries must be at least 1, got {self.max_tries}")

    def delay(self, failed_tries: int, retry_after: str | None = None) -> float:
        """Seconds to wait after ``failed_tries`` failures (1 after the first)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_retry_after)
        return float(min(self.base_delay * 2 ** (failed_tries - 1), self.max_delay))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
