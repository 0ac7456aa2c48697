"""The presenter-token check: constant-time compare, failures rate-limited per client, logged
without the token."""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable

log = logging.getLogger(__name__)


class PresenterGuard:
    """Checks presenter tokens; a client with `max_failures` wrong or missing tokens within
    `window_s` (wall time) is refused without a check until its oldest failure ages out.

    Every client is refused alike while locked, the presenter included if they share its
    address (booth NAT): the token is 144 random bits, so the limit is about log noise and
    CPU, and a presenter typo stays far below it.
    """

    def __init__(
        self,
        token: str,
        *,
        max_failures: int = 20,
        window_s: float = 60.0,
        max_clients: int = 1024,
        now_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._token = token.encode()
        self._max_failures = max_failures
        self._window_ns = int(window_s * 1e9)
        self._max_clients = max_clients
        self._now_ns = now_ns
        # client -> instants of its recent failures; bounded in clients and per client.
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()
        self.rejected = 0
        self.limited = 0

    def _recent(self, client: str, now: int) -> deque[int]:
        failures = self._failures.get(client)
        if failures is None:
            return deque(maxlen=self._max_failures)
        while failures and failures[0] <= now - self._window_ns:
            failures.popleft()
        if not failures:
            del self._failures[client]
        return failures

    def retry_after_s(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it is not limited."""
        now = self._now_ns()
        failures = self._recent(client, now)
        if len(failures) < self._max_failures:
            return None
        self.limited += 1
        return max(1, -(-(failures[0] + self._window_ns - now) // 1_000_000_000))

    def check(self, client: str, given: str | None) -> bool:
        """True when `given` is the token; a failure is counted and logged (never the value)."""
        candidate = (given or "").encode()
        if secrets.compare_digest(candidate, self._token):
            return True
        now = self._now_ns()
        failures = self._recent(client, now)
        if client not in self._failures:
            if len(self._failures) >= self._max_clients:
                self._failures.popitem(last=False)
            self._failures[client] = failures
        self._failures.move_to_end(client)
        failures.append(now)
        self.rejected += 1
        log.warning(
            "presenter token %s from %s (%d failures in the last %.0f s)",
            "missing" if given is None else "wrong",
            client,
            len(failures),
            self._window_ns / 1e9,
        )
        return False
