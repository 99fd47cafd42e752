"""An emulator of Authing's management MFA API, for tests: in process, or as a real server.

It serves the protocol of Authing's own SDKs for one user pool
held in memory, and misbehaves on demand: error statuses, gateway pages, dropped connections,
broken bodies, stalls. What stripe-mock and moto are to their SDKs.

In process, no socket::

    from authing_mfa.testing import Emulator

    emulator = Emulator(users=["alice"])
    client = AsyncMfaClient(
        user_pool_id=emulator.user_pool_id, secret=emulator.secret, transport=emulator.transport()
    )

On loopback, in a thread (`run_server`) or a child process (`spawn_server`)::

    with run_server(Emulator(users=["alice"])) as server:
        ...  # point a client at server.url; drive server.emulator

From a terminal: ``authing-mfa emulator --port 8765 --users 3`` (or
``python -m authing_mfa.testing``) prints the URL, pool id and secret, and the ids of the users
it created.

What it serves
--------------
- ``POST /graphql/v2``, the ``accessToken`` query: an HS256 JWT with integer ``iat`` and
  ``exp`` and a unique ``jti``, lasting ``token_ttl`` seconds. An unknown pool id answers the
  GraphQL error with code 2224, a wrong secret with code 1001.
- ``GET /api/v2/users/{userId}/mfa-bound``: ``{"FACE": false, "OTP": <bound>}``.
- ``DELETE /api/v2/users/{userId}/mfa-bound?type=T``: ``T`` one of SMS, EMAIL, OTP, FACE,
  FINGERPRINT, TOTP; unbinding OTP (or TOTP) removes the TOTP key.
- ``POST /api/v2/mfa/totp/import``: sets OTP bound; re-importing replaces the key, keeping
  the record's ``id`` (an upsert). The secret is not checked to be base32, as on Authing.

REST calls need ``x-authing-userpool-id`` naming the pool (else code 2224) and a live token
(else code 2020, "not logged in"), both with HTTP 200. An unknown user is code 2004;
a bad ``type``, or a missing ``userId`` or ``secret``, code 400 with HTTP 400. Path segments
are percent-decoded once. Every answer carries a unique ``x-request-id``.

The control API
---------------
Under ``/__emulator__`` on the same server; JSON in and out, camelCase. Its requests are
neither journaled nor faulted. Each has an `Emulator` method of the same meaning, and
`EmulatorControl` calls them over HTTP. A malformed control request answers HTTP 400
``{"error": "..."}``.

``POST /__emulator__/users``  ``{"userIds": ["a", "b"]}`` or ``{"count": 3}``
    Create users (existing ones are left alone); answers ``{"userIds": [...]}``.
``GET /__emulator__/users/{userId}``
    ``{"userId", "mfaBound": {"FACE", "OTP"}, "totp": <the import's record> | null}``;
    HTTP 404 for an unknown user.
``POST /__emulator__/faults``  ``{"faults": [{...}, ...]}``
    Queue faults; all or none. Each fault has ``path``, a glob on the raw path (``*``, the
    default, matches ``/`` too); ``method`` (any when absent); ``times``, how many matching
    requests it applies to (1; ``null`` for all); ``delay``, seconds to wait first (0); and
    ``action``:

    - ``respond`` (the default): answer ``status``, with ``Retry-After: retryAfter`` if given;
      a 5xx status is an nginx HTML page, any other an envelope ``{"code": status, ...}``.
      Without ``status`` it answers normally, so ``{"delay": 5}`` is a stall.
    - ``drop``: close the connection without sending a byte (the in-process transport raises
      ``httpx.RemoteProtocolError``, as httpx does against a real server).
    - ``malformed``: HTTP 200, ``application/json``, a body cut off mid-value.

    ``DELETE`` forgets the faults not yet applied.
``POST /__emulator__/tokens/revoke``
    Refuse every token issued so far, not those issued later; answers ``{"revoked": n}``.
``GET /__emulator__/requests``
    The journal, oldest first: ``{"requests": [{"method", "path", "query", "headers",
    "body"}]}``, faulted and dropped requests included. ``path`` and ``query`` are as received
    (still percent-encoded), header names lower-case, ``body`` the parsed JSON (else text,
    else null). The ``authorization`` value is masked as ``Bearer ***``, and every ``secret``
    and ``recoveryCode`` in a JSON body as ``***``. ``DELETE`` empties the journal.
``GET /__emulator__/stats``
    ``{"tokenRequests", "requests", "users"}``: token requests since the last reset, journal
    length, user count.
``POST /__emulator__/reset``
    Forget users, faults, the journal and the token request count. Issued tokens stay valid.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "Emulator",
    "EmulatorControl",
    "EmulatorTransport",
    "Fault",
    "LoopbackServer",
    "RunningServer",
    "SpawnedServer",
    "run_server",
    "serve",
    "spawn_server",
]

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._control_client import EmulatorControl
    from ._emulator import DEFAULT_TOKEN_TTL, Emulator
    from ._faults import Fault
    from ._http_server import LoopbackServer
    from ._in_process import EmulatorTransport
    from ._launch import RunningServer, SpawnedServer, run_server, serve, spawn_server

# Each name loads its module on first use: pytest loads this package with the plugin
# (`_pytest_plugin`) in every suite of a project that has authing-mfa installed, most of which
# never touch the emulator.
_MODULE_OF = {
    "DEFAULT_TOKEN_TTL": "._emulator",
    "Emulator": "._emulator",
    "EmulatorControl": "._control_client",
    "EmulatorTransport": "._in_process",
    "Fault": "._faults",
    "LoopbackServer": "._http_server",
    "RunningServer": "._launch",
    "SpawnedServer": "._launch",
    "run_server": "._launch",
    "serve": "._launch",
    "spawn_server": "._launch",
}


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
