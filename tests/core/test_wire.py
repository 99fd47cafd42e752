"""What each operation puts on the wire, exactly as Authing's official SDKs do."""

from __future__ import annotations

import pytest
from support.fakes import (
    AUTHENTICATOR,
    POOL_ID,
    POOL_SECRET,
    RECOVERY_CODE,
    TOKEN,
    TOTP_SECRET,
    body_of,
    envelope,
    rest_calls,
    token_answer,
)

from authing_mfa import MfaStatus, MfaType, TotpAuthenticator, __version__

COMMON_HEADERS = {
    "x-authing-userpool-id": POOL_ID,
    "x-authing-request-from": "sdk",
    "x-authing-sdk-version": f"python-authing-mfa:{__version__}",
    "x-authing-lang": "zh-CN",
}


def assert_common_headers(request, *, authorized=True):
    for name, value in COMMON_HEADERS.items():
        assert request.headers[name] == value
    if authorized:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
    else:
        assert "authorization" not in request.headers
    assert "x-authing-app-id" not in request.headers
    assert "x-authing-app-tenant-id" not in request.headers


@pytest.mark.asyncio
async def test_token_request_is_the_graphql_access_token_query(api, make_client):
    """The token comes from POST /graphql/v2 with the accessToken query and no authorization."""
    api.get("/api/v2/users/u1/mfa-bound").mock(return_value=envelope({"OTP": False}))
    async with make_client() as mfa:
        await mfa.get_status("u1")
    request = api["token"].calls.last.request
    assert request.method == "POST"
    assert request.url == "https://core.authing.cn/graphql/v2"
    assert_common_headers(request, authorized=False)
    assert request.headers["content-type"] == "application/json"
    assert body_of(request) == {
        "query": (
            "query accessToken($userPoolId: String!, $secret: String!) { accessToken("
            "userPoolId: $userPoolId, secret: $secret) { accessToken exp iat } }"
        ),
        "variables": {"userPoolId": POOL_ID, "secret": POOL_SECRET},
    }


@pytest.mark.asyncio
async def test_get_status_sends_get_mfa_bound(api, make_client):
    """get_status is GET /api/v2/users/{id}/mfa-bound with the common headers and no body."""
    api.get("/api/v2/users/61de786b31d27307c7ce66c3/mfa-bound").mock(
        return_value=envelope({"FACE": False, "OTP": True}, message="查询成功")
    )
    async with make_client() as mfa:
        status = await mfa.get_status("61de786b31d27307c7ce66c3")
    (request,) = rest_calls(api)
    assert request.method == "GET"
    assert request.url.raw_path == b"/api/v2/users/61de786b31d27307c7ce66c3/mfa-bound"
    assert request.content == b""
    assert_common_headers(request)
    assert status == MfaStatus({"FACE": False, "OTP": True})
    assert (status.otp, status.face) == (True, False)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("given", "sent"),
    [(MfaType.OTP, "OTP"), ("face", "FACE"), ("Otp", "OTP"), (MfaType.FINGERPRINT, "FINGERPRINT")],
)
async def test_unassociate_sends_delete_with_type(api, make_client, given, sent):
    """unassociate_mfa is DELETE .../mfa-bound?type=NAME, no body, and returns True."""
    api.delete("/api/v2/users/u1/mfa-bound").mock(return_value=envelope(None, message="解绑成功"))
    async with make_client() as mfa:
        assert await mfa.unassociate_mfa("u1", given) is True
    (request,) = rest_calls(api)
    assert request.method == "DELETE"
    assert request.url.raw_path == f"/api/v2/users/u1/mfa-bound?type={sent}".encode()
    assert request.content == b""
    assert_common_headers(request)


