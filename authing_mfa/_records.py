"""The rows of a bulk TOTP import: `TotpRecord`, `ImportOutcome`, and the checks on a row.

A row's key may be base32 or an ``otpauth://totp/...`` URI, the form authenticator apps export
and QR codes carry; its ``secret`` parameter is taken, and the URI is refused when it names an
algorithm, a digit count or a period other than Authing's (SHA1, 6 digits, 30 s), because such a
key would produce codes Authing never accepts and lock its user out.
"""

from __future__ import annotations

__all__ = ["ImportOutcome", "RowNames", "TotpRecord", "as_record", "check_record"]

from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

import attrs

from ._errors import AuthingMfaError, InvalidArgumentError
from ._models import TotpAuthenticator
from ._validation import check_optional_text, check_totp_secret, check_user_id

# What Authing's TOTP computes codes with; a key meant for anything else would never match.
_AUTHING_TOTP = {"algorithm": "SHA1", "digits": "6", "period": "30"}


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


@attrs.frozen(kw_only=True)
class ImportOutcome:
    """How one record of `AsyncMfaClient.import_totp_many` ended.

    Exactly one of `authenticator` and `error` is set.

    Attributes:
        index: the record's position in the input, counting from 0.
        record: the record, as a `TotpRecord` (tuples and mappings are converted).
        authenticator: what Authing stored, when the import succeeded.
        error: why it did not: `InvalidArgumentError` for a row refused before sending
            (nothing was sent for it), else the error the last attempt raised.
    """

    index: int
    record: TotpRecord
    authenticator: TotpAuthenticator | None = None
    error: AuthingMfaError | None = None

    @property
    def ok(self) -> bool:
        """Whether the key was imported."""
        return self.error is None


@attrs.frozen
class RowNames:
    """The names a row's fields go by in error messages: the library's, or a file's columns."""

    user_id: str = "user_id"
    secret: str = "secret"  # noqa: S105 - a field's name
    recovery_code: str = "recovery_code"


LIBRARY_NAMES = RowNames()


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
    if isinstance(secret, str) and secret[:10].lower() == "otpauth://":
        secret = _secret_of_otpauth(secret, names.secret)
    return TotpRecord(
        user_id,
        check_totp_secret(secret, argument=names.secret),
        check_optional_text(record.recovery_code, names.recovery_code),
    )


def _secret_of_otpauth(uri: str, argument: str) -> str:
    parts = urlsplit(uri)
    if parts.netloc.lower() != "totp":
        raise InvalidArgumentError(
            f"{argument} is an otpauth URI of type {parts.netloc or 'none'!r}; only totp keys "
            "can be imported"
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    params = {name.lower(): values for name, values in query.items()}
    for name, expected in _AUTHING_TOTP.items():
        values = params.get(name)
        if values is None:
            continue
        value = values[-1].strip().upper()
        if value != expected:
            # The parameter's value is not secret, and naming it tells the operator what to fix.
            raise InvalidArgumentError(
                f"{argument} is an otpauth URI with {name}={value[:16]}, but Authing's TOTP "
                f"uses {name}={expected}: the key would not produce codes Authing accepts"
            )
    secrets = params.get("secret")
    if not secrets or not secrets[-1]:
        raise InvalidArgumentError(f"{argument} is an otpauth URI without a secret parameter")
    return secrets[-1]
