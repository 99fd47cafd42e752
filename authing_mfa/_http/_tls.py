"""The process's one TLS context, with the certificates httpx trusts, loaded once.

Loading a CA bundle costs 20 to 45 ms; building a context per client, or per event loop a
client runs in, would pay that again each time, on the event loop. Both stacks share this one
instead (an `ssl.SSLContext` may serve any number of connections, threads and loops), and the
client loads it ahead of its first call, in a thread (see `_warmup`).
"""

from __future__ import annotations

__all__ = ["tls_context"]

import ssl
import threading

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """Return the shared context, loading it on first use: httpx's CAs and checks.

    It reads ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` as httpx does, when first loaded.
    """
    global _context  # noqa: PLW0603 - one context per process is the point
    context = _context
    if context is None:
        with _lock:
            if _context is None:
                import httpx  # noqa: PLC0415 - loaded with the package anyway

                _context = httpx.create_ssl_context()
            context = _context
    return context
