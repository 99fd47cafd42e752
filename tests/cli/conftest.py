"""The command line's tests: an emulator server named to the commands by AUTHING_* variables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authing_mfa.testing import RunningServer, SpawnedServer, spawn_server


def _name_server(monkeypatch: pytest.MonkeyPatch, url: str, user_pool_id: str, secret: str) -> None:
    monkeypatch.setenv("AUTHING_HOST", url)
    monkeypatch.setenv("AUTHING_USERPOOL_ID", user_pool_id)
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", secret)
    # A key in the environment would be imported instead of the one a test gives.
    monkeypatch.delenv("AUTHING_TOTP_SECRET", raising=False)
    monkeypatch.delenv("AUTHING_TOTP_RECOVERY_CODE", raising=False)


@pytest.fixture
def authing_env(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the commands at this test's emulator on loopback through the AUTHING_* variables."""
    _name_server(monkeypatch, server.url, server.emulator.user_pool_id, server.emulator.secret)


@pytest.fixture
def spawned_server() -> Iterator[SpawnedServer]:
    """An emulator served by a child process, so a heavy run does not share this one's GIL."""
    with spawn_server() as running:
        yield running


@pytest.fixture
def spawned_env(spawned_server: SpawnedServer, monkeypatch: pytest.MonkeyPatch) -> SpawnedServer:
    """The spawned server, the commands pointed at it through the AUTHING_* variables."""
    _name_server(
        monkeypatch, spawned_server.url, spawned_server.user_pool_id, spawned_server.secret
    )
    return spawned_server
