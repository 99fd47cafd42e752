"""The management token: fetched once, shared by every call of a client, refreshed in time.

A token is refreshed once less than a tenth of its lifetime, and at most ten minutes, remain
(Authing's tokens live for days, so this is ten minutes in practice). Expiry is tracked on the
event loop's clock (`_loops.Clock`, monotonic, one scale for every loop) from the moment the
token arrived, using the lifetime the server stated (``exp - iat``), so a client whose wall
clock is off by hours still refreshes in time, and a test on trio's ``MockClock`` sees a token
expire without waiting.

The token is shared by every event loop a client runs in. Fetches are single-flight per loop:
the callers of one loop that find no valid token wait for the one fetch under way there (each
no longer than what remains of its own call's time), and share its outcome, a failure
included (a refused secret is asked once, not once per caller);
no caller ever waits on another loop's fetch. A token the server refuses is dropped only if it
is still the cached one, so a newer token fetched meanwhile survives a late refusal of the old
one. If a refresh fails while the cached token is still valid, the cached token keeps serving
and the refresh is tried again a little later.
"""

from __future__ import annotations

__all__ = ["Flight", "ManagementTokens", "StaticToken", "Token", "TokenSource"]

import copy
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

import attrs

from ._envelope import decode_token_answer
from ._errors import (
    ApiError,
    AuthingMfaError,
    ResponseValidationError,
    TimeoutError,  # noqa: A004
    TransportError,
)

if TYPE_CHECKING:
    import anyio

    from ._http import Reply
    from ._loops import Clock

logger = logging.getLogger("authing_mfa")

_MAX_MARGIN = 600.0
# After a failed refresh, how long a still-valid token serves before the next try.
_REFRESH_RETRY_AFTER = 5.0


@attrs.frozen
class Token:
    """A management token and when, on the shared clock, it stops being trusted."""

    value: str = attrs.field(repr=False)
    expires_at: float
    refresh_at: float

    @classmethod
    def arrived(cls, value: str, lifetime: float, now: float) -> Token:
        """Build a token that arrived at *now* and lives *lifetime* seconds."""
        margin = min(_MAX_MARGIN, lifetime / 10)
        return cls(value, expires_at=now + lifetime, refresh_at=now + lifetime - margin)


class Flight:
    """One event loop's token fetches: its lock, its clock, and how its last fetch ended.

    Created in the loop it serves (its lock belongs to that loop).
    """

    __slots__ = ("clock", "completed", "failure", "lock")

    def __init__(self, clock: Clock) -> None:
        import anyio  # noqa: PLC0415 - loaded by the first call, not with the package

        self.clock = clock
        self.lock = anyio.Lock()
        self.completed = 0
        self.failure: AuthingMfaError | None = None


class TokenSource(Protocol):
    """Where a client's requests get the token they carry."""

    def fresh(self, flight: Flight) -> str | None:
        """Return the token to send if one is at hand, without waiting; else ``None``."""

    async def get(self, budget: float, flight: Flight) -> str:
        """Return a token to send, fetching one within *budget* seconds if needed."""

    def refused(self, token: str) -> bool:
        """Forget *token*, which the server refused; return whether a replay may succeed."""


@attrs.define
class StaticToken:
    """A ready token given by the caller: sent as is, never refreshed (as the JS SDK does)."""

    value: str = attrs.field(repr=False)

    def fresh(self, flight: Flight) -> str:  # noqa: ARG002 - the interface
        """Return the caller's token."""
        return self.value

    async def get(self, budget: float, flight: Flight) -> str:  # noqa: ARG002 - the interface
        """Return the caller's token."""
        return self.value

    def refused(self, token: str) -> bool:  # noqa: ARG002
        """Return False: nothing else can be sent instead."""
        return False


@attrs.define
class ManagementTokens:
    """Tokens from Authing's ``accessToken`` query, cached, refreshed one fetch at a time.

    *fetch* performs one token request within the given budget, in the running loop, and
    returns the answer.
    """

    _fetch: Callable[[float], Awaitable[Reply]]
    _token: Token | None = None
    fetches: int = 0

    def fresh(self, flight: Flight) -> str | None:
        """Return the cached token while it needs no refresh, else ``None``.

        The usual call's only look at the token: no coroutine to await.
        """
        token = self._token
        if token is not None and flight.clock.now() < token.refresh_at:
            return token.value
        return None

    async def get(self, budget: float, flight: Flight) -> str:
        """Return the cached token, or the fresh one this loop's single fetch brings."""
        token = self._token
        started = flight.clock.now()
        if token is not None and started < token.refresh_at:
            return token.value
        completed = flight.completed
        async with _Held(flight.lock, budget):
            token = self._token
            now = flight.clock.now()
            if token is not None and now < token.refresh_at:
                return token.value
            if flight.completed != completed and flight.failure is not None:
                # The fetch this caller waited for failed: its outcome is this caller's too.
                raise copy.copy(flight.failure)
            try:
                self.fetches += 1
                response = await self._fetch(budget - (now - started))  # what the wait left
                value, lifetime = decode_token_answer(response)
                fresh = Token.arrived(value, lifetime, flight.clock.now())
            except (ApiError, TransportError, ResponseValidationError) as exc:
                flight.completed += 1
                if token is None or now >= token.expires_at:
                    flight.failure = exc
                    raise
                flight.failure = None
                logger.warning(
                    "refreshing the management token failed (%s); the current one is valid "
                    "for %.0f s more and stays in use",
                    type(exc).__name__,
                    token.expires_at - now,
                )
                # Try again soon, and surely once more before the token expires.
                retry_in = min(_REFRESH_RETRY_AFTER, (token.expires_at - now) / 2)
                self._token = attrs.evolve(token, refresh_at=now + retry_in)
                return token.value
            except BaseException:
                flight.completed += 1
                flight.failure = None
                raise
            flight.completed += 1
            flight.failure = None
            self._token = fresh
            logger.debug("fetched a management token valid for %.0f s", fresh.expires_at - now)
            return fresh.value

    def refused(self, token: str) -> bool:
        """Drop *token* if it is still the cached one; a replay may always fetch a new one."""
        current = self._token
        if current is not None and current.value == token:
            self._token = None
        return True


class _Held:
    """Holds *lock* for an ``async with`` block, taken within *budget* seconds.

    A caller waits for another's token fetch no longer than its own call has left.

    Raises:
        TimeoutError: the lock was not free within *budget*.
    """

    __slots__ = ("_budget", "_lock")

    def __init__(self, lock: anyio.Lock, budget: float) -> None:
        self._lock = lock
        self._budget = budget

    async def __aenter__(self) -> None:
        import anyio  # noqa: PLC0415 - loaded by the first call, not with the package

        with anyio.move_on_after(self._budget):
            await self._lock.acquire()
            return
        raise TimeoutError(
            "waiting for the management token another call is fetching outlasted the "
            f"{max(self._budget, 0.0):.3g} s left of this call's total_timeout"
        )

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()
