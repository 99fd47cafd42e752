"""Fixtures several folders share: a new emulator per test, and the same emulator on loopback.

Each folder's conftest.py adds what only its tests need; a folder or module whose tests need
other users than ``u1`` overrides `users`. Clients of these emulators take their settings from
`support.clients.client_options`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authing_mfa.testing import Emulator, RunningServer, run_server


@pytest.fixture
def users() -> list[str]:
    """The ids of the users this test's emulator starts with."""
    return ["u1"]


@pytest.fixture
def emulator(users: list[str]) -> Emulator:
    """A new emulator for this test: a pool of its own, holding `users`."""
    return Emulator(users=users)


@pytest.fixture
def server(emulator: Emulator) -> Iterator[RunningServer]:
    """This test's emulator served on loopback, from a thread of this process."""
    with run_server(emulator) as running:
        yield running


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the ``fuzz`` tests out unless ``-m`` names them: they are long by design."""
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("fuzz") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
