"""The three operations, as both clients run them: check the input, call the API, read the answer.

`Operations` is what `AsyncMfaClient` awaits and what `MfaClient` runs on its shared loop: one
object per client, over one `Pipeline`. The clients only forward to it, so the two behave
the same by construction.
"""

from __future__ import annotations

__all__ = ["Operations"]

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ._bulk_rows import (
    ImportOutcome,
    Outcome,
    UnbindRecord,
    as_record,
    as_unbind_record,
    check_record,
)
from ._errors import AuthingMfaError
from ._models import MfaStatus, MfaType, TotpAuthenticator
from ._pipeline import Pipeline
from ._protocol import IMPORT_TOTP_PATH, MFA_BOUND_PATH
from ._settings import Settings
from ._validation import (
    check_mfa_type,
    check_recovery_code,
    check_totp_secret,
    check_user_id,
    user_id_path_segment,
)

T = TypeVar("T")

# The path around the user id, joined by concatenation: a third of what str.format costs.
_BOUND_BEFORE, _BOUND_AFTER = MFA_BOUND_PATH.split("{user_id}")


class Operations:
    """The management MFA operations of one client, over its request pipeline.

    Lifetime and concurrency: as `Pipeline`; `aclose` closes its connection pool.
    """

    def __init__(self, settings: Settings) -> None:
        self.pipeline = Pipeline(settings)

    # The three operations check their input and return the pipeline's coroutine, rather than
    # awaiting it in one of their own: a call costs one coroutine less. The clients await them
    # in theirs, so a bad argument still raises where the call is awaited.

    def get_status(self, user_id: str) -> Coroutine[Any, Any, MfaStatus]:
        """Return which MFA factors *user_id* has bound; see `AsyncMfaClient.get_status`."""
        path = _BOUND_BEFORE + user_id_path_segment(user_id) + _BOUND_AFTER
        return self.pipeline.request("GET", path, read=_status)

    def unassociate_mfa(self, user_id: str, mfa_type: MfaType | str) -> Coroutine[Any, Any, bool]:
        """Unbind a factor from *user_id*; see `AsyncMfaClient.unassociate_mfa`."""
        path = _BOUND_BEFORE + user_id_path_segment(user_id) + _BOUND_AFTER
        factor = check_mfa_type(mfa_type)
        return self.pipeline.request("DELETE", path, params={"type": factor.value}, read=_done)

    def import_totp(
        self,
        user_id: str,
        secret: str,
        *,
        recovery_code: str | None = None,
        validate_secret: bool = True,
    ) -> Coroutine[Any, Any, TotpAuthenticator]:
        """Give *user_id* a TOTP key; see `AsyncMfaClient.import_totp`."""
        body: dict[str, object] = {
            "userId": check_user_id(user_id),
            "secret": check_totp_secret(secret, validate=validate_secret),
        }
        if (code := check_recovery_code(recovery_code)) is not None:
            body["recoveryCode"] = code
        return self.pipeline.request("POST", IMPORT_TOTP_PATH, json=body, read=_authenticator)

    async def import_row(self, index: int, item: object) -> ImportOutcome:
        """Import one record of a bulk import and return its outcome; never raise for the row.

        Raises:
            TypeError: *item* is not a record at all (a programming error, not a bad row).
        """
        record = as_record(item)
        try:
            checked = check_record(record)
            authenticator = await self.import_totp(
                checked.user_id, checked.secret, recovery_code=checked.recovery_code
            )
        except AuthingMfaError as exc:
            return ImportOutcome(index=index, record=record, error=exc)
        return ImportOutcome(index=index, record=record, result=authenticator)

    async def status_row(self, index: int, item: object) -> Outcome[str, MfaStatus]:
        """Read one user's status for a bulk run; never raise for the row.

        Raises:
            TypeError: *item* is not a user id at all.
        """
        if not isinstance(item, str):
            raise TypeError(f"a user id must be a str, not {type(item).__name__}")
        try:
            status = await self.get_status(item)
        except AuthingMfaError as exc:
            return Outcome(index=index, record=item, error=exc)
        return Outcome(index=index, record=item, result=status)

    def unbind_row(
        self, mfa_type: MfaType | None
    ) -> Callable[[int, object], Awaitable[Outcome[UnbindRecord, bool]]]:
        """Return the work of a bulk unbind whose bare user ids lose the factor *mfa_type*."""

        async def unbind(index: int, item: object) -> Outcome[UnbindRecord, bool]:
            record = as_unbind_record(item, mfa_type)
            try:
                done = await self.unassociate_mfa(record.user_id, record.mfa_type)
            except AuthingMfaError as exc:
                return Outcome(index=index, record=record, error=exc)
            return Outcome(index=index, record=record, result=done)

        return unbind

    async def aclose(self) -> None:
        """Close the connection pool (not a caller-supplied ``http_client``). Idempotent."""
        await self.pipeline.aclose()


def _status(data: Any) -> MfaStatus:  # noqa: ANN401 - an envelope's data
    return _structure(data, MfaStatus)


def _authenticator(data: Any) -> TotpAuthenticator:  # noqa: ANN401
    return _structure(data, TotpAuthenticator)


def _done(data: Any) -> bool:  # noqa: ANN401, ARG001 - an unbind answers no data worth reading
    return True


def _structure(data: Any, cls: type[T]) -> T:  # noqa: ANN401 - an envelope's data
    # cattrs and the converter it generates load on the first answer, not with the package:
    # they are a third of what `import authing_mfa` adds to `import httpx`. Later answers
    # call the converter directly.
    global _structure  # noqa: PLW0603
    from ._converter import structure  # noqa: PLC0415

    _structure = structure
    return structure(data, cls)
