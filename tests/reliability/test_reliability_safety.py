"""Safety against hostile input and hostile conditions: ids, TLS, fork, threads, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.clients import client_options
from support.netstat import connections_to
from support.signals import sigint_raises

from authing_mfa import (
    AsyncMfaClient,
    ConnectionError,  # noqa: A004
    InvalidArgumentError,
    MfaClient,
)
from authing_mfa.testing import spawn_server

WAITS = {"wait_initial": 0.01, "wait_max": 0.05}


def assert_delivered_as_one_segment(emulator, user_id):
    (request,) = [r for r in emulator.requests() if r["path"].startswith("/api/")]
    segments = request["path"].split("/")
    assert segments[:4] == ["", "api", "v2", "users"]
    assert segments[5:] == ["mfa-bound"]
    assert unquote(segments[4], errors="strict") == user_id


HOSTILE = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("/.?#%&=+;\\ \t\n\x00\x7f\u2028ü用户🙂%2F%2e"), max_size=12),
    st.sampled_from(
        [
            "..",
            ".",
            "a/../b",
            "../../graphql/v2",
            "?type=FACE",
            "#x",
            "%2F",
            "%252F",
            "u1/mfa-bound?x=",
            "..%2F",
        ]
    ),
)


def check_hostile_id(emulator, get_status, user_id):
    emulator.clear_requests()
    # An id the emulator cannot hold (an empty one) is one the client must refuse.
    with contextlib.suppress(ValueError):
        emulator.add_users([user_id])
    try:
        status = get_status(user_id)
    except InvalidArgumentError:
        assert emulator.requests() == []
        return
    assert status.otp is False
    assert_delivered_as_one_segment(emulator, user_id)


HYPOTHESIS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.slow
@HYPOTHESIS
@given(user_id=HOSTILE)
def test_any_user_id_is_refused_or_delivered_as_one_segment_sync(server, sync_mfa, user_id):
    """Through MfaClient, an arbitrary id is refused before sending or reaches one path segment."""
    check_hostile_id(server.emulator, sync_mfa.get_status, user_id)


@HYPOTHESIS
@given(user_id=HOSTILE)
def test_any_user_id_is_refused_or_delivered_as_one_segment_async(server, async_runner, user_id):
    """Through AsyncMfaClient, an arbitrary id is refused before sending or reaches one segment."""
    loop, mfa = async_runner
    check_hostile_id(
        server.emulator, lambda uid: loop.run_until_complete(mfa.get_status(uid)), user_id
    )


@pytest.fixture
def sync_mfa(server):
    with MfaClient(**client_options(server, **WAITS)) as mfa:
        yield mfa


@pytest.fixture
def async_runner(server):
    """An event loop of this thread (asyncio.Runner is Python 3.11+) and a client used on it."""
    loop = asyncio.new_event_loop()
    try:
        mfa = AsyncMfaClient(**client_options(server, **WAITS))
        yield loop, mfa
        loop.run_until_complete(mfa.aclose())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


@pytest.fixture(scope="module")
def tls_server():
    """An HTTPS responder on loopback whose certificate no public CA signed."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    body = b'{"data":{"accessToken":{"accessToken":"t","exp":2,"iat":1}}}'
    seen = []

    async def handle(reader, writer):
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    ready, stop, port = threading.Event(), None, []

    async def serve():
        nonlocal stop
        stop = asyncio.Event()
        tcp = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        port.append(tcp.sockets[0].getsockname()[1])
        ready.set()
        await stop.wait()
        tcp.close()
        await tcp.wait_closed()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait()
    yield f"https://127.0.0.1:{port[0]}", ca, seen
    loop.call_soon_threadsafe(stop.set)
    thread.join()
    loop.close()


