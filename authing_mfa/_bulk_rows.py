"""What the bulk calls take and give: records, one `Outcome` per record, and a row's checks.

`import_totp_many` takes `TotpRecord`s (a key may be base32 or an ``otpauth://totp/...`` URI,
read by `_otpauth`) and gives `ImportOutcome`s; `get_status_many` takes user ids and gives
``Outcome[str, MfaStatus]``; `unassociate_mfa_many` takes user ids or `UnbindRecord`s and
gives ``Outcome[UnbindRecord, bool]``.
"""

from __future__ import annotations

__all__ = [
    "ImportOutcome",
    "Outcome",
    "RecordLike",
    "RowNames",
    "TotpRecord",
    "UnbindRecord",
    "as_record",
    "as_unbind_record",
    "check_record",
]

import re
from collections.abc import Mapping
from typing import Generic, TypeVar

import attrs

from ._errors import AuthingMfaError, InvalidArgumentError
from ._models import MfaType, TotpAuthenticator
from ._otpauth import is_otpauth_uri, secret_of_otpauth
from ._validation import check_recovery_code, check_totp_secret, check_user_id


@attrs.frozen
class TotpRecord:
    """One user's TOTP key, as exported from the MFA system you are leaving.

    Attributes:
        user_id: the Authing user id the key is for.
        secret: the key, base32 or an ``otpauth://totp/...`` URI (hidden from ``repr``).
        recovery_code: the user's recovery code, or ``None`` to let Authing make one up
            (hidden from ``repr``).
    """

    user_id: str
    secret: str = attrs.field(repr=False)
    recovery_code: str | None = attrs.field(default=None, repr=False)


RecordLike = TotpRecord | tuple[str, str] | tuple[str, str, str | None]
"""What `import_totp_many` accepts as one record (mappings too, read as `as_record` says)."""


R = TypeVar("R")
T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Outcome(Generic[R, T]):
    """How one record of a bulk call ended: ``Outcome[record type, result type]``.

    Exactly one of `result` and `error` is set.

    Attributes:
        index: the record's position in the input, counting from 0.
        record: the record as the call read it (a user id, an `UnbindRecord`, a `TotpRecord`).
        result: what the call returned for it, when it succeeded.
        error: why it did not: `InvalidArgumentError` for a record refused before sending
            (nothing was sent for it), else the error the last attempt raised.
    """

    index: int
    record: R
    result: T | None = None
    error: AuthingMfaError | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded for this record."""
        return self.error is None


class ImportOutcome(Outcome[TotpRecord, TotpAuthenticator]):
    """How one record of `AsyncMfaClient.import_totp_many` ended.

    An `Outcome` whose `result` is also called `authenticator`: what Authing stored.
    """

    __slots__ = ()

    @property
    def authenticator(self) -> TotpAuthenticator | None:
        """What Authing stored, when the import succeeded (the `result`)."""
        return self.result


@attrs.frozen
class UnbindRecord:
    """One factor to unbind from one user, as `unassociate_mfa_many` reads it.

    Attributes:
        user_id: the user's id.
        mfa_type: the factor, an `MfaType` or its name in any case.
    """

    user_id: str
    mfa_type: MfaType | str


def as_unbind_record(item: object, mfa_type: MfaType | None) -> UnbindRecord:
    """Return *item* as an `UnbindRecord`.

    *item* is a record, a ``(user_id, mfa_type)`` pair, or a user id to unbind the call's
    *mfa_type* from.

    Raises:
        TypeError: *item* is none of these, or a bare user id without a call-wide *mfa_type*:
            a programming error, not a bad row.
    """
    if isinstance(item, UnbindRecord):
        return item
    if isinstance(item, str):
        if mfa_type is None:
            raise TypeError(
                "a bare user id needs the call's mfa_type: pass mfa_type=..., or give "
                "(user_id, mfa_type) pairs"
            )
        return UnbindRecord(item, mfa_type)
    if isinstance(item, tuple) and len(item) == 2:  # noqa: PLR2004
        return UnbindRecord(*item)
    raise TypeError(
        "an unbind record must be a user id, a (user_id, mfa_type) pair or an UnbindRecord, "
        f"not {type(item).__name__}"
    )


@attrs.frozen
class RowNames:
    """The names a row's fields go by in error messages: the library's, or a file's columns."""

    user_id: str = "user_id"
    secret: str = "secret"  # noqa: S105 - a field's name
    recovery_code: str = "recovery_code"


LIBRARY_NAMES = RowNames()
_VALIDATE_SECRET_HINT = re.compile(r" \(pass validate_secret=False[^)]*\)")


def as_record(item: object) -> TotpRecord:
    """Return *item* as a `TotpRecord`: a record, a 2- or 3-tuple, or a mapping.

    Mappings may use ``user_id``/``userId``, ``secret`` and ``recovery_code``/``recoveryCode``;
    a missing field becomes an empty string, which `check_record` then refuses for that row.

    Raises:
        TypeError: *item* is none of these: a programming error, not a bad row.
    """
    if isinstance(item, TotpRecord):
        return item
    if isinstance(item, Mapping):
        return TotpRecord(
            item.get("user_id", item.get("userId", "")),
            item.get("secret", ""),
            item.get("recovery_code", item.get("recoveryCode")),
        )
    if isinstance(item, tuple) and len(item) in {2, 3}:
        return TotpRecord(*item)
    raise TypeError(
        "a record must be a TotpRecord, a (user_id, secret[, recovery_code]) tuple or a "
        f"mapping, not {type(item).__name__}"
    )


def check_record(record: TotpRecord, names: RowNames = LIBRARY_NAMES) -> TotpRecord:
    """Return *record* as it will be sent: id checked, key as normalised base32, code checked.

    Raises:
        InvalidArgumentError: the row cannot be imported; the message names the field and
            the reason, never the key or the code.
    """
    user_id = check_user_id(record.user_id, names.user_id)
    secret = record.secret
    if is_otpauth_uri(secret):
        secret = secret_of_otpauth(secret, names.secret)
    try:
        secret = check_totp_secret(secret, argument=names.secret)
    except InvalidArgumentError as exc:
        # A row cannot pass validate_secret=False, so the check's hint about it is dropped.
        raise InvalidArgumentError(_VALIDATE_SECRET_HINT.sub("", str(exc))) from None
    return TotpRecord(
        user_id, secret, check_recovery_code(record.recovery_code, names.recovery_code)
    )
