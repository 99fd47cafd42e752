"""A client's settings: read from the arguments and the environment, checked once.

Every setting is resolved and checked here, when a client is built, so a misconfigured client
fails at construction with a message naming the argument and the variable, not on first use.
"""

from __future__ import annotations

__all__ = ["DEFAULT_HOST", "ENV_HOST", "ENV_SECRET", "ENV_USER_POOL_ID", "Settings"]

import math
import os
import re

import attrs
import httpx

from ._errors import InvalidArgumentError
from ._version import __version__

DEFAULT_HOST = "https://core.authing.cn"
ENV_USER_POOL_ID = "AUTHING_USERPOOL_ID"
ENV_SECRET = "AUTHING_USERPOOL_SECRET"  # noqa: S105 - a variable's name, not a secret
ENV_HOST = "AUTHING_HOST"
SDK_VERSION_HEADER = f"python-authing-mfa:{__version__}"
USER_AGENT = f"authing-mfa-python/{__version__}"
_CONTROL = re.compile("[\x00-\x1f\x7f]")


@attrs.frozen(kw_only=True)
class Settings:
    """What one client was configured with; secrets are left out of ``repr``."""

    user_pool_id: str
    secret: str | None = attrs.field(repr=False)
    access_token: str | None = attrs.field(repr=False)
    host: str
    app_id: str | None
    tenant_id: str | None
    lang: str
    timeout: float
    total_timeout: float
    max_retries: int
    max_retry_wait: float
    limits: httpx.Limits

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
        limits: httpx.Limits | None,
    ) -> Settings:
        """Fill unset values from the environment and check them all.

        Raises:
            InvalidArgumentError: a setting is missing or out of range.
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
        host = (_text(host, "host") or os.environ.get(ENV_HOST) or DEFAULT_HOST).rstrip("/")
        try:
            url = httpx.URL(host)
        except httpx.InvalidURL as exc:
            raise InvalidArgumentError(f"host is not a valid URL: {exc}") from None
        if url.scheme not in {"http", "https"} or not url.host:
            raise InvalidArgumentError(
                f"host must be an http(s) URL such as {DEFAULT_HOST}, not {host!r}"
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
            # These travel in headers, where a line break would forge another header.
            if value is not None and _CONTROL.search(value):
                raise InvalidArgumentError(f"{argument} must not contain control characters")
        return cls(
            user_pool_id=user_pool_id,
            secret=secret,
            access_token=access_token,
            host=host,
            app_id=app_id,
            tenant_id=tenant_id,
            lang=lang,
            timeout=_positive(timeout, "timeout"),
            total_timeout=_positive(total_timeout, "total_timeout"),
            max_retries=_count(max_retries, "max_retries"),
            max_retry_wait=_positive(max_retry_wait, "max_retry_wait", zero=True),
            limits=limits if limits is not None else httpx.Limits(max_connections=100),
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


def _text(value: object, argument: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{argument} must be a str, not {type(value).__name__}")
    return value or None


def _positive(value: object, argument: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{argument} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise InvalidArgumentError(f"{argument} must be a positive number of seconds")
    return float(value)


def _count(value: object, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{argument} must be an int >= 0, not {value!r}")
    return value
