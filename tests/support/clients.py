"""Settings for clients of the emulator, in process or on loopback, whose retries do not wait."""

from __future__ import annotations

from typing import Any

from authing_mfa.testing import Emulator, RunningServer, SpawnedServer


def client_options(
    target: Emulator | RunningServer | SpawnedServer, /, **overrides: Any
) -> dict[str, Any]:
    """Return keyword arguments for `AsyncMfaClient` or `MfaClient` reaching *target*.

    An `Emulator` is reached in process, through its transport; a server that `run_server` or
    `spawn_server` started, on loopback. Retries wait at most a millisecond, so tests need not
    wait out backoff. *overrides* add to these settings or replace them.
    """
    where: dict[str, Any]
    if isinstance(target, Emulator):
        where = {
            "user_pool_id": target.user_pool_id,
            "secret": target.secret,
            "transport": target.transport(),
        }
    elif isinstance(target, RunningServer):
        where = {
            "host": target.url,
            "user_pool_id": target.emulator.user_pool_id,
            "secret": target.emulator.secret,
        }
    else:
        where = {"host": target.url, "user_pool_id": target.user_pool_id, "secret": target.secret}
    return {**where, "wait_initial": 0.001, "wait_max": 0.001, **overrides}
