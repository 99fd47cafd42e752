"""Input at the edges: refused before anything is sent, naming the argument, quoting no secret."""

from __future__ import annotations

import httpx
import pytest
from fakes import POOL_ID, POOL_SECRET, TOTP_SECRET, envelope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authing_mfa import AsyncMfaClient, InvalidArgumentError, MfaClient, MfaStatus, MfaType

HEADER_SETTINGS = ["user_pool_id", "access_token", "app_id", "tenant_id", "lang"]


@pytest.mark.parametrize("client", [AsyncMfaClient, MfaClient])
@pytest.mark.parametrize("argument", HEADER_SETTINGS)
@pytest.mark.parametrize("value", ["zh-中文", "tenant\u00e9", "a\u200bb"])
def test_a_header_setting_outside_ascii_is_refused_at_construction(client, argument, value):
    """Settings sent in headers must be printable ASCII; the error names the argument."""
    arguments = {"user_pool_id": POOL_ID, "secret": POOL_SECRET, argument: value}
    with pytest.raises(InvalidArgumentError, match=f"{argument}.*non-ASCII"):
        client(**arguments)


@pytest.mark.parametrize("client", [AsyncMfaClient, MfaClient])
@pytest.mark.parametrize(
    "host",
    [
        "http://user:hunter2-password@core.authing.cn",
        "https://hunter2-password@core.authing.cn",
        "ftp://user:hunter2-password@core.authing.cn",
    ],
)
def test_a_host_with_credentials_is_refused_without_showing_them(client, host):
    """A URL's user name and password are refused, and not repeated in the message."""
    with pytest.raises(InvalidArgumentError, match="user name or password") as caught:
        client(user_pool_id=POOL_ID, secret=POOL_SECRET, host=host)
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value)


@pytest.mark.parametrize(
    "host", ["https://core.authing.cn/?debug=1", "https://core.authing.cn/#x", "https://a b.cn"]
)
def test_a_host_with_a_query_or_spaces_is_refused(host):
    """The host is a base URL: a query, a fragment or a space is refused at construction."""
    with pytest.raises(InvalidArgumentError, match="base URL"):
        AsyncMfaClient(user_pool_id=POOL_ID, secret=POOL_SECRET, host=host)


@pytest.mark.parametrize("name", ["sms", "SMS", "Sms", MfaType.SMS])
def test_is_bound_takes_a_factor_name_in_any_case(name):
    """``status.is_bound("sms")`` works as the README documents."""
    status = MfaStatus({"OTP": False, "SMS": True})
    assert status.is_bound(name)
    assert not status.is_bound("otp")
    assert not status.is_bound("email")


def test_is_bound_finds_a_factor_the_client_does_not_know_yet():
    """A factor the server adds later is found by the name it reported."""
    status = MfaStatus({"OTP": False, "WEBAUTHN": True})
    assert status.is_bound("webauthn")
    assert status.is_bound("WEBAUTHN")


def test_is_bound_refuses_what_is_not_a_name():
    with pytest.raises(InvalidArgumentError, match="mfa_type must be an MfaType or a str"):
        MfaStatus({"OTP": True}).is_bound(5)  # type: ignore[arg-type]


BAD_USER_IDS = [
    (" ", "only whitespace"),
    ("\u3000\t ", "control characters|only whitespace"),
    ("alice\u200b", "invisible formatting"),
    ("\u202ealice", "invisible formatting"),
    ("a\ufeffb", "invisible formatting"),
    ("x" * 513, "513 characters long; at most 512"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("user_id", "message"), BAD_USER_IDS)
async def test_a_user_id_that_is_surely_a_mistake_is_refused(api, make_client, user_id, message):
    """Whitespace only, zero-width or bidirectional marks, or over 512 characters: refused."""
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match=message):
            await mfa.get_status(user_id)
        with pytest.raises(InvalidArgumentError, match=message):
            await mfa.import_totp(user_id, TOTP_SECRET)
    assert api.calls.call_count == 0


@pytest.mark.asyncio
async def test_a_user_id_of_512_characters_is_sent(api, make_client):
    user_id = "u" * 512
    api.get(f"/api/v2/users/{user_id}/mfa-bound").mock(return_value=envelope({"OTP": True}))
    async with make_client() as mfa:
        assert (await mfa.get_status(user_id)).otp


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("8477-a1a6\r\nx-injected: 1", "control characters"),
        ("8477\x00a1a6", "control characters"),
        ("c" * 257, "257 characters long; at most 256"),
    ],
)
async def test_a_recovery_code_with_line_breaks_nul_or_too_long_is_refused(
    api, make_client, code, message
):
    """Recovery codes are typed by people: a CR, LF or NUL is refused and never quoted."""
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match=message) as caught:
            await mfa.import_totp("u1", TOTP_SECRET, recovery_code=code)
    assert code not in str(caught.value)
    assert api.calls.call_count == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("validate", [True, False])
async def test_a_million_character_key_is_refused_unquoted(api, make_client, validate):
    key = "A" * 1_000_000
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match="at most 1024") as caught:
            await mfa.import_totp("u1", key, validate_secret=validate)
    assert len(str(caught.value)) < 200
    assert api.calls.call_count == 0


@pytest.mark.asyncio
async def test_an_unvalidated_key_with_control_characters_is_refused(api, make_client):
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match="control characters"):
            await mfa.import_totp("u1", "key\nwith-newline", validate_secret=False)
    assert api.calls.call_count == 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    argument=st.sampled_from(HEADER_SETTINGS),
    value=st.text(min_size=1, max_size=40),
)
def test_any_header_setting_is_refused_or_sent_exactly(argument, value):
    """Whatever text a header setting holds, it is refused at construction or sent as is."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/graphql/v2":
            body = {"data": {"accessToken": {"accessToken": "t", "exp": 2, "iat": 1}}}
            return httpx.Response(200, json=body)
        return envelope({"OTP": False})

    arguments = {
        "user_pool_id": POOL_ID,
        "secret": POOL_SECRET,
        "transport": httpx.MockTransport(handler),
        argument: value,
    }
    try:
        client = MfaClient(**arguments)
    except InvalidArgumentError as exc:
        refusal = str(exc)
    else:
        refusal = None
    if refusal is not None:
        assert argument in refusal
        return
    with client:
        client.get_status("u1")
    header = {
        "user_pool_id": "x-authing-userpool-id",
        "access_token": "authorization",
        "app_id": "x-authing-app-id",
        "tenant_id": "x-authing-app-tenant-id",
        "lang": "x-authing-lang",
    }[argument]
    expected = f"Bearer {value}" if argument == "access_token" else value
    assert seen[-1].headers[header] == expected


@settings(max_examples=500, deadline=None)
@given(
    user_id=st.one_of(
        st.text(max_size=40),
        st.text(alphabet="abcdefXYZ0123456789._~-", max_size=600),
    )
)
def test_the_fast_path_for_plain_ids_encodes_as_the_full_check_does(user_id):
    """A plain id skips the full check only where the full check would change nothing."""
    from urllib.parse import quote

    from authing_mfa._validation import check_user_id, user_id_path_segment

    try:
        expected = quote(check_user_id(user_id), safe="")
    except InvalidArgumentError:
        with pytest.raises(InvalidArgumentError):
            user_id_path_segment(user_id)
    else:
        assert user_id_path_segment(user_id) == expected
