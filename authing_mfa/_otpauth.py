"""Reading ``otpauth://totp/...`` URIs, the form authenticator apps export and QR codes carry.

The ``secret`` parameter is taken, and the URI is refused when it names an algorithm, a digit
count or a period other than Authing's (SHA1, 6 digits, 30 s), because such a key would produce
codes Authing never accepts and lock its user out.
"""

from __future__ import annotations

__all__ = ["is_otpauth_uri", "secret_of_otpauth"]

from typing import TypeGuard
from urllib.parse import parse_qs, urlsplit

from ._errors import InvalidArgumentError

# What Authing's TOTP computes codes with; a key meant for anything else would never match.
_AUTHING_TOTP = {"algorithm": "SHA1", "digits": "6", "period": "30"}


def is_otpauth_uri(value: object) -> TypeGuard[str]:
    """Whether *value* is a string in the ``otpauth://`` scheme (in any case)."""
    return isinstance(value, str) and value[:10].lower() == "otpauth://"


def secret_of_otpauth(uri: str, argument: str) -> str:
    """Return the ``secret`` parameter of the otpauth URI *uri*, given as *argument*.

    Raises:
        InvalidArgumentError: the URI is not a TOTP key Authing can use; the message names
            *argument* and the reason.
    """
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
