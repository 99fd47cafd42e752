"""`EmulatorTransport`: an httpx transport that runs the emulator's app in process.

Like `httpx.ASGITransport`, with the two things a client under test must see as it would
over a socket: a dropped connection raises `httpx.RemoteProtocolError`, with the message httpx
gives when a real server closes without answering, and an answer slower than the request's
read timeout raises `httpx.ReadTimeout`. It runs on asyncio and trio alike.
"""

from __future__ import annotations

__all__ = ["EmulatorTransport"]

import contextlib

import anyio
import httpx

from ._asgi import ASGIApp, DropConnection, Message, http_scope, whole_body_receiver

_DISCONNECTED = "Server disconnected without sending a response."


class EmulatorTransport(httpx.AsyncBaseTransport):
    """Sends each request to an ASGI app in the caller's event loop; no socket, any host.

    Args:
        app: the ASGI app, normally ``Emulator.app``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app on *request* and return its answer.

        Raises:
            httpx.RemoteProtocolError: the app dropped the connection.
            httpx.ReadTimeout: the app took longer than the request's read timeout.
        """
        body = await request.aread()
        scope = http_scope(
            method=request.method,
            target=request.url.raw_path,
            headers=request.headers.raw,
            scheme=request.url.scheme,
            client=("127.0.0.1", 0),
            server=(request.url.host, request.url.port),
        )

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        timeout = request.extensions.get("timeout", {}).get("read")
        deadline = contextlib.nullcontext() if timeout is None else anyio.fail_after(timeout)
        try:
            with deadline:
                await self._app(scope, whole_body_receiver(body), send)
        except DropConnection:
            raise httpx.RemoteProtocolError(_DISCONNECTED, request=request) from None
        except TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(b"".join(chunks)), request=request
        )
