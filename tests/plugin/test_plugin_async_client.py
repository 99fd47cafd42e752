"""``authing_async_client`` under every way of running async tests, closed in its own loop.

Each suite uses the client, then checks that no connection to the server is left open; the
suites run with every warning an error and collect garbage after each test, so a client left
unclosed fails the test that leaked it.
"""

from __future__ import annotations

import pytest
from conftest import then_no_connection_left

pytest_plugins = ["pytester"]

# The tests a user writes, with the decorator their async test plugin wants ({mark}).
USER_TESTS = """
import pytest

from authing_mfa import AsyncMfaClient, NotFoundError
from authing_mfa.testing import Emulator

{prelude}

@pytest.mark.authing_users("alice")
{mark}
async def test_the_three_operations(
    authing_async_client: AsyncMfaClient, authing_emulator: Emulator
):
    await authing_async_client.import_totp("alice", "JBSWY3DPEHPK3PXP")
    assert (await authing_async_client.get_status("alice")).otp
    assert await authing_async_client.unassociate_mfa("alice", "otp")
    alice = authing_emulator.user("alice")
    assert alice is not None
    assert alice["totp"] is None


{mark}
async def test_faults_are_retried_without_waiting(
    authing_async_client: AsyncMfaClient, authing_emulator: Emulator
):
    authing_emulator.add_users(["bob"])
    authing_emulator.add_fault(path="/api/v2/users/*", status=503, times=2)
    assert not (await authing_async_client.get_status("bob")).otp
    with pytest.raises(NotFoundError):
        await authing_async_client.get_status("alice")  # the last test's users are gone
"""

ANYIO_PRELUDE = """
@pytest.fixture(params={backends!r})
def anyio_backend(request):
    return request.param
"""


def user_tests(mark: str, prelude: str = "") -> str:
    return then_no_connection_left(USER_TESTS.format(mark=mark, prelude=prelude))


@pytest.mark.parametrize(
    ("mode", "mark", "loop_scope"),
    [
        ("strict", "@pytest.mark.asyncio", "function"),
        ("auto", "", "function"),
        ("strict", "@pytest.mark.asyncio", "session"),
        ("auto", "", "module"),
    ],
)
def test_under_pytest_asyncio(suite, mode, mark, loop_scope):
    """Strict and auto mode, a loop per test or one outliving the test: the client is closed."""
    suite.makepyfile(user_tests(mark))
    result = suite.runpytest_inprocess(
        "-p",
        "no:anyio",
        "-o",
        f"asyncio_mode={mode}",
        "-o",
        f"asyncio_default_test_loop_scope={loop_scope}",
    )
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("backends", [["asyncio"], ["trio"], ["asyncio", "trio"]])
def test_under_anyios_plugin(suite, backends):
    """anyio's pytest plugin, on asyncio (aiohttp) and on trio (httpx): the client is closed."""
    prelude = ANYIO_PRELUDE.format(backends=backends)
    suite.makepyfile(user_tests("@pytest.mark.anyio", prelude))
    result = suite.runpytest_inprocess()
    result.assert_outcomes(passed=2 * len(backends) + 1)


def test_with_an_async_fixture_keeping_anyios_loop_across_tests(suite):
    """An async fixture of wider scope keeps anyio's asyncio loop open: closed at teardown."""
    prelude = ANYIO_PRELUDE.format(backends=["asyncio"]).replace(
        "params=", 'scope="module", params='
    )
    prelude += """
@pytest.fixture(scope="module")
async def keeps_the_loop(anyio_backend):
    yield

pytestmark = pytest.mark.usefixtures("keeps_the_loop")
"""
    suite.makepyfile(user_tests("@pytest.mark.anyio", prelude))
    suite.runpytest_inprocess().assert_outcomes(passed=3)


def test_in_a_sync_test_running_its_own_loops(suite):
    """A sync test may run the client with ``asyncio.run`` or ``trio.run``: it is closed."""
    suite.makepyfile(
        then_no_connection_left(
            """
        import asyncio

        import pytest
        import trio

        pytestmark = pytest.mark.authing_users("alice")

        async def status(client):
            return await client.get_status("alice")

        def test_asyncio_run(authing_async_client):
            assert not asyncio.run(status(authing_async_client)).otp

        def test_trio_run(authing_async_client):
            assert not trio.run(status, authing_async_client).otp

        def test_never_used(authing_async_client):
            pass
        """
        )
    )
    suite.runpytest_inprocess().assert_outcomes(passed=4)


@pytest.mark.xfail(
    reason="a loop closed by hand, without shutdown_asyncgens(), leaves its pool to the "
    "garbage collector, as any aiohttp session in it",
    strict=True,
)
def test_in_a_loop_closed_without_closing_its_async_generators(suite):
    """A loop closed by hand, not by asyncio.run: the client must release its pool from another."""
    suite.makepyfile(
        then_no_connection_left(
            """
        import asyncio

        import pytest

        @pytest.mark.authing_users("alice")
        def test_own_loop(authing_async_client):
            loop = asyncio.new_event_loop()
            assert not loop.run_until_complete(authing_async_client.get_status("alice")).otp
            loop.close()
        """
        )
    )
    # In a process of its own: what it leaks must not reach the other suites' garbage.
    suite.runpytest_subprocess().assert_outcomes(passed=2)
