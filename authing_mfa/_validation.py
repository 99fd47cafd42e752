"""Checks on the caller's input, run before anything is sent.

Each check either returns the value in the form the wire needs or raises
`InvalidArgumentError` naming the argument and what was wrong, never quoting a secret.

Limits (documented in the README): a user id is 1 to `MAX_USER_ID_LENGTH` characters, not
only whitespace, without control, format (zero-width, bidirectional) or unpaired surrogate
characters, and not ``.`` or ``..``; a TOTP key at most `MAX_SECRET_LENGTH` characters; a
recovery code 1 to `MAX_RECOVERY_CODE_LENGTH` characters without control characters. Authing's
own ids are 24 hexadecimal digits and its keys a few dozen characters, so the limits only stop
what is surely a mistake (a whole file pasted as an id) before it is sent.
"""

from __future__ import annotations

__all__ = [
    "MAX_RECOVERY_CODE_LENGTH",
    "MAX_SECRET_LENGTH",
    "MAX_USER_ID_LENGTH",
    "check_mfa_type",
    "check_optional_text",
    "check_recovery_code",
    "check_totp_secret",
    "check_user_id",
    "user_id_path_segment",
]

import re
import unicodedata
from urllib.parse import quote

from ._errors import InvalidArgumentError
from ._models import MfaType

MAX_USER_ID_LENGTH = 512
MAX_SECRET_LENGTH = 1024
MAX_RECOVERY_CODE_LENGTH = 256

# C0 and C1 controls, DEL, and lone surrogates (which cannot be encoded as UTF-8 at all).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Characters outside printable ASCII, checked further by their Unicode category.
_NOT_PLAIN = re.compile("[^\x20-\x7e]")
_BASE32 = re.compile("[A-Z2-7]+")
# An id that needs no check beyond this, and no percent-encoding: unreserved characters only,
# not "." or ".." (which a dot-free first character rules out), at most 512 of them.
_PLAIN_ID = re.compile("[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,511}")
# RFC 4648 base32 packs 5 bytes into 8 characters; these remainders cannot end a valid key.
_IMPOSSIBLE_BASE32_LENGTHS = frozenset({1, 3, 6})


def _require_str(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{argument} must be a str, not {type(value).__name__}")
    return value


def _check_length(value: str, argument: str, maximum: int) -> None:
    if len(value) > maximum:
        raise InvalidArgumentError(
            f"{argument} is {len(value)} characters long; at most {maximum} are accepted"
        )


def check_user_id(user_id: object, argument: str = "user_id") -> str:
    """Return *user_id* if it is a non-empty string an Authing path can carry, unchanged."""
    user_id = _require_str(user_id, argument)
    if not user_id:
        raise InvalidArgumentError(f"{argument} must not be empty")
    _check_length(user_id, argument, MAX_USER_ID_LENGTH)
    if (found := _CONTROL.search(user_id)) is not None:
        raise InvalidArgumentError(
            f"{argument} must not contain control characters "
            f"(found U+{ord(found.group()):04X} at index {found.start()})"
        )
    for found in _NOT_PLAIN.finditer(user_id):
        # Zero-width and bidirectional marks (category Cf) make two ids that look the same
        # differ, or one id display as another: never part of a real id.
        if unicodedata.category(found.group()) == "Cf":
            raise InvalidArgumentError(
                f"{argument} must not contain invisible formatting characters "
                f"(found U+{ord(found.group()):04X} at index {found.start()})"
            )
    if user_id.isspace():
        raise InvalidArgumentError(f"{argument} must not be only whitespace")
    if user_id in {".", ".."}:
        # URL normalisation would turn these into a step up the path, to another route.
        raise InvalidArgumentError(f"{argument} must not be {user_id!r}, a relative path step")
    return user_id


def user_id_path_segment(user_id: object, argument: str = "user_id") -> str:
    """Return *user_id*, checked, percent-encoded as exactly one path segment.

    ``"a/../b"`` becomes ``"a%2F..%2Fb"``: the server decodes it once, back to the id, and no
    route but the intended one is ever reached.
    """
    # Nearly every id (Authing's are 24 hex digits) is plain: valid and its own encoding.
    if type(user_id) is str and _PLAIN_ID.fullmatch(user_id) is not None:
        return user_id
    return quote(check_user_id(user_id, argument), safe="")


def check_mfa_type(mfa_type: object, argument: str = "mfa_type") -> MfaType:
    """Return *mfa_type* as an `MfaType`; strings are read by name, in any case."""
    if isinstance(mfa_type, MfaType):
        return mfa_type
    name = _require_str(mfa_type, argument)
    try:
        return MfaType[name.upper()]
    except KeyError:
        accepted = ", ".join(member.value for member in MfaType)
        shown = name if len(name) <= 32 else name[:32] + "..."  # noqa: PLR2004
        raise InvalidArgumentError(
            f"{argument} must be one of {accepted} (any case), not {shown!r}"
        ) from None


def check_totp_secret(secret: object, *, validate: bool = True, argument: str = "secret") -> str:
    """Return a TOTP key as it should be sent.

    With *validate* (the default) the key must be RFC 4648 base32: spaces are removed, lower
    case is raised, ``=`` padding is dropped, and anything else that is not base32 is refused,
    because Authing stores any string and a key that is not base32 locks its user out. Without
    it the key is only required to be a non-empty string without control characters, and is
    sent as given. Either way it may be at most `MAX_SECRET_LENGTH` characters.
    """
    secret = _require_str(secret, argument)
    _check_length(secret, argument, MAX_SECRET_LENGTH)
    if not validate:
        if not secret:
            raise InvalidArgumentError(f"{argument} must not be empty")
        if _CONTROL.search(secret):
            raise InvalidArgumentError(f"{argument} must not contain control characters")
        return secret
    normalised = "".join(secret.split()).upper().rstrip("=")
    if not normalised:
        raise InvalidArgumentError(f"{argument} must not be empty")
    if _BASE32.fullmatch(normalised) is None:
        raise InvalidArgumentError(
            f"{argument} is not base32: only the letters A-Z and digits 2-7 may appear "
            "(pass validate_secret=False to send a key as it is)"
        )
    if len(normalised) % 8 in _IMPOSSIBLE_BASE32_LENGTHS:
        raise InvalidArgumentError(
            f"{argument} is not base32: {len(normalised)} characters cannot encode whole bytes "
            "(pass validate_secret=False to send a key as it is)"
        )
    return normalised


def check_optional_text(value: object, argument: str) -> str | None:
    """Return *value* if it is ``None`` or a non-empty string."""
    if value is None:
        return None
    value = _require_str(value, argument)
    if not value:
        raise InvalidArgumentError(f"{argument} must not be empty; leave it out instead")
    return value


def check_recovery_code(value: object, argument: str = "recovery_code") -> str | None:
    """Return a recovery code as it will be sent: ``None``, or 1 to 256 printable characters.

    A line break or NUL in a code is never what the user types to log in; it is refused, not
    sent, and the message does not quote the code.
    """
    code = check_optional_text(value, argument)
    if code is None:
        return None
    _check_length(code, argument, MAX_RECOVERY_CODE_LENGTH)
    if _CONTROL.search(code):
        raise InvalidArgumentError(f"{argument} must not contain control characters")
    return code
