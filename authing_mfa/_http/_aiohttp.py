"""The aiohttp stack: the default under asyncio, for its speed under concurrency (see `_http`)."""

from __future__ import annotations

__all__ = ["AiohttpStack"]

import asyncio
import urllib.request
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx
from yarl import URL

from authing_mfa._errors import ConnectionError, TimeoutError, TransportError  # noqa: A004
from authing_mfa._settings import Settings

from ._interface import Reply


class AiohttpReply:
    """A whole answer read from aiohttp, in the shape the envelope reader takes."""

    __slots__ = ("content", "headers", "reason_phrase", "status_code")

    def __init__(
        self, status: int, headers: Mapping[str, str], content: bytes, reason: str | None
    ) -> None:
        self.status_code = status
        self.headers = headers
        self.content = content
        self.reason_phrase = reason or ""

    @property
    def is_redirect(self) -> bool:
        """Whether the status is a redirect with a Location."""
        return 300 <= self.status_code < 400 and "location" in self.headers  # noqa: PLR2004


class AiohttpStack:
    """Sends through one `aiohttp.ClientSession`, opened on first use in the running loop.

    The session verifies TLS with the same certificates httpx would use, keeps at most
    ``limits.max_connections`` connections, never follows redirects and never decompresses
    behind our back (the API answers small JSON).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._proxy = _env_proxy_for(settings.host)

    def _open(self) -> aiohttp.ClientSession:
        limits = self._settings.limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=limits.keepalive_expiry or 5.0,
            ssl=httpx.create_ssl_context(),
        )
        # Not trust_env=True: aiohttp then looks up proxies and ~/.netrc in a worker thread on
        # every request (two thread hops, tripling the time of a call on loopback), and a
        # netrc entry for the host clashes with our authorization header. The proxy the
        # environment names for the host is looked up once instead, as httpx does.
        self._session = aiohttp.ClientSession(
            connector=connector, skip_auto_headers=("User-Agent",), trust_env=False
        )
        return self._session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        # Most attempts use the configured timeout: build its object once.
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=None, connect=seconds, sock_connect=seconds, sock_read=seconds
            )
            if len(self._timeouts) < 8:  # noqa: PLR2004 - a handful of distinct budgets
                self._timeouts[seconds] = timeout
        return timeout

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> Reply:
        """Send a request through aiohttp; see `HttpStack.send`."""
        session = self._session or self._open()
        options: dict[str, Any] = {
            "headers": headers,
            "data": body,
            "timeout": self._timeout(timeout),
            "allow_redirects": False,
            "proxy": self._proxy,
        }
        try:
            # encoded=True: the path is already percent-encoded and must reach the server
            # exactly so (yarl would otherwise re-quote it).
            async with session.request(method, URL(url, encoded=True), **options) as response:
                content = await response.read()
                return AiohttpReply(response.status, response.headers, content, response.reason)
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            where = f"{method} {URL(url, encoded=True).raw_path_qs}"
            raise TimeoutError(
                f"{where}: no answer within {timeout:.3g} s (aiohttp.{type(exc).__name__})"
            ) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ConnectionError(_describe(method, url, exc)) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(_describe(method, url, exc)) from exc

    async def aclose(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _env_proxy_for(host: str) -> str | None:
    """Return the proxy ``HTTPS_PROXY``/``HTTP_PROXY`` name for *host*, unless ``NO_PROXY``."""
    url = URL(host)
    if url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    return urllib.request.getproxies().get(url.scheme)


def _describe(method: str, url: str, exc: Exception) -> str:
    # aiohttp's messages name the host and the socket error, never headers or bodies.
    where = f"{method} {URL(url, encoded=True).raw_path_qs}"
    return f"{where}: aiohttp.{type(exc).__name__}: {exc or 'no detail'}"
