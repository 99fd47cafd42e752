"""The one converter between the API's JSON and our records.

The server's camelCase names, its ISO timestamps and its tolerance rules live here, so the
models stay plain data. Unknown keys are ignored, so an old client survives a new server; a
missing or mistyped field raises `ResponseValidationError` naming the field, never its value.
"""

from __future__ import annotations

__all__ = ["structure"]

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import cattrs
from cattrs.gen import make_dict_structure_fn, override

from ._errors import ResponseValidationError
from ._models import MfaStatus, TotpAuthenticator

T = TypeVar("T")

_converter = cattrs.Converter(forbid_extra_keys=False)


def _strict(kind: type[T]) -> None:
    # cattrs' default hooks coerce (bool("no") is True, str(5) is "5"); a malformed answer
    # must fail loudly instead of becoming a plausible record.
    def hook(value: object, _: type[T]) -> T:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    _converter.register_structure_hook(kind, hook)


for _kind in (str, bool):
    _strict(_kind)


def _structure_datetime(value: object, _: type[datetime]) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    # fromisoformat() reads a trailing "Z" only from Python 3.11 on.
    parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_converter.register_structure_hook(datetime, _structure_datetime)


def _structure_status(value: object, _: type[MfaStatus]) -> MfaStatus:
    # type() first: JSON objects are dicts, and isinstance against an ABC is slow.
    if type(value) is not dict and not isinstance(value, Mapping):
        raise TypeError(f"expected an object of factors, got {type(value).__name__}")
    for name, bound in value.items():
        if type(bound) is not bool:
            raise TypeError(f"factor {name!r}: expected bool, got {type(bound).__name__}")
    return MfaStatus(value)


_converter.register_structure_hook(MfaStatus, _structure_status)

_WIRE_NAMES = {
    "user_id": "userId",
    "authenticator_type": "authenticatorType",
    "recovery_code": "recoveryCode",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
}

_structure_totp = make_dict_structure_fn(
    TotpAuthenticator,
    _converter,
    **{name: override(rename=wire) for name, wire in _WIRE_NAMES.items()},  # type: ignore[arg-type]
)


def _structure_authenticator(value: object, cls: type[TotpAuthenticator]) -> TotpAuthenticator:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return _structure_totp(value, cls)


_converter.register_structure_hook(TotpAuthenticator, _structure_authenticator)


def structure(data: Any, cls: type[T]) -> T:  # noqa: ANN401 - any JSON value
    """Build a *cls* from the ``data`` of an answer's envelope.

    Raises:
        ResponseValidationError: a field is missing or of the wrong type; the message names
            every such field by its wire name and says what was expected.
    """
    try:
        if cls is MfaStatus:  # read on every get_status: straight to its hook
            return _structure_status(data, cls)  # type: ignore[arg-type, return-value]
        return _converter.structure(data, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        problem = _describe(exc, cls)
    # Raised outside the except block: inside it, even "from None" would keep the parser's
    # error as __context__, and that error quotes the value, which may be a TOTP key.
    raise ResponseValidationError(problem)


def _describe(exc: Exception, cls: type[Any]) -> str:
    if isinstance(exc, cattrs.ClassValidationError):
        problems = "; ".join(
            f"{_WIRE_NAMES.get(note.name, note.name)}: {_problem(cause)}"
            for cause, note in exc.group_exceptions()[0]
        )
    else:
        problems = _problem(exc)
    return f"the server's answer is not a valid {cls.__name__}: {problems}"


def _problem(exc: BaseException) -> str:
    # Never str(exc) for errors raised by parsers: theirs quote the offending value.
    if isinstance(exc, KeyError):
        return "missing"
    if isinstance(exc, TypeError):
        return str(exc)
    return "not a valid value"
