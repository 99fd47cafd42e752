"""`MfaClient`: the blocking facade, running the operations `AsyncMfaClient` awaits (`_portal`)."""

from __future__ import annotations

__all__ = ["MfaClient"]

import os
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from . import _portal
from ._operations import Operations
from ._settings import Configured
from ._validation import check_mfa_type

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._bulk import HasError
    from ._bulk_rows import ImportOutcome, Outcome, RecordLike, UnbindRecord
    from ._models import MfaStatus, MfaType, TotpAuthenticator


O = TypeVar("O", bound="HasError")  # noqa: E741


class MfaClient(Configured):
    """Manage the MFA of an Authing user pool's users, from blocking code (Django, scripts).

    ::

        with MfaClient(user_pool_id="...", secret="...") as mfa:
            status = mfa.get_status("USER_ID")

    It takes the arguments of `AsyncMfaClient`, has its methods with the same signatures, and
    runs its coroutines: one event loop in a daemon thread, started on the first call and
    shared by every `MfaClient` and thread of the process. Its ``on_request`` and
    ``on_response`` hooks run in that loop's thread, not the caller's: keep them quick and
    thread-safe (a metrics counter is; a thread-local is not what you expect there).

    Raises:
        InvalidArgumentError: a setting is missing or out of range, as for `AsyncMfaClient`.

    Lifetime and concurrency: build one client, at module level or in settings, and share it
    between all threads; their calls are multiplexed on one connection pool and one token.
    After ``fork()`` the child builds its own loop and connection pool on first use, so a
    client created before gunicorn or Celery forks keeps working in every worker. Calling it
    from a thread that runs an event loop raises `RuntimeError` (it would block that loop):
    await an `AsyncMfaClient` there. Close it with `close` or ``with``; a process that never
    does still exits promptly, its connections closed on the way out.
    """

    def _start(self) -> None:
        self._left_behind: list[Operations] = []
        self._open()

    def _open(self) -> None:
        self._ops = Operations(self._settings)
        _portal.close_at_exit(self._ops)
        self._pid = os.getpid()

    @property
    def _current(self) -> Operations:
        if self._pid != os.getpid():
            # The parent's pool belongs to a loop that did not survive the fork; closing it
            # here would touch the parent's connections, so it is only set aside.
            self._left_behind.append(self._ops)
            self._open()
        return self._ops

    def get_status(self, user_id: str) -> MfaStatus:
        """Return which MFA factors *user_id* has bound. See `AsyncMfaClient.get_status`."""
        return _portal.call(self._current.get_status, user_id)

    def unassociate_mfa(self, user_id: str, mfa_type: MfaType | str) -> bool:
        """Unbind a factor from *user_id*. See `AsyncMfaClient.unassociate_mfa`."""
        return _portal.call(self._current.unassociate_mfa, user_id, mfa_type)

    def import_totp(
        self,
        user_id: str,
        secret: str,
        *,
        recovery_code: str | None = None,
        validate_secret: bool = True,
    ) -> TotpAuthenticator:
        """Give *user_id* a TOTP key. See `AsyncMfaClient.import_totp`."""
        return _portal.call(
            self._current.import_totp,
            user_id,
            secret,
            recovery_code=recovery_code,
            validate_secret=validate_secret,
        )

    def import_totp_many(
        self,
        records: Iterable[RecordLike | Mapping[str, str | None]],
        *,
        concurrency: int = 8,
        rate_limit: float | None = None,
    ) -> Iterator[ImportOutcome]:
        """Import many users' TOTP keys; yield one `ImportOutcome` per record as each finishes.

        ::

            for outcome in mfa.import_totp_many(read_rows(), concurrency=8):
                ...

        See `AsyncMfaClient.import_totp_many` for the records, checks and pacing. A plain
        iterable is read in a worker thread, so a slow database cursor never stalls the
        shared event loop. Closing the iterator (``break`` in CPython, ``close()``, or
        ``contextlib.closing``) cancels the records in flight and returns once they have
        ended.

        Raises:
            InvalidArgumentError: *concurrency* or *rate_limit* is out of range (at once).
            TypeError: (while iterating) an item is not a record.
        """
        return _run_blocking(self._current.import_row, records, concurrency, rate_limit)

    def get_status_many(
        self,
        user_ids: Iterable[str],
        *,
        concurrency: int = 8,
        rate_limit: float | None = None,
    ) -> Iterator[Outcome[str, MfaStatus]]:
        """Read many users' MFA status; yield one `Outcome` per user id as each finishes.

        See `AsyncMfaClient.get_status_many`; the input is read in a worker thread and the
        iterator closes as `import_totp_many`'s does.
        """
        return _run_blocking(self._current.status_row, user_ids, concurrency, rate_limit)

    def unassociate_mfa_many(
        self,
        records: Iterable[str | UnbindRecord | tuple[str, MfaType | str]],
        *,
        mfa_type: MfaType | str | None = None,
        concurrency: int = 8,
        rate_limit: float | None = None,
    ) -> Iterator[Outcome[UnbindRecord, bool]]:
        """Unbind a factor from many users; yield one `Outcome` per record as each finishes.

        See `AsyncMfaClient.unassociate_mfa_many`; the input is read in a worker thread and
        the iterator closes as `import_totp_many`'s does.
        """
        factor = None if mfa_type is None else check_mfa_type(mfa_type)
        return _run_blocking(self._current.unbind_row(factor), records, concurrency, rate_limit)

    def close(self) -> None:
        """Close the connection pool (not a caller-supplied ``http_client``). Idempotent."""
        _portal.call(self._current.aclose)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _run_blocking(
    work: Callable[[int, object], Awaitable[O]],
    records: Iterable[object],
    concurrency: int,
    rate_limit: float | None,
) -> Iterator[O]:
    """Run a bulk call on the shared loop and yield its outcomes to the blocking caller.

    The input is read in a worker thread: a slow database cursor must not stall the loop.
    """
    from ._bulk import BulkStream, iterate_blocking  # noqa: PLC0415 - see AsyncMfaClient

    stream = BulkStream(
        work, records, concurrency=concurrency, rate_limit=rate_limit, blocking_input=True
    )
    return iterate_blocking(stream)
