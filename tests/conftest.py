"""Fixtures several folders share: the emulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authing_mfa.testing import Emulator, RunningServer, run_server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """The emulator as a real server on loopback, one per test module."""
    with run_server(Emulator()) as running:
        yield running


@pytest.fixture
def emulator(server: RunningServer) -> Emulator:
    """The loopback server's emulator, emptied, with the user ``u1``."""
    server.emulator.reset()
    server.emulator.add_users(["u1"])
    return server.emulator
