"""What the transport needs from an HTTP stack, and which stack serves a client.

Two stacks serve the same small interface (`Wire`: send one request, read the whole answer,
raise only our `TransportError`s):

- `_aiohttp_wire`, under asyncio, when the caller supplied neither ``transport`` nor
  ``http_client``. Measured on loopback on a 2-core machine, httpx's own pool costs about
  twice aiohttp's time per call at concurrency 1, and collapses past a few dozen concurrent
  requests (1 000 calls over 32 connections: 5 s against 0.65 s), which a bulk import or a
  busy web app reaches at once.
- `_httpx_wire`, everywhere else: under trio (aiohttp is asyncio-only), and whenever the
  caller hands us an httpx transport (the test seam) or their own `httpx.AsyncClient`.

Both get the URL already percent-encoded and send it as is, and neither follows redirects.
"""

from __future__ import annotations

__all__ = ["Reply", "Wire", "open_wire"]

from collections.abc import Mapping
from typing import Protocol

import httpx

from ._config import Settings


class Reply(Protocol):
    """A whole HTTP answer; `httpx.Response` is one."""

    @property
    def status_code(self) -> int:
        """The HTTP status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers, looked up case-insensitively."""

    @property
    def content(self) -> bytes:
        """The whole body."""

    @property
    def reason_phrase(self) -> str:
        """The status line's reason."""

    @property
    def is_redirect(self) -> bool:
        """Whether the status is a redirect with a Location."""


class Wire(Protocol):
    """One HTTP stack, sending requests for one client."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> Reply:
        """Send a request and read its whole answer within *timeout* per network step.

        Raises:
            ConnectionError, TimeoutError, TransportError: no usable answer arrived.
        """

    async def aclose(self) -> None:
        """Release the connections this wire opened (not a caller-supplied client's)."""


def open_wire(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    http_client: httpx.AsyncClient | None,
) -> Wire:
    """Return the stack for a client, chosen in the event loop that will use it."""
    if transport is None and http_client is None and _running_asyncio():
        from ._aiohttp_wire import AiohttpWire  # noqa: PLC0415 - loaded only where used

        return AiohttpWire(settings)
    from ._httpx_wire import HttpxWire  # noqa: PLC0415

    return HttpxWire(settings, transport=transport, http_client=http_client)


def _running_asyncio() -> bool:
    import asyncio  # noqa: PLC0415 - once per client; keeps asyncio out of the import

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
