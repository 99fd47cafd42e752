"""The journal: every API request, oldest first, raw path kept, secrets masked."""

from __future__ import annotations

import json

import pytest
from support.emulator_api import POOL_ID, SECRET

pytestmark = pytest.mark.anyio


async def test_entries_are_oldest_first_with_their_parts(emu):
    """Each entry holds method, raw path, query, headers and parsed body, in arrival order."""
    await emu.unbind("alice", "type=OTP&x=%41")
    entries = emu.emulator.requests()
    assert [entry["method"] for entry in entries] == ["POST", "DELETE"]
    assert list(entries[1]) == ["method", "path", "query", "headers", "body"]
    assert entries[1]["path"] == "/api/v2/users/alice/mfa-bound"
    assert entries[1]["query"] == "type=OTP&x=%41"
    assert entries[1]["body"] is None
    assert entries[1]["headers"]["x-authing-userpool-id"] == POOL_ID


async def test_the_authorization_value_is_masked(emu):
    """The journal shows the authorization scheme but never the token."""
    token = await emu.token()
    await emu.get_status("alice", token)
    entry = emu.emulator.requests()[-1]
    assert entry["headers"]["authorization"] == "Bearer ***"
    assert token not in json.dumps(emu.emulator.requests())


async def test_a_bare_authorization_value_is_masked_whole(emu):
    """An authorization value without a scheme is masked entirely."""
    await emu.client.get("/api/v2/users/alice/mfa-bound", headers={"authorization": "sesame"})
    assert emu.emulator.requests()[-1]["headers"]["authorization"] == "***"


async def test_the_pool_secret_is_masked(emu):
    """The token request's secret variable is journaled as ***."""
    await emu.token()
    variables = emu.emulator.requests()[0]["body"]["variables"]
    assert variables == {"userPoolId": POOL_ID, "secret": "***"}
    assert SECRET not in json.dumps(emu.emulator.requests())


async def test_import_secret_and_recovery_code_are_masked(emu):
    """The TOTP secret and recovery code of an import are journaled as ***."""
    body = {"userId": "alice", "secret": "JBSWY3DPEHPK3PXP", "recoveryCode": "1111-2222"}
    await emu.import_totp(body)
    journaled = emu.emulator.requests()[-1]["body"]
    assert journaled == {"userId": "alice", "secret": "***", "recoveryCode": "***"}
    dump = json.dumps(emu.emulator.requests())
    assert "JBSWY3DPEHPK3PXP" not in dump
    assert "1111-2222" not in dump


async def test_the_path_is_kept_percent_encoded(emu):
    """The journal keeps the path exactly as sent, escapes included."""
    await emu.get_status("a%2Fb%20c")
    assert emu.emulator.requests()[-1]["path"] == "/api/v2/users/a%2Fb%20c/mfa-bound"


async def test_a_body_that_is_not_json_is_kept_as_text(emu):
    """A body that is not JSON is journaled as its text."""
    await emu.client.post("/api/v2/mfa/totp/import", content=b"userId=alice")
    assert emu.emulator.requests()[-1]["body"] == "userId=alice"


async def test_header_names_are_lower_case(emu):
    """Header names are journaled lower-case whatever case the client used."""
    await emu.client.get("/nowhere", headers={"X-Authing-Lang": "zh-CN"})
    assert emu.emulator.requests()[-1]["headers"]["x-authing-lang"] == "zh-CN"


async def test_clear_requests_empties_the_journal(emu):
    """clear_requests forgets every entry; later requests are journaled again."""
    await emu.token()
    emu.emulator.clear_requests()
    assert emu.emulator.requests() == []
    await emu.client.get("/nowhere")
    assert len(emu.emulator.requests()) == 1


async def test_control_requests_are_not_journaled(emu):
    """Requests to the control API leave no entry."""
    await emu.client.get("/__emulator__/requests")
    await emu.client.post("/__emulator__/users", json={"userIds": ["carol"]})
    assert emu.emulator.requests() == []


async def test_a_recorded_requests_repr_hides_the_body(emu):
    """The repr of a recorded request names method and path, not the body with its secrets."""
    await emu.token()
    recorded = emu.emulator._state.journal[0]
    assert repr(recorded) == "RecordedRequest(POST /graphql/v2)"
