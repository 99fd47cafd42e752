"""`LoopbackServer`: a small asyncio HTTP/1.1 server, on h11, that runs an ASGI app.

It exists because the emulator must be able to drop a connection without answering, which no
ASGI server offers: when the app raises `DropConnection`, this server aborts the TCP
connection having written nothing, so the client sees exactly what a crashed or overloaded
server gives it. Otherwise it is deliberately plain: keep-alive, ``Content-Length`` or chunked
request bodies, one request at a time per connection, answers written in one go.

One server runs in one event loop; `start` and `aclose` must be awaited in that loop.
"""

from __future__ import annotations

__all__ = ["LoopbackServer"]

import asyncio
import contextlib
import functools
import http
import logging
import socket

import h11

from ._asgi import ASGIApp, DropConnection, Message, http_scope, whole_body_receiver

logger = logging.getLogger("authing_mfa.testing")

_READ_SIZE = 65536
_MAX_INCOMPLETE_EVENT_SIZE = 64 * 1024


class LoopbackServer:
    """Serves an ASGI app over HTTP/1.1 on *host* and *port* (0 picks a free port).

    Args:
        app: the ASGI app, normally ``Emulator.app``.
        host: the address to listen on.
        port: the port; 0 lets the system choose one, read it from `port` after `start`.
    """

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def host(self) -> str:
        """The address it listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The port it listens on, once started."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL to reach it, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and start accepting connections."""
        # asyncio's default backlog of 100 drops the SYNs of a larger burst of connects, which
        # the kernel retries only after a second: tests and benchmarks open hundreds at once.
        self._server = await asyncio.start_server(
            self._serve_connection, self._host, self._requested_port, backlog=4096
        )

    async def aclose(self) -> None:
        """Stop accepting, abort every open connection, and wait until all are gone."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - always inside a task here
        self._connections.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:  # small answers must not wait for Nagle's algorithm
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await _Connection(self._app, reader, writer).serve()
        except (ConnectionError, asyncio.CancelledError):
            writer.transport.abort()
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()


class _Connection:
    """One client connection: requests in, answers out, until either side closes."""

    def __init__(
        self, app: ASGIApp, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._app = app
        self._reader = reader
        self._writer = writer
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_INCOMPLETE_EVENT_SIZE)
        sockname = writer.get_extra_info("sockname")
        peername = writer.get_extra_info("peername")
        self._server_address = tuple(sockname[:2]) if sockname else None
        self._client_address = tuple(peername[:2]) if peername else None

    async def _next_event(self) -> h11.Event | type[h11.PAUSED]:
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            self._h11.receive_data(await self._reader.read(_READ_SIZE))

    async def serve(self) -> None:
        while True:
            try:
                event = await self._next_event()
                if not isinstance(event, h11.Request):
                    return  # ConnectionClosed, or a client that broke the protocol
                body = []
                while isinstance(part := await self._next_event(), h11.Data):
                    body.append(part.data)
            except h11.RemoteProtocolError as error:
                await self._reject(error)
                return
            if not await self._answer(event, b"".join(body)):
                return
            if self._h11.our_state is h11.MUST_CLOSE or self._h11.their_state is h11.MUST_CLOSE:
                return
            try:
                self._h11.start_next_cycle()
            except h11.LocalProtocolError:
                return

    def _encode(self, message: Message) -> bytes:
        """Return the bytes an ASGI response message puts on the wire."""
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = message.get("headers", [])
            return (
                self._h11.send(
                    h11.Response(status_code=status, headers=headers, reason=_reason(status))
                )
                or b""
            )
        if message["type"] != "http.response.body":
            return b""
        data = b""
        if body := message.get("body", b""):
            data = self._h11.send(h11.Data(data=body)) or b""
        if not message.get("more_body", False):
            data += self._h11.send(h11.EndOfMessage()) or b""
        return data

    async def _answer(self, request: h11.Request, body: bytes) -> bool:
        """Run the app on one request; return whether the connection may carry on."""
        scope = http_scope(
            method=request.method.decode("ascii"),
            target=request.target,
            headers=request.headers,
            http_version=request.http_version.decode("ascii"),
            client=self._client_address,
            server=self._server_address,
        )

        # The answer is written in one go once complete: the emulator's answers are small,
        # and a dropped connection must not have sent a partial one.
        response: list[bytes] = []

        async def send(message: Message) -> None:
            response.append(self._encode(message))

        try:
            await self._app(scope, whole_body_receiver(body), send)
        except DropConnection:
            # Nothing was written: the client sees the connection close unanswered.
            self._writer.transport.abort()
            return False
        except Exception:  # a bug in the app: answer 500 as any server would, then close
            logger.exception("the emulator failed to answer %s %s", scope["method"], scope["path"])
            if response:
                self._writer.transport.abort()
                return False
            response.append(self._internal_error())
        self._writer.write(b"".join(response))
        await self._writer.drain()
        return True

    def _internal_error(self) -> bytes:
        body = b"Internal Server Error\n"
        headers = [
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ]
        data = self._h11.send(h11.Response(status_code=500, headers=headers)) or b""
        data += self._h11.send(h11.Data(data=body)) or b""
        return data + (self._h11.send(h11.EndOfMessage()) or b"")

    async def _reject(self, error: h11.RemoteProtocolError) -> None:
        if self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        status = error.error_status_hint
        body = b"%d %s\n" % (status, _reason(status))
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        with contextlib.suppress(h11.LocalProtocolError):
            data = self._h11.send(h11.Response(status_code=status, headers=headers))
            data = (data or b"") + (self._h11.send(h11.Data(data=body)) or b"")
            data += self._h11.send(h11.EndOfMessage()) or b""
            self._writer.write(data)
            await self._writer.drain()


@functools.cache
def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""
