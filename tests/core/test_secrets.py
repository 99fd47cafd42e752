"""No secret (pool secret, token, TOTP key, recovery code) in any repr, error text or log record."""

from __future__ import annotations

import logging

import httpx
import pytest
from support.fakes import AUTHENTICATOR, POOL_SECRET, RECOVERY_CODE, TOKEN, TOTP_SECRET, envelope

from authing_mfa import AuthingMfaError, MfaClient

SECRETS = (POOL_SECRET, TOKEN, TOTP_SECRET, RECOVERY_CODE, "static-token-never-shown")
STATUS_URL = "/api/v2/users/u1/mfa-bound"


def assert_no_secret(text):
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.asyncio
async def test_reprs_hide_secrets(api, make_client, settings):
    """Clients and authenticators show no secret in repr or str."""
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR))
    async with make_client() as mfa:
        totp = await mfa.import_totp("u1", TOTP_SECRET, recovery_code=RECOVERY_CODE)
        assert_no_secret(repr(mfa))
        assert_no_secret(repr(mfa._settings))
        assert_no_secret(repr(mfa._ops.pipeline.tokens))
    assert_no_secret(repr(totp))
    assert_no_secret(str(totp))
    assert totp.secret == TOTP_SECRET  # hidden from repr, not from the caller
    static = MfaClient(**{**settings, "secret": None, "access_token": SECRETS[-1]})
    assert_no_secret(repr(static))
    assert_no_secret(repr(static._settings))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "answer",
    [
        envelope(code=2004, message="用户不存在"),
        envelope(code=2020, message="尚未登录"),
        httpx.Response(502, html="<html>bad gateway</html>"),
        httpx.Response(429, headers={"retry-after": "3600"}),
        httpx.Response(200, content=b"{broken"),
        envelope(AUTHENTICATOR | {"createdAt": TOTP_SECRET, "enable": RECOVERY_CODE}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("stalled"),
    ],
)
async def test_errors_and_debug_logs_hide_secrets(api, make_client, caplog, answer):
    """Whatever goes wrong, neither the exception nor any log record at DEBUG carries a secret."""
    route = api.post("/api/v2/mfa/totp/import")
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)
    caplog.set_level(logging.DEBUG)
    async with make_client() as mfa:
        with pytest.raises(AuthingMfaError) as caught:
            await mfa.import_totp("u1", TOTP_SECRET, recovery_code=RECOVERY_CODE)
    assert_no_secret(str(caught.value))
    assert_no_secret(repr(caught.value))
    assert caplog.records, "the retries and token fetch should have logged something"
    for record in caplog.records:
        assert_no_secret(record.getMessage())


@pytest.mark.asyncio
async def test_graphql_credential_errors_hide_the_secret(api, make_client):
    """A refused pool secret is not echoed in the AuthenticationError."""
    api["token"].mock(return_value=httpx.Response(200, json={"errors": [{"message": {}}]}))
    async with make_client() as mfa:
        with pytest.raises(AuthingMfaError) as caught:
            await mfa.get_status("u1")
    assert_no_secret(str(caught.value))
    assert_no_secret(repr(caught.value))
