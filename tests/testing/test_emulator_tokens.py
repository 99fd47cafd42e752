"""Management tokens: real HS256 JWTs, lifetimes, and revocation that is exact."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from support.emulator_api import NOT_LOGGED_IN, POOL_ID, SECRET, token_body

from authing_mfa.testing import Emulator, _app

pytestmark = pytest.mark.anyio


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_the_token_is_a_jwt_a_standard_decoder_reads(emu):
    """Header and payload decode with urlsafe_b64decode after re-padding, claims as promised."""
    answer = (await emu.client.post("/graphql/v2", json=token_body())).json()["data"]["accessToken"]
    header, payload, signature = answer["accessToken"].split(".")
    claims = json.loads(b64decode(payload))
    assert json.loads(b64decode(header)) == {"alg": "HS256", "typ": "JWT"}
    assert "=" not in header + payload + signature
    assert (claims["iat"], claims["exp"]) == (answer["iat"], answer["exp"])
    assert type(claims["iat"]) is int
    assert type(claims["exp"]) is int
    assert claims["userPoolId"] == POOL_ID
    assert isinstance(claims["jti"], str)
    assert len(b64decode(signature)) == 32


async def test_the_token_signature_verifies_with_hs256(emu):
    """The signature is HMAC-SHA256 of header.payload under the emulator's key."""
    token = await emu.token()
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(emu.emulator.signing_key, signing_input.encode(), hashlib.sha256)
    assert b64decode(signature) == expected.digest()


async def test_every_token_has_its_own_jti(emu):
    """Two tokens fetched in the same second differ by their jti."""
    tokens = [await emu.token() for _ in range(3)]
    jtis = {json.loads(b64decode(token.split(".")[1]))["jti"] for token in tokens}
    assert len(jtis) == 3


async def test_revocation_refuses_older_tokens_only(emu):
    """After a revocation the tokens issued before it are refused, those issued after are not."""
    old = await emu.token()
    assert (await emu.get_status("alice", old)).json()["code"] == 200
    assert emu.emulator.revoke_tokens() >= 1
    new = await emu.token()
    assert (await emu.get_status("alice", old)).json() == NOT_LOGGED_IN
    assert (await emu.get_status("alice", new)).json()["code"] == 200


async def test_a_token_signed_with_another_key_is_refused(emu):
    """A token with valid claims but a foreign signature answers 2020."""
    header, payload, _ = (await emu.token()).split(".")
    forged = hmac.new(b"not the key", f"{header}.{payload}".encode(), hashlib.sha256).digest()
    response = await emu.get_status("alice", f"{header}.{payload}.{b64encode(forged)}")
    assert response.json() == NOT_LOGGED_IN


async def test_a_token_with_edited_claims_is_refused(emu):
    """Changing the payload of a real token breaks its signature, which answers 2020."""
    header, payload, signature = (await emu.token()).split(".")
    claims = json.loads(b64decode(payload))
    claims["exp"] += 3600
    edited = b64encode(json.dumps(claims).encode())
    response = await emu.get_status("alice", f"{header}.{edited}.{signature}")
    assert response.json() == NOT_LOGGED_IN


async def test_another_emulators_token_is_refused(emu):
    """A token from another emulator of the same pool and secret answers 2020."""
    other = Emulator(POOL_ID, SECRET)
    token, _, _ = other._state.issue_token()
    assert (await emu.get_status("alice", token)).json() == NOT_LOGGED_IN


def test_an_expired_token_is_refused():
    """A token used after its lifetime answers 2020; one used within it does not."""
    emulator = Emulator(POOL_ID, SECRET, token_ttl=0.3, users=["alice"])
    token, exp, iat = emulator._state.issue_token()
    app_headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"x-authing-userpool-id", POOL_ID.encode()),
    ]
    assert exp - iat == 1
    assert emulator._state.accepts_token(token)
    assert _app._refusal(emulator._state, app_headers) is None
    time.sleep(0.35)
    assert not emulator._state.accepts_token(token)
    assert json.loads(_app._refusal(emulator._state, app_headers).body) == NOT_LOGGED_IN


def test_a_zero_lifetime_token_is_born_expired():
    """With token_ttl=0 every token is refused at once, which tests of refresh need."""
    emulator = Emulator(POOL_ID, SECRET, token_ttl=0)
    token, _, _ = emulator._state.issue_token()
    assert not emulator._state.accepts_token(token)


def test_a_negative_lifetime_is_refused():
    """A negative or infinite token_ttl raises ValueError."""
    with pytest.raises(ValueError, match="token_ttl"):
        Emulator(token_ttl=-1)
    with pytest.raises(ValueError, match="token_ttl"):
        Emulator(token_ttl=float("inf"))


def test_the_lifetime_sets_exp():
    """The exp claim is iat plus the configured lifetime, rounded up to whole seconds."""
    emulator = Emulator(POOL_ID, SECRET, token_ttl=90.5)
    _, exp, iat = emulator._state.issue_token()
    assert exp - iat == 91


async def test_token_requests_are_counted(emu):
    """token_requests counts the POSTs to /graphql/v2, and nothing else."""
    await emu.token()
    await emu.get_status("alice")
    await emu.client.post("/graphql/v2", json=token_body(secret="wrong"))
    assert emu.emulator.token_requests == 3


async def test_reset_keeps_issued_tokens_valid(emu):
    """After reset a token issued before it still works, for a user created after it."""
    token = await emu.token()
    emu.emulator.reset()
    emu.emulator.add_users(["carol"])
    assert (await emu.get_status("carol", token)).json()["code"] == 200
    assert emu.emulator.token_requests == 0


async def test_revoke_counts_the_live_tokens(emu):
    """revoke_tokens answers how many tokens it refused."""
    await emu.token()
    await emu.token()
    assert emu.emulator.revoke_tokens() == 2
    assert emu.emulator.revoke_tokens() == 0
