"""A client's settings: every argument, read with the environment, checked once, in one place.

Both clients take the same keyword arguments through `Configured`, whose constructor resolves
them into one frozen `Settings`: unset credentials and host come from the environment, every
value is checked, and the retry policy and the hooks are built. A misconfigured client fails at
construction with a message naming the argument (and the variable), never on first use; and
whatever is built from a client later (the sync client's after ``fork()``) is built from its
`Settings`, not from a copy of the arguments.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_HOST",
    "ENV_HOST",
    "ENV_HTTP_BACKEND",
    "ENV_SECRET",
    "ENV_USER_POOL_ID",
    "Configured",
    "Settings",
]

import math
import os
import re
from collections.abc import Callable
from typing import TypeVar

import attrs
import httpx

from ._errors import InvalidArgumentError
from ._hooks import Hooks, RequestEvent, ResponseEvent
from ._retry import RetryPolicy
from ._version import __version__

DEFAULT_HOST = "https://core.authing.cn"
ENV_USER_POOL_ID = "AUTHING_USERPOOL_ID"
ENV_SECRET = "AUTHING_USERPOOL_SECRET"  # noqa: S105 - a variable's name, not a secret
ENV_HOST = "AUTHING_HOST"
ENV_HTTP_BACKEND = "AUTHING_HTTP_BACKEND"
HTTP_BACKENDS = ("auto", "httpx", "aiohttp")
SDK_VERSION_HEADER = f"python-authing-mfa:{__version__}"
USER_AGENT = f"authing-mfa-python/{__version__}"
# What an HTTP header value may not carry: controls (line breaks forge headers) and non-ASCII.
_NOT_HEADER_TEXT = re.compile("[^\x20-\x7e]")
_NOT_URL_TEXT = re.compile("[^\x21-\x7e]")

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Settings:
    """What one client was configured with, checked; secrets are left out of ``repr``."""

    user_pool_id: str
    secret: str | None = attrs.field(repr=False)
    access_token: str | None = attrs.field(repr=False)
    host: str
    app_id: str | None
    tenant_id: str | None
    lang: str
    retry: RetryPolicy
    limits: httpx.Limits
    transport: httpx.AsyncBaseTransport | None
    http_client: httpx.AsyncClient | None
    http_backend: str
    hooks: Hooks | None

    @classmethod
    def resolve(
        cls,
        *,
        user_pool_id: str | None,
        secret: str | None,
        host: str | None,
        access_token: str | None,
        app_id: str | None,
        tenant_id: str | None,
        lang: str,
        timeout: float,
        total_timeout: float,
        max_retries: int,
        max_retry_wait: float,
        wait_initial: float,
        wait_max: float,
        limits: httpx.Limits | None,
        transport: httpx.AsyncBaseTransport | None,
        http_client: httpx.AsyncClient | None,
        http_backend: str | None,
        on_request: Callable[[RequestEvent], object] | None,
        on_response: Callable[[ResponseEvent], object] | None,
    ) -> Settings:
        """Fill unset values from the environment and check them all.

        Raises:
            InvalidArgumentError: a setting is missing, of the wrong type or out of range; the
                message names the argument.
        """
        user_pool_id = _text(user_pool_id, "user_pool_id") or os.environ.get(ENV_USER_POOL_ID)
        if not user_pool_id:
            raise InvalidArgumentError(
                f"user_pool_id is required: pass user_pool_id=... or set {ENV_USER_POOL_ID}"
            )
        access_token = _text(access_token, "access_token")
        secret = _text(secret, "secret")
        if access_token is None and secret is None:
            secret = os.environ.get(ENV_SECRET) or None
        if access_token is None and secret is None:
            raise InvalidArgumentError(
                "credentials are required: pass secret=... (the user pool secret), "
                f"set {ENV_SECRET}, or pass a ready access_token=..."
            )
        app_id, tenant_id = _text(app_id, "app_id"), _text(tenant_id, "tenant_id")
        lang = _text(lang, "lang") or "zh-CN"
        for argument, value in (
            (f"user_pool_id (or {ENV_USER_POOL_ID})", user_pool_id),
            ("access_token", access_token),
            ("app_id", app_id),
            ("tenant_id", tenant_id),
            ("lang", lang),
        ):
            # These travel in headers, where a line break would forge another header, and
            # which carry ASCII only: the HTTP stacks would each fail their own way.
            if value is not None and (found := _NOT_HEADER_TEXT.search(value)) is not None:
                kind = "control" if found.group() < "\x80" else "non-ASCII"
                raise InvalidArgumentError(
                    f"{argument} must not contain {kind} characters "
                    f"(found one at index {found.start()}): it is sent in an HTTP header"
                )
        return cls(
            user_pool_id=user_pool_id,
            secret=secret,
            access_token=access_token,
            host=_host(host),
            app_id=app_id,
            tenant_id=tenant_id,
            lang=lang,
            retry=RetryPolicy(
                max_retries=_count(max_retries, "max_retries"),
                timeout=_seconds(timeout, "timeout"),
                total_timeout=_seconds(total_timeout, "total_timeout"),
                max_retry_wait=_seconds(max_retry_wait, "max_retry_wait", zero=True),
                wait_initial=_seconds(wait_initial, "wait_initial", zero=True),
                wait_max=_seconds(wait_max, "wait_max", zero=True),
            ),
            limits=_instance(limits, httpx.Limits, "limits") or httpx.Limits(max_connections=100),
            transport=_instance(transport, httpx.AsyncBaseTransport, "transport"),
            http_client=_instance(http_client, httpx.AsyncClient, "http_client"),
            http_backend=_http_backend(http_backend, transport, http_client),
            hooks=Hooks.resolve(on_request, on_response),
        )

    def headers(self) -> dict[str, str]:
        """Return the headers every request carries, as Authing's SDKs send them, but the token."""
        headers = {
            "x-authing-userpool-id": self.user_pool_id,
            "x-authing-request-from": "sdk",
            "x-authing-sdk-version": SDK_VERSION_HEADER,
            "x-authing-lang": self.lang,
            "user-agent": USER_AGENT,
        }
        if self.app_id is not None:
            headers["x-authing-app-id"] = self.app_id
        if self.tenant_id is not None:
            headers["x-authing-app-tenant-id"] = self.tenant_id
        return headers


