"""Reading ``otpauth://totp/...`` URIs, the form authenticator apps export and QR codes carry.

The ``secret`` parameter is taken, and the URI is refused when it names an algorithm, a digit
count or a period other than Authing's (SHA1, 6 digits, 30 s), because such a key would produce
codes Authing never accepts and lock its user out.

The whole URI is a secret: a malformed one may hold its key anywhere (``otpauth://KEY``,
``otpauth://totp:KEY@issuer/``, ``algorithm=KEY``). So a refusal never quotes any part of it:
it names the reason from a fixed vocabulary (the known type ``hotp``, the known values of each
parameter), and anything else is "unsupported".
"""

from __future__ import annotations

__all__ = ["is_otpauth_uri", "secret_of_otpauth"]

from typing import TypeGuard
from urllib.parse import parse_qs

from ._errors import InvalidArgumentError

_SCHEME = "otpauth://"
# What Authing's TOTP computes codes with; a key meant for anything else would never match.
_AUTHING_TOTP = {"algorithm": "SHA1", "digits": "6", "period": "30"}
# The values a message may name: those authenticator apps use. Any other value is unsupported,
# and is not quoted, since it may be (part of) the key.
_NAMEABLE = {
    "algorithm": frozenset({"SHA1", "SHA256", "SHA512"}),
    "digits": frozenset({"6", "8"}),
    "period": frozenset({"30", "60"}),
}


def is_otpauth_uri(value: object) -> TypeGuard[str]:
    """Whether *value* is a string in the ``otpauth://`` scheme (in any case)."""
    return isinstance(value, str) and value[: len(_SCHEME)].lower() == _SCHEME


def secret_of_otpauth(uri: str, argument: str) -> str:
    """Return the ``secret`` parameter of the otpauth URI *uri*, given as *argument*.

    The URI is split by hand rather than by `urllib.parse.urlsplit`, which reads ``totp:KEY@``
    as credentials and raises on a stray ``[``: here whatever comes before the first ``/``,
    ``?`` or ``#`` is the type, and it must be ``totp``.

    Raises:
        InvalidArgumentError: the URI is not a TOTP key Authing can use; the message names
            *argument* and the reason, and quotes nothing of *uri*.
    """
    rest = uri[len(_SCHEME) :]
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    kind = rest[:end].lower()
    if kind != "totp":
        what = "of type hotp" if kind == "hotp" else "without a type" if not kind else None
        raise InvalidArgumentError(
            f"{argument} is an otpauth URI {what or 'of an unsupported type'}; only totp keys "
            "can be imported (otpauth://totp/...)"
        )
    before_fragment = rest[end:].split("#", 1)[0]
    query = before_fragment.split("?", 1)[1] if "?" in before_fragment else ""
    params: dict[str, list[str]] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        params.setdefault(name.lower(), []).extend(values)
    for name, expected in _AUTHING_TOTP.items():
        for raw in params.get(name, ()):
            value = raw.strip().upper()
            if value == expected:
                continue
            found = f"{name}={value}" if value in _NAMEABLE[name] else f"an unsupported {name}"
            raise InvalidArgumentError(
                f"{argument} is an otpauth URI with {found}, but Authing's TOTP uses "
                f"{name}={expected}: the key would not produce codes Authing accepts"
            )
    secrets = params.get("secret")
    if not secrets or not secrets[-1]:
        raise InvalidArgumentError(f"{argument} is an otpauth URI without a secret parameter")
    return secrets[-1]
