"""The loopback server and the runners: raw HTTP/1.1 behaviour, drops on the wire, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from support.emulator_api import POOL_ID, SECRET, token_body
from support.signals import interrupt, sigint_raises

from authing_mfa.testing import Emulator, LoopbackServer, run_server

GET_STATUS = b"GET /api/v2/users/alice/mfa-bound HTTP/1.1\r\nhost: x\r\n\r\n"


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ).split(b":")[1]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_dropped_request_gets_no_byte_back():
    """On the wire a drop closes the connection before a single byte of answer."""
    emulator = Emulator(users=["alice"])
    emulator.add_fault(action="drop")
    with run_server(emulator) as server, connect(server.url) as sock:
        sock.sendall(GET_STATUS)
        try:
            received = sock.recv(65536)
        except ConnectionResetError:
            received = b""
    assert received == b""
    assert len(emulator.requests()) == 1


def test_a_connection_is_kept_alive_between_requests():
    """Several requests on one connection are each answered in turn."""
    with run_server(Emulator(POOL_ID)) as server, connect(server.url) as sock:
        answers = []
        for _ in range(3):
            sock.sendall(GET_STATUS)
            answers.append(read_response(sock))
    assert all(answer.startswith(b"HTTP/1.1 200 OK\r\n") for answer in answers)
    assert all(b'"code":2224' in answer for answer in answers)


def test_a_request_that_breaks_http_is_answered_400():
    """A request line that is not HTTP gets a 400 and the connection closes."""
    with run_server() as server, connect(server.url) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert sock.recv(65536) == b""


def test_a_chunked_request_body_is_read_whole():
    """A chunked request body reaches the app in full."""
    emulator = Emulator(POOL_ID, SECRET)
    body = json.dumps(token_body()).encode()
    with run_server(emulator) as server:
        chunks = (body[i : i + 7] for i in range(0, len(body), 7))
        response = httpx.post(f"{server.url}/graphql/v2", content=chunks, trust_env=False)
    assert response.json()["data"]["accessToken"]["accessToken"]
    assert emulator.requests()[0]["headers"]["transfer-encoding"] == "chunked"


def test_leaving_run_server_closes_the_port_and_open_connections():
    """After run_server exits nothing listens, and an idle kept-alive connection is closed."""
    with run_server() as server:
        sock = connect(server.url)
        sock.sendall(b"GET /nowhere HTTP/1.1\r\nhost: x\r\n\r\n")
        read_response(sock)
    with sock, contextlib.suppress(ConnectionResetError):
        assert sock.recv(65536) == b""
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, trust_env=False)


def test_run_server_on_a_busy_port_raises():
    """Starting on a port already in use raises OSError in the caller."""
    with (
        run_server() as first,
        pytest.raises(OSError),  # noqa: PT011 - the errno varies between systems
        run_server(port=first.port),
    ):
        pass


def test_run_server_serves_a_new_emulator_by_default():
    """Without an emulator, run_server makes one and exposes it on the handle."""
    with run_server() as server:
        response = httpx.post(
            f"{server.url}/graphql/v2",
            json=token_body(server.emulator.user_pool_id, server.emulator.secret),
            trust_env=False,
        )
    assert "data" in response.json()
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_the_server_answers_500_when_the_app_fails(caplog):
    """An app that raises gets a 500 answer and a logged traceback, not a hung client."""

    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    async def main():
        server = LoopbackServer(broken)
        await server.start()
        try:
            async with httpx.AsyncClient(trust_env=False) as client:
                return await client.get(f"{server.url}/x")
        finally:
            await server.aclose()

    with caplog.at_level(logging.ERROR, logger="authing_mfa.testing"):
        response = asyncio.run(main())
    assert response.status_code == 500
    assert "boom" in caplog.text


@pytest.mark.anyio
async def test_concurrent_requests_and_control_calls_from_another_thread():
    """Requests served on the server's loop while the test thread mutates the state all succeed."""
    emulator = Emulator(POOL_ID, SECRET, users=["alice"])
    with run_server(emulator) as server:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
            token = (await client.post("/graphql/v2", json=token_body())).json()["data"]
            headers = {
                "authorization": f"Bearer {token['accessToken']['accessToken']}",
                "x-authing-userpool-id": POOL_ID,
            }

            codes = []

            async def ask():
                response = await client.get("/api/v2/users/alice/mfa-bound", headers=headers)
                codes.append(response.json()["code"])

            async def mutate():
                for index in range(50):
                    await anyio.to_thread.run_sync(emulator.add_users, [f"user{index}"])

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(mutate)
                for _ in range(50):
                    tasks.start_soon(ask)
    assert codes == [200] * 50
    assert emulator.stats()["users"] == 51


def test_python_m_prints_the_banner_and_stops_on_ctrl_c():
    """``python -m authing_mfa.testing`` prints its banner and exits 0 on SIGINT."""
    root = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-m", "authing_mfa.testing", "--port", "0", "--users", "2"]
    command += ["--user-pool-id", POOL_ID, "--secret", "banner-secret"]
    env = {**os.environ, "PYTHONPATH": root}
    with (
        sigint_raises(),
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process,  # noqa: S603
    ):
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert interrupt(process, timeout=10) == 0
    banner = "".join(lines)
    assert lines[0].startswith("Authing MFA emulator listening on http://127.0.0.1:")
    assert f"user pool id:  {POOL_ID}" in banner
    assert "secret:        banner-secret" in banner
    assert "users (2):" in banner
    assert len([line for line in lines if line.startswith("    ")]) == 2


def test_the_app_acknowledges_lifespan_events():
    """Under an ASGI server that sends lifespan events the app completes them."""
    sent = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(Emulator().app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.anyio
async def test_the_app_works_under_httpx_asgi_transport():
    """Under httpx's own ASGITransport, whose raw_path carries the query, unbind still works."""
    emulator = Emulator(POOL_ID, SECRET, users=["alice"])
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        token = (await client.post("/graphql/v2", json=token_body())).json()["data"]
        headers = {
            "authorization": f"Bearer {token['accessToken']['accessToken']}",
            "x-authing-userpool-id": POOL_ID,
        }
        response = await client.delete("/api/v2/users/alice/mfa-bound?type=OTP", headers=headers)
    assert response.json()["message"] == "解绑成功"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_the_in_process_transport_runs_on_trio(anyio_backend):
    """Under trio the transport answers, stalls into ReadTimeout and drops like on asyncio."""
    emulator = Emulator(POOL_ID, SECRET, users=["alice"])
    emulator.add_fault(path="/nowhere", delay=1)
    emulator.add_fault(path="/gone", action="drop")
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://x") as client:
        response = await client.post("/graphql/v2", json=token_body())
        assert response.json()["data"]["accessToken"]["accessToken"]
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/nowhere", timeout=0.05)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/gone")
