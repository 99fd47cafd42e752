"""`AsyncMfaClient`: the three management MFA operations, awaited."""

from __future__ import annotations

__all__ = ["AsyncMfaClient"]

from collections.abc import AsyncIterable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from ._operations import Operations
from ._settings import Configured
from ._validation import check_mfa_type

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._bulk import BulkStream
    from ._bulk_rows import ImportOutcome, Outcome, RecordLike, UnbindRecord
    from ._models import MfaStatus, MfaType, TotpAuthenticator


class AsyncMfaClient(Configured):
    """Manage the MFA of an Authing user pool's users, from async code (asyncio or trio).

    ::

        async with AsyncMfaClient(user_pool_id="...", secret="...") as mfa:
            status = await mfa.get_status("USER_ID")

    Every argument is keyword-only; unset credentials and host come from the environment.

    Args:
        user_pool_id: the user pool's id; default ``$AUTHING_USERPOOL_ID``.
        secret: the user pool's secret, used to fetch management tokens; default
            ``$AUTHING_USERPOOL_SECRET``.
        host: the API's base URL; default ``$AUTHING_HOST``, else ``https://core.authing.cn``.
        access_token: a ready management token, sent instead of fetching one with *secret*;
            never refreshed, so a refused one raises `AuthenticationError`.
        app_id: sent as ``x-authing-app-id`` when given.
        tenant_id: sent as ``x-authing-app-tenant-id`` when given.
        lang: ``x-authing-lang``, the language of the server's messages (``zh-CN``, ``en-US``).
        timeout: seconds any network step of one attempt (connecting, sending, waiting for the
            answer) may stall before the attempt fails.
        total_timeout: seconds one call may take, all attempts and waits included: no wait
            starts that could not finish in time, and an answer still arriving then, however
            slowly, ends the call in `TimeoutError`.
        max_retries: attempts after the first, for failures that may pass (see README).
        max_retry_wait: the longest ``Retry-After`` the client waits out; a longer one raises
            `RateLimitError` at once.
        wait_initial: bound of the first jittered backoff, in seconds; later ones double it...
        wait_max: ...up to this bound.
        limits: the connection pool's limits (default: 100 connections).
        transport: an httpx async transport to send through, the test seam
            (``authing_mfa.testing.Emulator().transport()``).
        http_client: your own `httpx.AsyncClient` to send through; it is used as is (its
            base URL and headers are ignored) and never closed by this client.
        on_request: called with a `RequestEvent` (method, path, attempt) just before each
            HTTP request is sent: every attempt, replay and token request. For metrics and
            tracing; it never sees headers or bodies.
        on_response: called with a `ResponseEvent` (the request's record, status, elapsed
            seconds, request id, and the error when no answer came) when each request ends.
            Hooks run in the task making the call and must not block; an exception a hook
            raises propagates out of the call. Without hooks, nothing is recorded.

    Raises:
        InvalidArgumentError: a setting is missing (naming the argument and the variable)
            or out of range. Nothing is sent at construction.

    Lifetime and concurrency: build one client per user pool and keep it for the life of the
    application; every task of the event loop that first used it may share it, and a hundred
    concurrent calls on a cold client fetch one token between them. The connection pool is
    opened on first use and closed by `aclose` or ``async with``. A client belongs to the event
    loop it first ran in, as its connection pool does: aiohttp's under asyncio, httpx's under
    trio or when *transport* or *http_client* is given.
    """

    def _start(self) -> None:
        self._ops = Operations(self._settings)

    async def get_status(self, user_id: str) -> MfaStatus:
        """Return which MFA factors *user_id* has bound.

        Calls ``GET /api/v2/users/{user_id}/mfa-bound`` (the JS SDK's ``getStatus``).

        Raises:
            InvalidArgumentError: *user_id* is empty, not a str, or holds control characters.
            NotFoundError: no such user in this pool.
            ApiError, TransportError, ResponseValidationError: see the README's error table.
        """
        return await self._ops.get_status(user_id)

    async def unassociate_mfa(self, user_id: str, mfa_type: MfaType | str) -> bool:
        """Unbind the factor *mfa_type* from *user_id*; return True once the server confirms.

        Unbinding `MfaType.OTP` also deletes the user's TOTP key. Calls
        ``DELETE /api/v2/users/{user_id}/mfa-bound?type=...`` (the JS SDK's ``unAssociateMfa``).

        Args:
            user_id: the user's id.
            mfa_type: an `MfaType`, or its name in any case (``"otp"``, ``"FACE"``).

        Raises:
            InvalidArgumentError: a bad *user_id*, or *mfa_type* is not a factor the API knows.
            NotFoundError: no such user in this pool.
        """
        return await self._ops.unassociate_mfa(user_id, mfa_type)

    async def import_totp(
        self,
        user_id: str,
        secret: str,
        *,
        recovery_code: str | None = None,
        validate_secret: bool = True,
    ) -> TotpAuthenticator:
        """Give *user_id* the TOTP key *secret*, switching TOTP MFA on for them at once.

        Re-importing replaces the user's key, so the call is safe to retry. Calls
        ``POST /api/v2/mfa/totp/import`` (the JS SDK's ``importTotp``).

        Args:
            user_id: the user's id.
            secret: the key, RFC 4648 base32 (spaces and lower case are normalised).
            recovery_code: the user's recovery code from the old system; Authing makes one up
                when it is left out.
            validate_secret: check that *secret* is base32 before sending (the default).
                Authing stores any string, and a key that is not base32 locks its user out;
                pass False only for keys you have checked yourself.

        Returns:
            The authenticator as Authing stored it.

        Raises:
            InvalidArgumentError: a bad *user_id*, an empty or non-base32 *secret*, or an
                empty *recovery_code*; nothing is sent.
            NotFoundError: no such user in this pool.
        """
        return await self._ops.import_totp(
            user_id, secret, recovery_code=recovery_code, validate_secret=validate_secret
        )

    def import_totp_many(
        self,
        records: Iterable[RecordLike | Mapping[str, str | None]]
        | AsyncIterable[RecordLike | Mapping[str, str | None]],
        *,
        concurrency: int = 8,
        rate_limit: float | None = None,
    ) -> BulkStream[ImportOutcome]:
        """Import many users' TOTP keys; yield one `ImportOutcome` per record as each finishes.

        ::

            async with mfa.import_totp_many(records, concurrency=8, rate_limit=20) as outcomes:
                async for outcome in outcomes:
                    if not outcome.ok:
                        print(outcome.record.user_id, outcome.error)

        The records are read one at a time, only when a worker is free, so any input size
        runs in flat memory; a generator reading a file or a database cursor is the intended
        input. Each record is checked as `import_totp` checks it (a key may also be an
        ``otpauth://totp/`` URI, refused unless SHA1, 6 digits, 30 s); a refused row ends with
        an `InvalidArgumentError` outcome and nothing is sent for it. A failing row never
        stops the others: only an exception of the input itself, or a record that is not a
        record at all, ends the iteration, after the rows in flight.

        Args:
            records: an iterable or async iterable of `TotpRecord`, ``(user_id, secret)`` or
                ``(user_id, secret, recovery_code)`` tuples, or mappings with those keys
                (``userId`` and ``recoveryCode`` also work).
            concurrency: how many records may be in flight at once.
            rate_limit: the most requests per second, retries included, shared by all
                workers; ``None`` for no limit. Whatever it is, a 429 answer with
                ``Retry-After`` pauses every worker for that long (at most
                ``max_retry_wait``).

        Returns:
            An async context manager; entering it starts the work and gives the outcomes,
            in the order the records finish (`ImportOutcome.index` is the input position).
            Leaving it, at the end or early (``break``, an exception, a cancellation),
            cancels what is still in flight and returns once every task has ended.

        Raises:
            InvalidArgumentError: *concurrency* or *rate_limit* is out of range.
            TypeError: (while iterating) an item is not a record.

        Concurrency: the work runs in the task that enters the context, sharing this
        client's connection pool and token with any other calls. Retries follow the
        client's settings; a row whose retries run out is reported, not retried again,
        and importing it once more is safe (the import replaces the key).
        """
        from ._bulk import BulkStream  # noqa: PLC0415 - anyio's streams load only for bulk work

        return BulkStream(
            self._ops.import_row, records, concurrency=concurrency, rate_limit=rate_limit
        )

    def get_status_many(
        self,
        user_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 8,
        rate_limit: float | None = None,
    ) -> BulkStream[Outcome[str, MfaStatus]]:
        """Read many users' MFA status; yield one `Outcome` per user id as each finishes.

        ::

            async with mfa.get_status_many(user_ids, concurrency=16) as outcomes:
                async for outcome in outcomes:
                    if outcome.ok and not outcome.result.otp:
                        print(outcome.record, "has no second factor")

        The contract of `import_totp_many`: the input is read lazily, outcomes come in the
        order the calls finish with their input `Outcome.index`, a failing user (say, not
        found) never stops the others, refused credentials or permissions stop the run, the
        rate limit is shared, a ``Retry-After`` pauses every worker, and leaving the context
        early cancels what is in flight.

        Args:
            user_ids: an iterable or async iterable of user ids.
            concurrency: how many calls may be in flight at once.
            rate_limit: the most requests per second, retries included; ``None``: no limit.

        Returns:
            An async context manager giving ``Outcome[str, MfaStatus]``: `Outcome.record` is
            the user id, `Outcome.result` its `MfaStatus`.

        Raises:
            InvalidArgumentError: *concurrency* or *rate_limit* is out of range.
            AuthenticationError, PermissionDeniedError: (while iterating) the run stopped.
            TypeError: (while iterating) an item is not a str.
        """
        from ._bulk import BulkStream  # noqa: PLC0415 - anyio's streams load only for bulk work

        return BulkStream(
            self._ops.status_row, user_ids, concurrency=concurrency, rate_limit=rate_limit
        )

    def unassociate_mfa_many(
        self,
        records: Iterable[str | UnbindRecord | tuple[str, MfaType | str]]
        | AsyncIterable[str | UnbindRecord | tuple[str, MfaType | str]],
        *,
        mfa_type: MfaType | str | None = None,
        concurrency: int = 8,
        rate_limit: float | None = None,
    ) -> BulkStream[Outcome[UnbindRecord, bool]]:
        """Unbind a factor from many users; yield one `Outcome` per record as each finishes.

        ::

            async with mfa.unassociate_mfa_many(leaked_user_ids, mfa_type="otp") as outcomes:
                async for outcome in outcomes:
                    if not outcome.ok:
                        print(outcome.record.user_id, outcome.error)

        The contract of `import_totp_many` (see `get_status_many`). Unbinding is safe to
        repeat, so a run that was interrupted may simply be run again.

        Args:
            records: user ids (each loses *mfa_type*), ``(user_id, mfa_type)`` pairs or
                `UnbindRecord`s, from an iterable or async iterable.
            mfa_type: the factor bare user ids lose; an `MfaType` or its name in any case.
            concurrency: how many calls may be in flight at once.
            rate_limit: the most requests per second, retries included; ``None``: no limit.

        Returns:
            An async context manager giving ``Outcome[UnbindRecord, bool]``, whose `result`
            is True once the server confirmed.

        Raises:
            InvalidArgumentError: *mfa_type*, *concurrency* or *rate_limit* is refused.
            AuthenticationError, PermissionDeniedError: (while iterating) the run stopped.
            TypeError: (while iterating) an item is not a record, or a bare user id came
                without *mfa_type*.
        """
        from ._bulk import BulkStream  # noqa: PLC0415 - anyio's streams load only for bulk work

        factor = None if mfa_type is None else check_mfa_type(mfa_type)
        return BulkStream(
            self._ops.unbind_row(factor), records, concurrency=concurrency, rate_limit=rate_limit
        )

    async def aclose(self) -> None:
        """Close the connection pool (not a caller-supplied ``http_client``). Idempotent."""
        await self._ops.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
