"""Bad input is refused before anything is sent, with a message naming the argument."""

from __future__ import annotations

import pytest
from support.fakes import POOL_ID, POOL_SECRET, TOTP_SECRET, envelope

from authing_mfa import AsyncMfaClient, InvalidArgumentError, MfaClient

BAD_USER_IDS = [
    ("", "user_id must not be empty"),
    (None, "user_id must be a str, not NoneType"),
    (42, "user_id must be a str, not int"),
    (b"u1", "user_id must be a str, not bytes"),
    ("u\n1", r"control characters \(found U\+000A at index 1\)"),
    ("u\x001", r"U\+0000"),
    ("u\x7f", r"U\+007F"),
    ("u\x85", r"U\+0085"),
    ("\ud800", r"U\+D800"),
    ("..", "relative path step"),
    (".", "relative path step"),
]


def operations(user_id=None, mfa_type="OTP", secret=TOTP_SECRET, **kwargs):
    return {
        "get_status": lambda mfa: mfa.get_status(user_id),
        "unassociate_mfa": lambda mfa: mfa.unassociate_mfa(user_id, mfa_type),
        "import_totp": lambda mfa: mfa.import_totp(user_id, secret, **kwargs),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(("user_id", "message"), BAD_USER_IDS)
@pytest.mark.parametrize("operation", ["get_status", "unassociate_mfa", "import_totp"])
async def test_bad_user_ids_are_refused_before_sending(
    api, make_client, user_id, message, operation
):
    """Every operation refuses an unusable user_id, and nothing reaches the server."""
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match=message):
            await operations(user_id)[operation](mfa)
    assert api.calls.call_count == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("mfa_type", "message"),
    [
        ("PASSWORD", "mfa_type must be one of OTP, FACE, SMS, EMAIL, FINGERPRINT, TOTP"),
        ("", "mfa_type must be one of"),
        (1, "mfa_type must be a str, not int"),
        (None, "mfa_type must be a str, not NoneType"),
    ],
)
async def test_bad_mfa_types_are_refused_before_sending(api, make_client, mfa_type, message):
    """unassociate_mfa refuses a factor the API does not know."""
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match=message):
            await mfa.unassociate_mfa("u1", mfa_type)
    assert api.calls.call_count == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "secret must not be empty"),
        ("   ", "secret must not be empty"),
        ("123456", "secret is not base32"),
        ("JBSWY3DP-EHPK3PXP", "secret is not base32"),
        ("JBSWY3DPE", "9 characters cannot encode whole bytes"),
        ("JBSWY3DPEHP", "11 characters cannot encode whole bytes"),
        (None, "secret must be a str, not NoneType"),
        (b"JBSWY3DPEHPK3PXP", "secret must be a str, not bytes"),
    ],
)
async def test_bad_totp_secrets_are_refused_before_sending(api, make_client, secret, message):
    """A key that is not base32 would lock its user out, so it is never sent."""
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match=message) as caught:
            await mfa.import_totp("u1", secret)
    assert api.calls.call_count == 0
    if isinstance(secret, str) and secret.strip():
        assert secret not in str(caught.value)


@pytest.mark.asyncio
@pytest.mark.parametrize(("secret", "message"), [("", "must not be empty"), (5, "not int")])
async def test_unvalidated_secrets_must_still_be_non_empty_strings(
    api, make_client, secret, message
):
    """validate_secret=False skips the base32 check but not the basic ones."""
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match=message):
            await mfa.import_totp("u1", secret, validate_secret=False)
    assert api.calls.call_count == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "message"),
    [("", "recovery_code must not be empty"), (123, "recovery_code must be a str")],
)
async def test_bad_recovery_codes_are_refused_before_sending(api, make_client, code, message):
    """An empty or non-string recovery code is refused; leave it out instead."""
    async with make_client() as mfa:
        with pytest.raises(InvalidArgumentError, match=message):
            await mfa.import_totp("u1", TOTP_SECRET, recovery_code=code)
    assert api.calls.call_count == 0


@pytest.mark.parametrize("client_class", [AsyncMfaClient, MfaClient])
def test_missing_pool_id_names_the_argument_and_variable(monkeypatch, client_class):
    """Without a pool id the constructor says which argument and variable would give one."""
    monkeypatch.delenv("AUTHING_USERPOOL_ID", raising=False)
    with pytest.raises(InvalidArgumentError, match=r"user_pool_id.*AUTHING_USERPOOL_ID"):
        client_class(secret=POOL_SECRET)


@pytest.mark.parametrize("client_class", [AsyncMfaClient, MfaClient])
def test_missing_credentials_name_the_arguments_and_variable(monkeypatch, client_class):
    """Without credentials the constructor names secret, AUTHING_USERPOOL_SECRET, access_token."""
    monkeypatch.delenv("AUTHING_USERPOOL_SECRET", raising=False)
    with pytest.raises(
        InvalidArgumentError, match=r"secret=.*AUTHING_USERPOOL_SECRET.*access_token"
    ):
        client_class(user_pool_id=POOL_ID)


@pytest.mark.asyncio
async def test_settings_come_from_the_environment(api, monkeypatch, settings):
    """AUTHING_USERPOOL_ID, AUTHING_USERPOOL_SECRET and AUTHING_HOST fill unset arguments."""
    monkeypatch.setenv("AUTHING_USERPOOL_ID", "pool-from-env")
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", "secret-from-env")
    monkeypatch.setenv("AUTHING_HOST", "https://authing.example.com")
    token = api.post("https://authing.example.com/graphql/v2").mock(
        return_value=api["token"].return_value
    )
    api.get("https://authing.example.com/api/v2/users/u1/mfa-bound").mock(return_value=envelope({}))
    async with AsyncMfaClient(transport=settings["transport"]) as mfa:
        await mfa.get_status("u1")
    request = token.calls.last.request
    assert request.headers["x-authing-userpool-id"] == "pool-from-env"
    assert b"secret-from-env" in request.content


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("timeout", 0, "timeout must be a positive number"),
        ("timeout", -1, "timeout must be a positive number"),
        ("timeout", "10", "timeout must be a number of seconds"),
        ("total_timeout", float("inf"), "total_timeout must be a positive number"),
        ("max_retries", -1, "max_retries must be an int >= 0"),
        ("max_retries", 1.5, "max_retries must be an int >= 0"),
        ("max_retries", True, "max_retries must be an int >= 0"),
        ("max_retry_wait", -1, "max_retry_wait must be a positive number"),
        ("host", "core.authing.cn", "host must be an http"),
        ("host", "ftp://core.authing.cn", "host must be an http"),
        ("user_pool_id", 5, "user_pool_id must be a str"),
        ("user_pool_id", "pool\r\nx-evil: 1", "user_pool_id .* must not contain control"),
        ("access_token", "token\nx", "access_token must not contain control"),
        ("app_id", "a\x00", "app_id must not contain control"),
        ("lang", "en\r\n", "lang must not contain control"),
        ("lang", 5, "lang must be a str"),
    ],
)
def test_bad_settings_are_refused_at_construction(argument, value, message):
    """Out-of-range or mistyped settings fail when the client is built, naming the argument."""
    arguments = {"user_pool_id": POOL_ID, "secret": POOL_SECRET, argument: value}
    with pytest.raises(InvalidArgumentError, match=message):
        AsyncMfaClient(**arguments)
