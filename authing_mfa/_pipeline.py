"""The request pipeline every call goes through: headers, token, retries, hooks, errors.

One `Pipeline` serves one client. It opens the HTTP stack (`_http`) on first use, puts the
common headers and the management token on each request, replays a call once when the server
refuses the token, retries what may succeed later (`_retry`), reports each request to the
client's hooks, and turns Authing's envelopes into data or our exceptions (`_envelope`).

The token replay is here rather than in an `httpx.Auth` flow: Authing refuses a token with
HTTP 200 and code 2020 in the body, which this module decodes once anyway; an auth flow would
have to decode every body a second time to see it.
"""

from __future__ import annotations

__all__ = ["Pipeline"]

import time
from collections.abc import Awaitable, Callable
from json import dumps
from typing import Any
from urllib.parse import urlencode

from ._envelope import decode, is_token_refusal, request_id_of
from ._errors import AuthenticationError
from ._hooks import RequestEvent, ResponseEvent, current_attempt
from ._http import HttpStack, Reply, open_stack
from ._protocol import ACCESS_TOKEN_QUERY, TOKEN_PATH
from ._settings import Settings
from ._token import ManagementTokens, StaticToken, TokenSource

_Send = Callable[
    [str, str, dict[str, str], dict[str, str] | None, dict[str, object] | None, float],
    Awaitable[Reply],
]


class Pipeline:
    """Sends one API call with everything Authing and a flaky network require.

    Lifetime: the HTTP stack is opened on first use (so a client can be built outside any
    event loop) and closed by `aclose`, except a caller-supplied `httpx.AsyncClient`. All tasks
    of one event loop may share a pipeline.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._retry = settings.retry
        self._headers = settings.headers()
        self._base = settings.host
        self._stack: HttpStack | None = None
        self._closed = False
        self._hooks = settings.hooks
        # Chosen once, so a client without hooks sends exactly as if hooks did not exist.
        self._sender: _Send = self._send if self._hooks is None else self._send_observed
        self.tokens: TokenSource = (
            StaticToken(settings.access_token)
            if settings.access_token is not None
            else ManagementTokens(self._fetch_token)
        )

    @property
    def closed(self) -> bool:
        """Whether `aclose` was called."""
        return self._closed

    @property
    def stack(self) -> HttpStack | None:
        """The HTTP stack, once the first request opened it."""
        return self._stack

    def _open_stack(self) -> HttpStack:
        if self._closed:
            raise RuntimeError("this client is closed; build a new one")
        self._stack = open_stack(self._settings)
        return self._stack

    async def aclose(self) -> None:
        """Close the connection pool, unless the caller supplied the client."""
        self._closed = True
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

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
        observed = self._hooks is not None
        attempts = 0

        async def attempt(timeout: float) -> Any:  # noqa: ANN401
            nonlocal attempts
            if observed:
                attempts += 1
                current_attempt.set(attempts)
            token = await self.tokens.get(timeout)
            try:
                return await self._authorized(token, method, path, params, json, timeout)
            except AuthenticationError as exc:
                if not (is_token_refusal(exc) and self.tokens.refused(token)):
                    raise
            token = await self.tokens.get(timeout)
            return await self._authorized(token, method, path, params, json, timeout)

        return await self._retry.run(attempt, lambda: f"{method} {path}")

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
        response = await self._sender(method, path, headers, params, json, timeout)
        return decode(response)

    async def _fetch_token(self, timeout: float) -> Reply:
        secret = self._settings.secret
        if secret is None:  # pragma: no cover - a static token source never fetches
            raise RuntimeError("no secret to fetch a token with")
        variables = {"userPoolId": self._settings.user_pool_id, "secret": secret}
        return await self._sender(
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
    ) -> Reply:
        url = self._base + path
        if params:
            url += "?" + urlencode(params)
        body = None
        if json is not None:
            body = dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
            headers = {**headers, "content-type": "application/json"}
        stack = self._stack or self._open_stack()
        return await stack.send(method, url, headers, body, timeout)

    async def _send_observed(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        params: dict[str, str] | None,
        json: dict[str, object] | None,
        timeout: float,
    ) -> Reply:
        """`_send`, reporting the request and its outcome to the client's hooks."""
        hooks = self._hooks
        assert hooks is not None  # noqa: S101 - chosen as the sender only with hooks
        request = RequestEvent(method=method, path=path, attempt=current_attempt.get())
        if hooks.on_request is not None:
            hooks.on_request(request)
        started = time.perf_counter()
        try:
            response = await self._send(method, path, headers, params, json, timeout)
        except BaseException as exc:  # a TransportError, or the call's cancellation
            if hooks.on_response is not None:
                elapsed = time.perf_counter() - started
                hooks.on_response(ResponseEvent(request, None, elapsed, None, exc))
            raise
        if hooks.on_response is not None:
            elapsed = time.perf_counter() - started
            status, request_id = response.status_code, request_id_of(response)
            hooks.on_response(ResponseEvent(request, status, elapsed, request_id))
        return response
