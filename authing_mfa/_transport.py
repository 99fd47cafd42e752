"""The async core every call goes through: headers, token, retries, errors.

One `Transport` belongs to one `AsyncMfaClient`. It owns (or borrows) the `httpx.AsyncClient`,
puts the common headers and the management token on each request, replays a call once when
the server refuses the token, retries what may succeed later, and turns httpx's exceptions
and Authing's envelopes into ours.

The token replay is here rather than in an `httpx.Auth` flow: Authing refuses a token with
HTTP 200 and code 2020 in the body, which this module decodes once anyway; an auth flow would
have to decode every body a second time to see it.
"""

from __future__ import annotations

__all__ = ["Transport"]

from typing import Any

import httpx

from ._config import Settings
from ._envelope import decode, is_token_refusal
from ._errors import (
    AuthenticationError,
    ConnectionError,  # noqa: A004 - ours, not the builtin
    TimeoutError,  # noqa: A004
    TransportError,
)
from ._retry import RetryPolicy
from ._token import ACCESS_TOKEN_QUERY, ManagementTokens, StaticToken, TokenSource

TOKEN_PATH = "/graphql/v2"  # noqa: S105 - a path


class Transport:
    """Sends one API call with everything Authing and a flaky network require.

    Lifetime: the `httpx.AsyncClient` is created on first use (so a client can be built
    outside any event loop) and closed by `aclose` unless the caller supplied it. All tasks of
    one event loop may share a transport.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = settings
        self._retry = retry
        self._headers = settings.headers()
        self._base = settings.host
        self._httpx_transport = transport
        self._client = http_client
        self._owns_client = http_client is None
        self._closed = False
        self.tokens: TokenSource = (
            StaticToken(settings.access_token)
            if settings.access_token is not None
            else ManagementTokens(self._fetch_token)
        )

    @property
    def closed(self) -> bool:
        """Whether `aclose` was called."""
        return self._closed

    def _http(self) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("this client is closed; build a new one")
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._httpx_transport,
                limits=self._settings.limits,
                timeout=self._settings.timeout,
                # A redirect to another host would carry the bearer token there.
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        """Close the connection pool, unless the caller supplied the client."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, object] | None = None,
    ) -> Any:  # noqa: ANN401 - the envelope's data is any JSON
        """Make one API call, with retries, and return the envelope's ``data``.

        *path* must already be percent-encoded.
        """

        async def attempt(timeout: float) -> Any:  # noqa: ANN401
            token = await self.tokens.get(timeout)
            try:
                return await self._authorized(token, method, path, params, json, timeout)
            except AuthenticationError as exc:
                if not (is_token_refusal(exc) and self.tokens.refused(token)):
                    raise
            token = await self.tokens.get(timeout)
            return await self._authorized(token, method, path, params, json, timeout)

        return await self._retry.run(attempt, f"{method} {path}")

    async def _authorized(
        self,
        token: str,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json: dict[str, object] | None,
        timeout: float,
    ) -> Any:  # noqa: ANN401
        headers = {**self._headers, "authorization": f"Bearer {token}"}
        response = await self._send(method, path, headers, params, json, timeout)
        return decode(response)

    async def _fetch_token(self, timeout: float) -> httpx.Response:
        secret = self._settings.secret
        if secret is None:  # pragma: no cover - a static token source never fetches
            raise RuntimeError("no secret to fetch a token with")
        variables = {"userPoolId": self._settings.user_pool_id, "secret": secret}
        return await self._send(
            "POST",
            TOKEN_PATH,
            self._headers,
            None,
            {"query": ACCESS_TOKEN_QUERY, "variables": variables},
            timeout,
        )

    async def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        params: dict[str, str] | None,
        json: dict[str, object] | None,
        timeout: float,
    ) -> httpx.Response:
        try:
            return await self._http().request(
                method,
                self._base + path,
                headers=headers,
                params=params,
                json=json,
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(
                f"{method} {path}: no answer within {timeout:.3g} s ({_name(exc)})"
            ) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise ConnectionError(f"{method} {path}: {_name(exc)}: {_describe(exc)}") from exc
        except httpx.TransportError as exc:
            raise TransportError(f"{method} {path}: {_name(exc)}: {_describe(exc)}") from exc


def _name(exc: Exception) -> str:
    return f"httpx.{type(exc).__name__}"


def _describe(exc: Exception) -> str:
    # httpx's messages name the host and the socket error, never headers or bodies.
    return str(exc) or "no detail"