@pytest.mark.asyncio
async def test_import_totp_posts_user_secret_and_recovery_code(api, make_client):
    """import_totp POSTs userId, secret and recoveryCode and returns the stored authenticator."""
    api.post("/api/v2/mfa/totp/import").mock(
        return_value=envelope(AUTHENTICATOR, message="添加 TOTP 验证器成功")
    )
    async with make_client() as mfa:
        totp = await mfa.import_totp(
            "61de786b31d27307c7ce66c3", TOTP_SECRET, recovery_code=RECOVERY_CODE
        )
    (request,) = rest_calls(api)
    assert request.method == "POST"
    assert request.url.raw_path == b"/api/v2/mfa/totp/import"
    assert request.headers["content-type"] == "application/json"
    assert_common_headers(request)
    assert body_of(request) == {
        "userId": "61de786b31d27307c7ce66c3",
        "secret": TOTP_SECRET,
        "recoveryCode": RECOVERY_CODE,
    }
    assert isinstance(totp, TotpAuthenticator)
    assert totp.id == "61dfdb82b3f67714c88cc855"
    assert totp.recovery_code == RECOVERY_CODE


@pytest.mark.asyncio
async def test_import_totp_leaves_recovery_code_out_when_not_given(api, make_client):
    """Without a recovery code the body has no recoveryCode key at all."""
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR))
    async with make_client() as mfa:
        await mfa.import_totp("u1", TOTP_SECRET)
    (request,) = rest_calls(api)
    assert body_of(request) == {"userId": "u1", "secret": TOTP_SECRET}


@pytest.mark.asyncio
async def test_import_totp_sends_the_normalised_secret(api, make_client):
    """Spaces, lower case and padding are normalised out of a base32 key before it is sent."""
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR))
    async with make_client() as mfa:
        await mfa.import_totp("u1", "jbsw y3dp ehpk 3pxp")
        await mfa.import_totp("u1", "GEZDGNBV======")
    first, second = rest_calls(api)
    assert body_of(first)["secret"] == TOTP_SECRET
    assert body_of(second)["secret"] == "GEZDGNBV"


@pytest.mark.asyncio
async def test_import_totp_without_validation_sends_the_key_as_given(api, make_client):
    """validate_secret=False sends the caller's key untouched."""
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR))
    async with make_client() as mfa:
        await mfa.import_totp("u1", "123456", validate_secret=False)
    (request,) = rest_calls(api)
    assert body_of(request)["secret"] == "123456"


@pytest.mark.asyncio
async def test_optional_headers_and_lang_are_sent_when_configured(api, make_client):
    """app_id, tenant_id and lang become x-authing-app-id, -app-tenant-id and -lang."""
    api.get("/api/v2/users/u1/mfa-bound").mock(return_value=envelope({}))
    async with make_client(app_id="app1", tenant_id="tenant1", lang="en-US") as mfa:
        await mfa.get_status("u1")
    for call in api.calls:
        assert call.request.headers["x-authing-app-id"] == "app1"
        assert call.request.headers["x-authing-app-tenant-id"] == "tenant1"
        assert call.request.headers["x-authing-lang"] == "en-US"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("user_id", "raw_path"),
    [
        ("a/../b", b"/api/v2/users/a%2F..%2Fb/mfa-bound"),
        ("x?type=FACE#f", b"/api/v2/users/x%3Ftype%3DFACE%23f/mfa-bound"),
        ("100%", b"/api/v2/users/100%25/mfa-bound"),
        ("用户 1", b"/api/v2/users/%E7%94%A8%E6%88%B7%201/mfa-bound"),
        ("...", b"/api/v2/users/.../mfa-bound"),
    ],
)
async def test_user_id_is_one_percent_encoded_path_segment(api, make_client, user_id, raw_path):
    """Any user id reaches the server as exactly one path segment, never another route."""
    api.get(path__regex=r"^/api/v2/users/.+/mfa-bound$").mock(return_value=envelope({}))
    async with make_client() as mfa:
        await mfa.get_status(user_id)
    (request,) = rest_calls(api)
    assert request.url.raw_path == raw_path


@pytest.mark.asyncio
async def test_host_can_be_a_private_deployment(api, make_client):
    """A host with a trailing slash is used as the base of every URL."""
    api.get("https://authing.example.com/api/v2/users/u1/mfa-bound").mock(return_value=envelope({}))
    api.post("https://authing.example.com/graphql/v2").mock(return_value=token_answer())
    async with make_client(host="https://authing.example.com/") as mfa:
        await mfa.get_status("u1")
    assert {str(call.request.url.host) for call in api.calls} == {"authing.example.com"}
