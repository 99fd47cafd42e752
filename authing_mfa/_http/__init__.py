"""The HTTP stacks a client sends through, and the choice between them.

Two stacks serve the same small interface (`HttpStack`: send one request, read the whole
answer, raise only our `TransportError`s), and read what their library received by the
same rules: `_answer` for answers (status, headers, framing, content coding), `_failures`
for exceptions (which `TransportError` each cause is, described without a secret):

- `_aiohttp`, under asyncio, when the caller supplied neither ``transport`` nor
  ``http_client``. Measured on loopback on a 2-core machine, httpx's own pool costs about
  twice aiohttp's time per call at concurrency 1, and collapses past a few dozen concurrent
  requests (1 000 calls over 32 connections: 5 s against 0.65 s), which a bulk import or a
  busy web app reaches at once.
- `_httpx`, everywhere else: under trio (aiohttp is asyncio-only), and whenever the caller
  hands us an httpx transport (the test seam) or their own `httpx.AsyncClient`.

Each stack's module is imported only when a client first needs it.
"""

from __future__ import annotations

__all__ = ["HttpStack", "Reply", "open_stack"]

from typing import TYPE_CHECKING

from ._interface import HttpStack, Reply

if TYPE_CHECKING:
    from authing_mfa._settings import Settings


def open_stack(settings: Settings) -> HttpStack:
    """Return the stack for a client, chosen in the event loop that will use it."""
    if settings.transport is None and settings.http_client is None and _running_asyncio():
        from ._aiohttp import AiohttpStack  # noqa: PLC0415 - loaded only where used

        return AiohttpStack(settings)
    from ._httpx import HttpxStack  # noqa: PLC0415

    return HttpxStack(settings)


def _running_asyncio() -> bool:
    import asyncio  # noqa: PLC0415 - once per client; keeps asyncio out of the import

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
