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
- `_httpx`, everywhere else: under trio (aiohttp is asyncio-only), whenever the caller
  hands us an httpx transport (the test seam) or their own `httpx.AsyncClient`, and when the
  client's ``http_backend`` asks for it (respx and pytest-httpx intercept httpx only).

Each stack's module is imported only when a client first needs it.
"""

from __future__ import annotations

__all__ = ["HttpStack", "Reply", "open_stack", "prepare_stack", "stack_needs"]

import importlib
from typing import TYPE_CHECKING

from authing_mfa._errors import InvalidArgumentError

from ._interface import HttpStack, Reply

if TYPE_CHECKING:
    from authing_mfa._settings import Settings


def stack_needs(settings: Settings) -> tuple[str, bool]:
    """Return what a client with *settings* loads on first use: a stack's module, and TLS."""
    if settings.transport is not None or settings.http_client is not None:
        return "_httpx", False  # the caller's transport or client brings its own TLS
    if settings.http_backend == "httpx":
        return "_httpx", True  # httpx builds its transport's TLS context even for http://
    # "auto" under trio sends through httpx: loading aiohttp there only costs time.
    return "_aiohttp", settings.host.startswith("https:") or _proxied()


def prepare_stack(needs: tuple[str, bool]) -> None:
    """Load what `stack_needs` named, before a client's first call.

    Blocking work (tens of milliseconds: aiohttp's import, the TLS certificates), meant for a
    thread, so that no event loop waits on it (see `_warmup`).
    """
    module, tls = needs
    importlib.import_module(f"{__name__}.{module}")
    if tls:
        from ._tls import tls_context  # noqa: PLC0415

        tls_context()


def _proxied() -> bool:
    import urllib.request  # noqa: PLC0415

    # A proxy may be reached over TLS whatever the host's scheme.
    return bool(urllib.request.getproxies())


def open_stack(settings: Settings) -> HttpStack:
    """Return the stack for a client in the running event loop, as its ``http_backend`` says.

    ``"auto"`` is aiohttp under asyncio, unless the caller gave an httpx ``transport`` or
    ``http_client``; httpx otherwise. ``"httpx"`` is always httpx (what respx and pytest-httpx
    intercept); ``"aiohttp"`` is aiohttp, under asyncio only.

    Raises:
        InvalidArgumentError: ``http_backend="aiohttp"`` in a loop that is not asyncio's.
    """
    backend = settings.http_backend
    if backend == "aiohttp" or (
        backend == "auto"
        and settings.transport is None
        and settings.http_client is None
        and _running_asyncio()
    ):
        if not _running_asyncio():
            raise InvalidArgumentError(
                "http_backend is 'aiohttp', which runs under asyncio only, and this call runs "
                "under trio: use 'httpx' or 'auto'"
            )
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
