"""Running small test suites that use the plugin's fixtures as its users would, with pytester.

Each test module enables pytester itself (``pytest_plugins``): pytest refuses that declaration
in a conftest below the top-level one. The suites see the plugin only through its ``pytest11``
entry point, as an installed package's users do.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

NETSTAT = Path(__file__).resolve().parent.parent / "netstat.py"

# What a strict user suite configures: every warning an error, pytest-asyncio's loop scope set.
# Hypothesis's plugin is left out: its summary alone would double the time of each run.
INI = """\
[pytest]
addopts = -p no:cacheprovider -p no:hypothesispytest --strict-markers
filterwarnings = error
asyncio_default_fixture_loop_scope = function
"""

# An unclosed connection warns when collected: collecting after each test fails the test that
# left one. `open_connections` counts this machine's connections to the session's server.
PROBES = """\
import gc

import pytest
from netstat import connections_to


@pytest.fixture(autouse=True)
def _collect_garbage():
    yield
    gc.collect()


@pytest.fixture
def open_connections(authing_server):
    return lambda: connections_to(authing_server.port)
"""

# The last test of a suite whose clients must all be closed by now.
_NO_CONNECTION_LEFT = """

def test_every_connection_was_closed(open_connections):
    assert open_connections() in (0, None)  # None: no /proc to count them in
"""


def then_no_connection_left(code: str) -> str:
    """Return the tests in *code* followed by one checking that no connection stayed open."""
    return textwrap.dedent(code) + _NO_CONNECTION_LEFT


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory with a strict user's configuration and the probes above."""
    pytester.makeini(INI)
    pytester.makeconftest(PROBES)
    pytester.makepyfile(netstat=NETSTAT.read_text(encoding="utf-8"))
    return pytester
