"""The ASGI contract between the emulator's app and the two things that run it.

ASGI has no way for an app to say "close the connection without answering". The app raises
`DropConnection` instead; both runners understand it: the loopback server aborts the TCP
connection without writing a byte, and the in-process transport raises the
`httpx.RemoteProtocolError` that httpx raises when a real server does that. Any other ASGI
server (uvicorn) turns it into an HTTP 500, which is why the emulator ships its own.
"""

from __future__ import annotations

__all__ = ["ASGIApp", "DropConnection", "Message", "Receive", "Scope", "Send"]

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DropConnection(Exception):  # noqa: N818 - a signal to the server, not an error
    """Raised by the app, before sending anything, to have the connection closed unanswered."""
