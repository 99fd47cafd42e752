"""MfaClient: the blocking facade gives the async client's results, from any thread or process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.fakes import AUTHENTICATOR, TOTP_SECRET, envelope

from authing_mfa import MfaStatus, NotFoundError, TotpAuthenticator

STATUS_URL = "/api/v2/users/u1/mfa-bound"


@pytest.fixture
def routes(api):
    api.get(STATUS_URL).mock(return_value=envelope({"FACE": True, "OTP": False, "SMS": True}))
    api.delete(STATUS_URL).mock(return_value=envelope(None, message="解绑成功"))
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR))
    api.get("/api/v2/users/ghost/mfa-bound").mock(
        return_value=envelope(code=2004, message="用户不存在")
    )
    return api


@pytest.mark.asyncio
async def test_sync_results_equal_async_results(routes, make_client, make_sync_client):
    """Each blocking method returns exactly what its async twin returns."""
    async with make_client() as mfa:
        expected = (
            await mfa.get_status("u1"),
            await mfa.unassociate_mfa("u1", "otp"),
            await mfa.import_totp("u1", TOTP_SECRET, recovery_code="r-1"),
        )
    sync = make_sync_client()
    got = await asyncio.to_thread(
        lambda: (
            sync.get_status("u1"),
            sync.unassociate_mfa("u1", "otp"),
            sync.import_totp("u1", TOTP_SECRET, recovery_code="r-1"),
        )
    )
    assert got == expected
    assert isinstance(got[0], MfaStatus)
    assert isinstance(got[2], TotpAuthenticator)
    imports = [
        c.request
        for c in routes.calls
        if c.request.method == "POST" and c.request.url.path.endswith("import")
    ]
    assert imports[0].content == imports[1].content


def test_sync_errors_are_the_async_errors(routes, make_sync_client):
    """An API error raised on the loop reaches the blocking caller unchanged."""
    mfa = make_sync_client()
    with pytest.raises(NotFoundError) as caught:
        mfa.get_status("ghost")
    assert caught.value.code == 2004


def test_32_threads_share_one_client_and_one_token(routes, make_sync_client):
    """Calls from 32 threads all succeed on one client, which fetches a single token."""
    mfa = make_sync_client()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda _: mfa.get_status("u1"), range(320)))
    assert all(status.face and not status.otp for status in results)
    assert routes["token"].call_count == 1


@pytest.mark.asyncio
async def test_calling_from_a_running_loop_raises(routes, make_sync_client):
    """A blocking call from inside an event loop raises instead of stalling the loop."""
    mfa = make_sync_client()
    with pytest.raises(RuntimeError, match="use AsyncMfaClient"):
        mfa.get_status("u1")
    assert routes.calls.call_count == 0


def test_calling_from_a_trio_run_raises(routes, make_sync_client):
    """The same guard holds under trio."""
    trio = pytest.importorskip("trio")
    mfa = make_sync_client()

    async def main():
        with pytest.raises(RuntimeError, match="running a trio event loop"):
            mfa.get_status("u1")

    trio.run(main)


def test_the_loop_runs_in_one_daemon_thread(routes, make_sync_client):
    """Every client shares one loop thread, which never holds the interpreter at exit."""
    first, second = make_sync_client(), make_sync_client()
    first.get_status("u1")
    second.get_status("u1")
    loops = [t for t in threading.enumerate() if t.name == "authing-mfa-loop"]
    assert len(loops) == 1
    assert loops[0].daemon


# Python 3.12+ warns whenever a process with threads forks; surviving that fork is what this
# test checks.
@pytest.mark.filterwarnings(
    r"ignore:This process \(pid=\d+\) is multi-threaded, use of fork\(\):DeprecationWarning"
)
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_can_call_and_so_can_the_parent(routes, make_sync_client):
    """After fork() the child builds its own loop and pool; the parent keeps its own."""
    mfa = make_sync_client()
    assert mfa.get_status("u1").face
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            ok = mfa.get_status("u1").face and mfa.unassociate_mfa("u1", "OTP")
            os.write(write, b"ok" if ok else b"wrong")
        except BaseException as exc:  # noqa: BLE001
            os.write(write, repr(exc).encode()[:200])
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    assert report == b"ok"
    assert mfa.get_status("u1").face


def test_close_is_idempotent_and_final(routes, make_sync_client):
    """close() may be called twice; a closed client refuses further calls."""
    mfa = make_sync_client()
    mfa.get_status("u1")
    mfa.close()
    mfa.close()
    with pytest.raises(RuntimeError, match="closed"):
        mfa.get_status("u1")


def test_with_closes_the_client(routes, settings):
    """Leaving a with block closes the client."""
    from authing_mfa import MfaClient

    with MfaClient(**settings) as mfa:
        mfa.get_status("u1")
    with pytest.raises(RuntimeError, match="closed"):
        mfa.get_status("u1")


def test_a_process_that_never_closes_its_client_exits_promptly_and_quietly(tmp_path):
    """A module-level MfaClient left open does not hold the exit or report unclosed sockets."""
    script = tmp_path / "never_closes.py"
    script.write_text(
        "from authing_mfa import MfaClient\n"
        "from authing_mfa.testing import Emulator, run_server\n"
        "emulator = Emulator(users=['u1'])\n"
        "with run_server(emulator) as server:\n"
        "    mfa = MfaClient(host=server.url, user_pool_id=emulator.user_pool_id,\n"
        "                    secret=emulator.secret)\n"
        "    print(mfa.get_status('u1').otp)\n"
    )
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - the script is ours
        [sys.executable, "-W", "error::ResourceWarning", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "False\n"
    assert result.stderr == ""
    assert time.monotonic() - started < 15
