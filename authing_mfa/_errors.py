"""The exceptions `authing_mfa` raises, all under one root.

```
AuthingMfaError
├── InvalidArgumentError (also a ValueError)   bad input, raised before anything is sent
├── ApiError                                    the server answered with an error
│   ├── AuthenticationError                     credentials or token refused (401, 2020...)
│   ├── PermissionDeniedError                   403, code 1001
│   ├── NotFoundError                           code 2004 (user), 2036 (user not in this pool)
│   ├── RateLimitError                          429, with .retry_after
│   └── ServerError                             HTTP 5xx
├── TransportError                              no usable answer reached us
│   ├── ConnectionError                         refused, reset, dropped, or HTTP broken
│   └── TimeoutError                            an attempt or the whole call ran out of time
└── ResponseValidationError                     a 2xx answer whose body is not what the API sends
```

No error's `str` or `repr` carries a secret or token: messages are built from the server's
code and message, HTTP status, request id and the names (never the values) of bad fields.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AuthenticationError",
    "AuthingMfaError",
    "ConnectionError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "TimeoutError",
    "TransportError",
]


class AuthingMfaError(Exception):
    """The root of every exception this package raises."""


class InvalidArgumentError(AuthingMfaError, ValueError):
    """An argument was refused before any request was sent.

    The message names the argument and says what was wrong with it, never its value when that
    value could be a secret.
    """


class ApiError(AuthingMfaError):
    """Authing answered, and the answer is an error.

    Attributes:
        code: Authing's business code (``2004``...), or the HTTP status when the answer carried
            no envelope (a gateway's HTML page, a bare 429).
        message: the server's message, as sent.
        http_status: the HTTP status of the answer.
        request_id: the id the server gave the request, for Authing's support, when it sent one.
        retry_after: the wait, in seconds, the answer's ``Retry-After`` header asked for
            (429s and 503s carry one), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int,
        http_status: int,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"HTTP {self.http_status}"
        if self.request_id:
            where += f", request id {self.request_id}"
        return f"[{self.code}] {self.message} ({where})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"http_status={self.http_status!r}, request_id={self.request_id!r}, "
            f"retry_after={self.retry_after!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only __init__ arguments would be lost by the default pickling, which
        # multiprocessing and Celery rely on to carry errors across processes.
        return (
            _rebuild,
            (type(self), self.message, self.code, self.http_status),
            self.__dict__,
        )


def _rebuild(cls: type[ApiError], message: str, code: int, http_status: int) -> ApiError:
    return cls(message, code=code, http_status=http_status)


class AuthenticationError(ApiError):
    """The user pool's credentials or the management token were refused.

    Raised for GraphQL errors on the token request, HTTP 401 and code 2020 once the client has
    already fetched a fresh token and replayed the call (or cannot, with a static
    ``access_token``).
    """


class PermissionDeniedError(ApiError):
    """The credentials are valid but may not do this (HTTP 403, code 1001)."""


class NotFoundError(ApiError):
    """The user does not exist in this user pool (code 2004 or 2036)."""


class RateLimitError(ApiError):
    """Authing or a gateway asked us to slow down (HTTP 429).

    Raised once the retries are spent, or at once when the server asks for a wait longer than
    the client's ``max_retry_wait``.

    Its `retry_after` is the wait the server asked for, or ``None`` if it named none.
    """


class ServerError(ApiError):
    """The server or a gateway in front of it failed (HTTP 5xx), after the retries."""


class TransportError(AuthingMfaError):
    """No usable HTTP answer reached us: the request could not be sent or was cut off."""


class ConnectionError(TransportError):  # noqa: A001 - the name the API promises
    """The connection failed, or the answer broke HTTP; retried.

    Refused, reset or closed before an answer arrived, or an answer with a malformed status
    line or header, a bad length, a truncated body or bad compression.
    """


class TimeoutError(TransportError):  # noqa: A001 - the name the API promises
    """An attempt, or the whole call with its retries, ran out of time."""


class ResponseValidationError(AuthingMfaError):
    """A successful answer's body is not what the API sends.

    The message names the field that was missing or of the wrong type, never its value.
    """
