"""The httpx stack: for trio, and for callers who bring an httpx transport or client."""

from __future__ import annotations

__all__ = ["HttpxStack"]

from collections.abc import Mapping

import httpx

from authing_mfa._errors import ConnectionError, TimeoutError, TransportError  # noqa: A004
from authing_mfa._settings import Settings

from ._interface import Reply


class HttpxStack:
    """Sends through an `httpx.AsyncClient`: ours (closed by `aclose`) or the caller's."""

    def __init__(self, settings: Settings) -> None:
        self._owned = settings.http_client is None
        self._client = settings.http_client or httpx.AsyncClient(
            transport=settings.transport,
            limits=settings.limits,
            timeout=settings.retry.timeout,
            # A redirect to another host would carry the bearer token there.
            follow_redirects=False,
        )

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> Reply:
        """Send a request through httpx; see `HttpStack.send`."""
        try:
            return await self._client.request(
                method,
                url,
                headers=headers,
                content=body,
                timeout=timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(_describe(method, url, exc, timeout)) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise ConnectionError(_describe(method, url, exc, timeout)) from exc
        except httpx.TransportError as exc:
            raise TransportError(_describe(method, url, exc, timeout)) from exc

    async def aclose(self) -> None:
        """Close our client; a caller's stays open."""
        if self._owned:
            await self._client.aclose()


def _describe(method: str, url: str, exc: Exception, timeout: float) -> str:
    where = f"{method} {httpx.URL(url).raw_path.decode()}"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where}: no answer within {timeout:.3g} s (httpx.{type(exc).__name__})"
    # httpx's messages name the host and the socket error, never headers or bodies.
    return f"{where}: httpx.{type(exc).__name__}: {exc or 'no detail'}"
