"""The hostile server the HTTP-layer tests script, one for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile_server import HostileServer


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()
