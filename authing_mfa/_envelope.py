"""Reading Authing's answers: envelopes, the token query's answer, errors from statuses.

REST answers are ``{code, message, data}`` envelopes; the token query answers GraphQL.
Business errors mostly arrive as HTTP 200 with ``code != 200``; gateways answer 429 and 5xx
with any body, HTML included. This module turns each answer into its ``data`` or into the
right exception from `_errors`, keeping the code, message, HTTP status and request id.
"""

from __future__ import annotations

__all__ = ["decode", "decode_token_answer", "error_for", "is_token_refusal", "request_id_of"]

import json
import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from ._errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from ._protocol import (
    NO_PERMISSION,
    POOL_NOT_FOUND,
    SUCCESS,
    TOKEN_REFUSED,
    USER_NOT_FOUND,
    USER_NOT_IN_POOL,
)
from ._retry import RETRYABLE_STATUSES

if TYPE_CHECKING:
    from ._http import Reply

_BY_CODE: dict[int, type[ApiError]] = {
    TOKEN_REFUSED: AuthenticationError,
    POOL_NOT_FOUND: AuthenticationError,  # the pool id the client sends is wrong
    NO_PERMISSION: PermissionDeniedError,
    USER_NOT_FOUND: NotFoundError,
    USER_NOT_IN_POOL: NotFoundError,  # the user exists, but not in this user pool
}

_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    429: RateLimitError,
}

_JSON = json.JSONDecoder()
_REQUEST_ID_HEADERS = ("x-request-id", "x-authing-request-id", "request-id")
_REDIRECTS = range(300, 400)
# The longest Location a message quotes.
_MAX_SHOWN = 200
# A token travels in a header: visible ASCII only (a JWT is base64url and dots).
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")


def request_id_of(response: Reply) -> str | None:
    """Return the id the server gave this request, if it sent one."""
    headers = response.headers
    for name in _REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value is not None:
            return value
    return None


def decode(response: Reply) -> Any:  # noqa: ANN401 - the envelope's data is any JSON
    """Return the ``data`` of a successful envelope, or raise the error the answer means.

    The status is read first: a 3xx is a redirect, never followed, whatever its body; a
    retryable status (`RETRYABLE_STATUSES`) raises the error that status means, whatever the
    body (a gateway's JSON looks like anything). Only then is the body an envelope.

    Raises:
        ApiError: or the subclass for the status (3xx, 408, 429, 5xx), or for the code.
        ResponseValidationError: a 2xx answer that is not an envelope.
    """
    status = response.status_code
    if _REDIRECTS.start <= status < _REDIRECTS.stop:
        raise _redirect_error(response)
    body = _json_or_none(response.content)
    if status in RETRYABLE_STATUSES:
        raise _status_error(response, body)
    code = body.get("code") if isinstance(body, dict) else None
    if type(code) is int:
        if code == SUCCESS and status < _REDIRECTS.start:
            return body.get("data")
        raise _error_answer(response, body)
    if status >= _REDIRECTS.stop:
        raise _error_answer(response, body)
    raise ResponseValidationError(
        f"the server's answer (HTTP {status}, "
        f"{response.headers.get('content-type', 'no content-type')[:80]}) "
        "is not an Authing envelope"
    )


def _redirect_error(response: Reply) -> ApiError:
    """Build the error for any 3xx: following it would carry the bearer token where it points."""
    status = response.status_code
    location = response.headers.get("location")
    if location:
        shown = location if len(location) <= _MAX_SHOWN else location[:_MAX_SHOWN] + "..."
        what = f"the server redirected to {shown!r} (HTTP {status})"
    else:
        what = f"the server answered HTTP {status} {response.reason_phrase}".rstrip()
        what += " with no Location,"
    return ApiError(
        f"{what} and redirects are not followed; check the client's host (http:// or https://?)",
        code=status,
        http_status=status,
        request_id=request_id_of(response),
    )


def _error_answer(response: Reply, body: object) -> ApiError:
    """Build the error an answer means by its envelope's code, or by its status without one."""
    if isinstance(body, dict) and type(code := body.get("code")) is int:
        message = body.get("message")
        return error_for(response, code, message if isinstance(message, str) else "")
    status = response.status_code
    return error_for(response, status, response.reason_phrase or f"HTTP {status}")


def _status_error(response: Reply, body: object) -> ApiError:
    """Build the error a status means by itself (429, 5xx...), keeping a body's code and message."""
    status = response.status_code
    code, message = status, response.reason_phrase or f"HTTP {status}"
    if isinstance(body, dict):
        if type(body.get("code")) is int:
            code = body["code"]
        if isinstance(body.get("message"), str):
            message = body["message"]
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)  # noqa: PLR2004
    return cls(
        message,
        code=code,
        http_status=status,
        request_id=request_id_of(response),
        retry_after=_retry_after(response.headers.get("retry-after")),
    )