class Configured:
    """The constructor both clients share: it resolves every argument into `Settings`, once.

    Each argument is documented on `AsyncMfaClient`. A subclass finishes its own setup in
    `_start`, from ``self._settings``.
    """

    def __init__(
        self,
        *,
        user_pool_id: str | None = None,
        secret: str | None = None,
        host: str | None = None,
        access_token: str | None = None,
        app_id: str | None = None,
        tenant_id: str | None = None,
        lang: str = "zh-CN",
        timeout: float = 10.0,
        total_timeout: float = 60.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        wait_initial: float = 0.5,
        wait_max: float = 8.0,
        limits: httpx.Limits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        http_backend: str | None = None,
        on_request: Callable[[RequestEvent], object] | None = None,
        on_response: Callable[[ResponseEvent], object] | None = None,
    ) -> None:
        self._settings = Settings.resolve(
            user_pool_id=user_pool_id,
            secret=secret,
            host=host,
            access_token=access_token,
            app_id=app_id,
            tenant_id=tenant_id,
            lang=lang,
            timeout=timeout,
            total_timeout=total_timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            wait_initial=wait_initial,
            wait_max=wait_max,
            limits=limits,
            transport=transport,
            http_client=http_client,
            http_backend=http_backend,
            on_request=on_request,
            on_response=on_response,
        )
        self._start()

    def _start(self) -> None:
        """Build what the client needs from ``self._settings``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = self._settings
        return (
            f"<{type(self).__name__} user_pool_id={settings.user_pool_id!r} host={settings.host!r}>"
        )


def _text(value: object, argument: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{argument} must be a str, not {type(value).__name__}")
    return value or None


def _host(host: str | None) -> str:
    argument = "host" if host is not None else f"host (from {ENV_HOST})"
    host = (_text(host, "host") or os.environ.get(ENV_HOST) or DEFAULT_HOST).rstrip("/")
    try:
        url = httpx.URL(host)
    except httpx.InvalidURL:
        # httpx's message may quote the URL, which may hold a password: not repeated here.
        raise InvalidArgumentError(f"{argument} is not a valid URL") from None
    if url.userinfo:
        raise InvalidArgumentError(
            f"{argument} must not contain a user name or password: the client authenticates "
            "with the pool's secret, and a URL's credentials would show in logs"
        )
    if url.scheme not in {"http", "https"} or not url.host:
        raise InvalidArgumentError(
            f"{argument} must be an http(s) URL such as {DEFAULT_HOST}, not {host!r}"
        )
    if url.query or url.fragment or _NOT_URL_TEXT.search(host):
        raise InvalidArgumentError(
            f"{argument} must be a base URL without query, fragment, spaces or control "
            "characters (non-ASCII host names in their xn-- form)"
        )
    return host


def _http_backend(value: str | None, transport: object, http_client: object) -> str:
    argument = "http_backend"
    if value is None:
        value, argument = os.environ.get(ENV_HTTP_BACKEND) or "auto", ENV_HTTP_BACKEND
    if value not in HTTP_BACKENDS:
        shown = value if isinstance(value, str) else type(value).__name__
        raise InvalidArgumentError(
            f"{argument} must be one of {', '.join(HTTP_BACKENDS)}, not {shown!r}"
        )
    if value == "aiohttp" and (transport is not None or http_client is not None):
        raise InvalidArgumentError(
            f"{argument} is 'aiohttp', but transport and http_client are httpx's: "
            "give neither, or use 'httpx' or 'auto'"
        )
    return value


def _seconds(value: object, argument: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{argument} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise InvalidArgumentError(
            f"{argument} must be a positive number of seconds{' or 0' if zero else ''}"
        )
    return float(value)


def _count(value: object, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{argument} must be an int >= 0, not {value!r}")
    return value


def _instance(value: T | None, kind: type[T], argument: str) -> T | None:
    if value is not None and not isinstance(value, kind):
        raise InvalidArgumentError(
            f"{argument} must be an {kind.__module__}.{kind.__qualname__} or None, "
            f"not {type(value).__name__}"
        )
    return value
