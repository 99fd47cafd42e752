"""Which HTTP stack serves a client, and that the aiohttp one behaves like the httpx one."""

from __future__ import annotations

import pytest

from authing_mfa import AsyncMfaClient
from authing_mfa._http._aiohttp import AiohttpStack, _env_proxy_for
from authing_mfa._http._httpx import HttpxStack


def client_for(server, **overrides):
    return AsyncMfaClient(
        host=server.url,
        user_pool_id=server.emulator.user_pool_id,
        secret=server.emulator.secret,
        **overrides,
    )


@pytest.mark.asyncio
async def test_asyncio_without_a_transport_sends_through_aiohttp(server, emulator):
    """Under asyncio, a client given no httpx transport or client uses the aiohttp stack."""
    async with client_for(server) as mfa:
        await mfa.get_status("u1")
        assert isinstance(mfa._ops.pipeline.stack(), AiohttpStack)
    assert emulator.requests()[-1]["headers"]["user-agent"].startswith("authing-mfa-python/")


@pytest.mark.asyncio
async def test_a_given_transport_sends_through_httpx(emulator):
    """A caller's httpx transport is always honoured."""
    async with AsyncMfaClient(
        user_pool_id=emulator.user_pool_id, secret=emulator.secret, transport=emulator.transport()
    ) as mfa:
        await mfa.get_status("u1")
        assert isinstance(mfa._ops.pipeline.stack(), HttpxStack)


def test_trio_sends_through_httpx(server, emulator):
    """aiohttp is asyncio-only, so under trio the client sends through httpx."""
    trio = pytest.importorskip("trio")
    stacks = []

    async def main():
        async with client_for(server) as mfa:
            await mfa.get_status("u1")
            stacks.append(type(mfa._ops.pipeline.stack()))

    trio.run(main)
    assert stacks == [HttpxStack]


@pytest.mark.asyncio
async def test_a_netrc_entry_for_the_host_does_not_interfere(
    server, emulator, tmp_path, monkeypatch
):
    """Credentials in ~/.netrc for the API host are ignored, as they must be with a token."""
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    async with client_for(server) as mfa:
        assert (await mfa.get_status("u1")).otp is False
    assert emulator.requests()[-1]["headers"]["authorization"] == "Bearer ***"


@pytest.mark.parametrize(
    ("environment", "host", "expected"),
    [
        ({"HTTPS_PROXY": "http://proxy:3128"}, "https://core.authing.cn", "http://proxy:3128"),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://127.0.0.1:8765", None),
        ({"HTTP_PROXY": "http://proxy:3128"}, "http://authing.internal", "http://proxy:3128"),
        (
            {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "authing.cn"},
            "https://core.authing.cn",
            None,
        ),
        ({}, "https://core.authing.cn", None),
    ],
)
def test_the_environment_names_the_proxy_once(monkeypatch, environment, host, expected):
    """HTTPS_PROXY, HTTP_PROXY and NO_PROXY pick the proxy for the client's host."""
    for name in (
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "NO_PROXY",
        "https_proxy",
        "http_proxy",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert _env_proxy_for(host) == expected
