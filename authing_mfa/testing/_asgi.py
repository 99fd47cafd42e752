"""The ASGI contract between the emulator's app and the two things that run it.

Both runners, the loopback server (`_http_server`) and the in-process transport
(`_in_process`), hand the app a whole request: `http_scope` builds its scope and
`whole_body_receiver` its ``receive``.

ASGI has no way for an app to say "close the connection without answering". The app raises
`DropConnection` instead; both runners understand it: the loopback server aborts the TCP
connection without writing a byte, and the in-process transport raises the
`httpx.RemoteProtocolError` that httpx raises when a real server does that. Any other ASGI
server (uvicorn) turns it into an HTTP 500, which is why the emulator ships its own.
"""

from __future__ import annotations

__all__ = [
    "ASGIApp",
    "DropConnection",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "http_scope",
    "whole_body_receiver",
]

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DropConnection(Exception):  # noqa: N818 - a signal to the server, not an error
    """Raised by the app, before sending anything, to have the connection closed unanswered."""


def http_scope(
    *,
    method: str,
    target: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    http_version: str = "1.1",
    scheme: str = "http",
    client: tuple[str, int] | None = None,
    server: tuple[str, int | None] | None = None,
) -> Scope:
    """Return the ASGI ``http`` scope of a request for *target*, its raw path and query.

    Header names are lower-cased, as ASGI requires.
    """
    raw_path, _, query = target.partition(b"?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": http_version,
        "method": method,
        "scheme": scheme,
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        "client": client,
        "server": server,
    }


def whole_body_receiver(body: bytes) -> Receive:
    """Return an ASGI ``receive`` that gives *body* in one message, then a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