@pytest.mark.asyncio
async def test_tls_certificates_are_verified_by_default(tls_server):
    """A server whose certificate is not trusted is refused before anything is sent."""
    url, _, seen = tls_server
    seen.clear()
    async with AsyncMfaClient(host=url, user_pool_id="p", secret="s", max_retries=0) as mfa:
        with pytest.raises(ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            await mfa.get_status("u1")
    assert seen == []


@pytest.mark.asyncio
async def test_a_caller_trusting_the_ca_reaches_the_tls_server(tls_server):
    """With an http_client that trusts the CA, the same server is reached (the test is sound)."""
    url, ca, seen = tls_server
    seen.clear()
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    async with httpx.AsyncClient(verify=trusting) as http_client:
        mfa = AsyncMfaClient(
            host=url, user_pool_id="p", secret="s", max_retries=0, http_client=http_client
        )
        with pytest.raises(Exception):  # noqa: B017, PT011 - the responder answers nonsense
            await mfa.get_status("u1")
    assert seen[0].startswith(b"POST /graphql/v2 ")


# Python 3.12+ warns whenever a process with threads forks; surviving that fork is what this
# test checks.
@pytest.mark.filterwarnings(
    r"ignore:This process \(pid=\d+\) is multi-threaded, use of fork\(\):DeprecationWarning"
)
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_parent_then_four_forked_children_then_parent_all_succeed(server, emulator):
    """An MfaClient used before fork() works in four children, each on its own, and after."""
    emulator.add_users([f"child-{n}" for n in range(4)])
    mfa = MfaClient(**client_options(server, **WAITS))
    assert mfa.get_status("u1").otp is False
    children = []
    for n in range(4):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - reports through the pipe
            code = 1
            try:
                user = f"child-{n}"
                mfa.import_totp(user, "JBSWY3DPEHPK3PXP")
                ok = all(mfa.get_status(user).otp for _ in range(5))
                os.write(write, b"ok" if ok else b"wrong")
                code = 0
            except BaseException as exc:  # noqa: BLE001
                os.write(write, repr(exc).encode()[:300])
            finally:
                os._exit(code)
        os.close(write)
        children.append((pid, read))
    reports = []
    for pid, read in children:
        with os.fdopen(read, "rb") as pipe:
            reports.append(pipe.read())
        os.waitpid(pid, 0)
    assert reports == [b"ok"] * 4
    assert all(emulator.user(f"child-{n}")["mfaBound"]["OTP"] for n in range(4))
    assert mfa.get_status("u1").otp is False
    mfa.close()


@pytest.mark.slow
def test_64_threads_times_200_calls_share_one_client_and_one_token():
    """64 threads making 200 calls each on one MfaClient all get right answers, with one token."""
    with spawn_server() as server:  # its own process: the threads here contend for the GIL
        server.control.add_users([f"t{n}" for n in range(64)])
        mfa = MfaClient(**client_options(server))
        results = run_threads(mfa)
        token_requests = server.control.stats()["tokenRequests"]
    assert [set(r) for r in results] == [{bool(n % 2)} for n in range(64)]
    assert token_requests == 1


def run_threads(mfa):

    def worker(n):
        user = f"t{n}"
        if n % 2:
            mfa.import_totp(user, "JBSWY3DPEHPK3PXP")
        return [mfa.get_status(user).otp for _ in range(200)]

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(worker, range(64)))
    mfa.close()
    return results


@pytest.mark.slow  # waits out a real stall
@pytest.mark.asyncio
async def test_a_cancelled_call_leaves_the_client_usable_and_its_pool_clean(server, emulator):
    """A call cut off by a cancel scope deadline leaves no stuck connection behind."""
    emulator.add_fault(method="GET", path="/api/v2/users/*/mfa-bound", delay=2, times=3)
    async with AsyncMfaClient(
        **client_options(server, **WAITS), limits=httpx.Limits(max_connections=3)
    ) as mfa:
        await mfa.import_totp("u1", "JBSWY3DPEHPK3PXP")  # warm: token and one connection
        for _ in range(3):
            with anyio.move_on_after(0.2) as scope:
                await mfa.get_status("u1")
            assert scope.cancelled_caught
        # With three connections at most, a stuck one would make these wait or fail.
        started = time.monotonic()
        results = [await mfa.get_status("u1") for _ in range(10)]
        assert time.monotonic() - started < 1.5
        assert all(status.otp for status in results)
        held = connections_to(server.port)
        assert held is None or held <= 3


def test_a_keyboard_interrupt_leaves_the_portal_working(server, emulator):
    """Ctrl-C during a blocking call interrupts it; the next calls on the same client work."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    emulator.add_fault(method="GET", path="/api/v2/users/*/mfa-bound", delay=3, times=1)
    with MfaClient(**client_options(server, **WAITS)) as mfa:
        mfa.import_totp("u1", "JBSWY3DPEHPK3PXP")
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        with sigint_raises():
            timer.start()
            started = time.monotonic()
            try:
                with pytest.raises(KeyboardInterrupt):
                    mfa.get_status("u1")
            finally:
                timer.cancel()  # no SIGINT may arrive once the handler is gone
        assert time.monotonic() - started < 2.0
        assert mfa.get_status("u1").otp is True