def error_for(response: Reply, code: int, message: str) -> ApiError:
    """Build the exception for an error *code* and *message* in *response*."""
    status = response.status_code
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError  # noqa: PLR2004
    return cls(
        message,
        code=code,
        http_status=status,
        request_id=request_id_of(response),
        retry_after=_retry_after(response.headers.get("retry-after")),
    )


def is_token_refusal(error: ApiError) -> bool:
    """Whether *error* says the management token was refused (HTTP 401 or code 2020)."""
    return error.code == TOKEN_REFUSED or error.http_status == 401  # noqa: PLR2004


def _json_or_none(content: bytes) -> Any:  # noqa: ANN401
    try:
        # UTF-8, as RFC 8259 requires; decoding first skips json.loads' guess at the encoding.
        text = content.decode()
        # A body that is one JSON value and nothing else, as a server sends it, skips the two
        # whitespace scans around it; anything else gets the full rules of json.loads.
        try:
            value, end = _JSON.raw_decode(text)
        except ValueError:
            pass
        else:
            if end == len(text):
                return value
        return _JSON.decode(text)
    # JSONDecodeError and UnicodeDecodeError alike, and arrays nested past the stack's depth.
    except (ValueError, RecursionError):
        return None


def _retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds):
        return None
    return max(seconds, 0.0)


def decode_token_answer(response: Reply) -> tuple[str, float]:
    """Read the ``accessToken`` query's answer: the token and its lifetime in seconds.

    The status is read first, as for REST answers (`decode`): a 3xx is a redirect, a
    retryable status (429, 503...) raises its error whatever the body, so the retry loop
    retries it. Then GraphQL ``errors`` mean the credentials were refused; then any other
    error status is read as a REST answer would be.

    Raises:
        ApiError: a redirect, or an error status: `RateLimitError` for 429, `ServerError` for
            5xx, `ApiError` for 408...
        AuthenticationError: the answer carries GraphQL ``errors`` (the credentials were
            refused), with the first error's code and message.
        ResponseValidationError: a 2xx answer that is neither a token nor an error.
    """
    status = response.status_code
    if _REDIRECTS.start <= status < _REDIRECTS.stop:
        raise _redirect_error(response)
    body = _json_or_none(response.content)
    if status in RETRYABLE_STATUSES:
        raise _status_error(response, body)
    if isinstance(body, dict) and body.get("errors"):
        raise _graphql_error(response, body["errors"])
    if status >= _REDIRECTS.stop:
        raise _error_answer(response, body)
    if not isinstance(body, dict):
        raise ResponseValidationError("the token answer is not a JSON object")
    return _token_in(body)


def _token_in(body: dict[str, Any]) -> tuple[str, float]:
    """Return the token and its lifetime from a token answer's body, checking every field."""
    data = body.get("data")
    answer = data.get("accessToken") if isinstance(data, dict) else None
    if not isinstance(answer, dict):
        raise ResponseValidationError("the token answer has no data.accessToken object")
    value, exp, iat = answer.get("accessToken"), answer.get("exp"), answer.get("iat")
    if not isinstance(value, str) or not value:
        raise ResponseValidationError("the token answer's accessToken is not a string")
    if not _TOKEN_TEXT.fullmatch(value):
        raise ResponseValidationError(
            "the token answer's accessToken holds characters a header cannot carry"
        )
    for name, field in (("exp", exp), ("iat", iat)):
        if isinstance(field, bool) or not isinstance(field, (int, float)):
            raise ResponseValidationError(f"the token answer's {name} is not a number")
    lifetime = float(exp) - float(iat)  # type: ignore[arg-type]
    if not math.isfinite(lifetime) or lifetime <= 0:
        raise ResponseValidationError("the token answer's exp is not a finite time after its iat")
    return value, lifetime


def _graphql_error(response: Reply, errors: object) -> AuthenticationError:
    first = errors[0] if isinstance(errors, list) and errors else errors
    detail = first.get("message") if isinstance(first, dict) else None
    code, message = response.status_code, "the user pool id or secret was refused"
    if isinstance(detail, dict):
        if type(detail.get("code")) is int:
            code = detail["code"]
        if isinstance(detail.get("message"), str):
            message = detail["message"]
    elif isinstance(detail, str):
        message = detail
    return AuthenticationError(
        message, code=code, http_status=response.status_code, request_id=request_id_of(response)
    )
