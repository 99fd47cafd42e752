"""The framework integrations' tests: the README's apps and worker, on the emulator."""

from __future__ import annotations

import pytest


@pytest.fixture
def users() -> list[str]:
    """alice and bob: the users the apps' routes are called for."""
    return ["alice", "bob"]
