"""When and how long to wait before trying a call again.

All three operations are safe to repeat (GET, DELETE, and an import that replaces the key), so
every failure a later attempt may cure is retried: connection errors, timeouts, and the
`RETRYABLE_STATUSES`. Waits grow exponentially with full jitter, unless the server names its
own wait with ``Retry-After`` (on a 429 or a 503); a named wait longer than ``max_retry_wait``,
or longer than what remains of ``total_timeout``, is not waited out: the error (`RateLimitError`
for a 429) is raised at once, carrying the wait.

Time is the event loop's clock (the one anyio reads), so a test on trio's ``MockClock`` sees
every wait pass at once, and the waits are anyio sleeps that a cancel scope interrupts.

Many calls may share a `Pacer` (the bulk engine's rate limit): whoever runs calls under one
sets it in `current_pacer` for its tasks, and the loop here reads it, the way the hooks read
`current_attempt`. A call outside any bulk run finds ``None`` and pays nothing for it.

This loop is ours rather than stamina's: stamina reports every retry through process-wide
hooks (the ``stamina`` logger, Prometheus) that a library must not configure, can be switched
off for the whole process by an application's test suite (``stamina.set_active``), and costs a
tenacity state machine on every call, including the vast majority that succeed at once.
"""

from __future__ import annotations

__all__ = ["RETRYABLE_STATUSES", "Pacer", "RetryPolicy", "current_pacer"]

import contextvars
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import attrs

from ._errors import (
    ApiError,
    AuthingMfaError,
    ConnectionError,  # noqa: A004 - ours, not the builtin
    TimeoutError,  # noqa: A004
)

T = TypeVar("T")

logger = logging.getLogger("authing_mfa")

# Statuses a gateway or an overloaded server answers with, where a later attempt may succeed.
# By HTTP status only: a 200 whose envelope says 500 is a business answer, not a gateway's.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Pacer(Protocol):
    """Spaces the attempts of many calls that share it (a bulk run's rate limit)."""

    @property
    def open(self) -> bool:
        """Whether every attempt may go at once: no rate limit, and no pause ever asked for."""

    async def wait(self) -> None:
        """Return when the next attempt may be sent."""

    async def hold(self) -> None:
        """Return when no pause is on: checked again just before each request is sent."""

    def pause(self, seconds: float) -> None:
        """Let no attempt through for *seconds*: the server asked every caller to wait."""


# The pacer of the bulk run this task works for, if any; set by the bulk engine.
current_pacer: contextvars.ContextVar[Pacer | None] = contextvars.ContextVar(
    "authing_mfa_pacer", default=None
)


@attrs.frozen
class RetryPolicy:
    """How many attempts one call may make, how long they may take, and the waits between.

    Built once per client from its settings, which checked every value.

    Attributes:
        max_retries: attempts after the first.
        timeout: the longest any network step of one attempt may stall.
        total_timeout: the budget of one call, attempts and waits together.
        max_retry_wait: the longest ``Retry-After`` that is waited out.
        wait_initial: the bound of the first jittered wait; each later one doubles it...
        wait_max: ...up to this bound.
    """

    max_retries: int
    timeout: float
    total_timeout: float
    max_retry_wait: float
    wait_initial: float
    wait_max: float

    async def run(
        self,
        attempt: Callable[[float, int], Awaitable[T]],
        clock: Callable[[], float],
        what: Callable[[], str],
        *,
        started: float | None = None,
    ) -> T:
        """Await ``attempt(budget, number)`` until it succeeds, the retries run out or time does.

        *budget* is what remains of ``total_timeout``, in seconds, as the attempt starts: the
        stack ends an exchange that would outlast it (`HttpStack.send`). *number* counts
        attempts from 1. *clock* tells the event loop's time (`_loops.Clock`,
        or ``anyio.current_time``), whose sleeps the waits are. *what* names the call in log
        records (``"GET /api/v2/users/u1/mfa-bound"``), built only when a retry is logged.
        Under a `current_pacer`, every attempt first waits for it, and a ``Retry-After`` pauses
        it; the call's time budget starts once the pacer first lets it through, so time queued
        behind a rate limit does not count against ``total_timeout``. A caller that sent the
        first attempt's request itself (the pacer, if any, letting everything through) passes
        when on *clock* as *started*: the budget counts from there.
        """
        pacer = current_pacer.get()
        if started is None:
            if pacer is not None:
                await pacer.wait()
            started = clock()
        deadline = started + self.total_timeout
        budget = deadline - clock()
        retries = 0
        while True:
            try:
                return await attempt(budget, retries + 1)
            except AuthingMfaError as exc:
                if pacer is not None and isinstance(exc, ApiError) and exc.retry_after:
                    pacer.pause(min(exc.retry_after, self.max_retry_wait))
                wait = self._wait_before_retry(exc, retries, deadline - clock())
                if wait is None:
                    raise
                last = exc
                retries += 1
                logger.info(
                    "retrying %s in %.2f s (attempt %d of %d) after %s; request id %s",
                    what(),
                    wait,
                    retries + 1,
                    self.max_retries + 1,
                    exc,
                    getattr(exc, "request_id", None),
                )
            import anyio  # noqa: PLC0415 - only retries sleep; keeps anyio out of the import

            await anyio.sleep(wait)
            if pacer is not None:
                await pacer.wait()
            budget = deadline - clock()
            if budget <= 0:  # the pacer held this call back until its time was up
                raise last

    def _wait_before_retry(
        self, exc: AuthingMfaError, retries: int, remaining: float
    ) -> float | None:
        """Return how long to wait before retrying after *exc*, or None to raise it now."""
        if retries >= self.max_retries or not _retryable(exc):
            return None
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            wait = exc.retry_after
            if wait > self.max_retry_wait:
                return None
        else:
            wait = random.uniform(0, min(self.wait_max, self.wait_initial * 2**retries))  # noqa: S311 - jitter, not cryptography
        # The next attempt needs time of its own; a wait that leaves none is pointless.
        return wait if wait < remaining else None


def _retryable(exc: AuthingMfaError) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    return isinstance(exc, ApiError) and exc.http_status in RETRYABLE_STATUSES
