"""The control API over HTTP, its Python twins on Emulator and EmulatorControl, and spawn_server."""

from __future__ import annotations

import os
import re

import httpx
import pytest
from support.emulator_api import POOL_ID, token_body

from authing_mfa.testing import Emulator, EmulatorControl, Fault, run_server, spawn_server

pytestmark = pytest.mark.anyio


async def test_post_users_creates_users(emu):
    """POST /__emulator__/users with userIds creates them and answers their ids."""
    response = await emu.client.post("/__emulator__/users", json={"userIds": ["carol", "dave"]})
    assert response.json() == {"userIds": ["carol", "dave"]}
    assert (await emu.get_status("carol")).json()["code"] == 200


async def test_post_users_with_a_count_generates_ids(emu):
    """POST /__emulator__/users with count creates that many users with Authing-like ids."""
    response = await emu.client.post("/__emulator__/users", json={"count": 3})
    user_ids = response.json()["userIds"]
    assert len(set(user_ids)) == 3
    assert all(re.fullmatch("[0-9a-f]{24}", user_id) for user_id in user_ids)
    assert emu.emulator.stats()["users"] == 5


async def test_get_user_shows_bindings_and_key(emu):
    """GET /__emulator__/users/{id} shows the user's bindings and the imported record."""
    record = (await emu.import_totp({"userId": "alice", "secret": "JBSWY3DPEHPK3PXP"})).json()
    response = await emu.client.get("/__emulator__/users/alice")
    assert response.json() == {
        "userId": "alice",
        "mfaBound": {"FACE": False, "OTP": True},
        "totp": record["data"],
    }


async def test_get_user_decodes_its_segment_once(emu):
    """The control API's user id segment is decoded once, like the API's."""
    emu.emulator.add_users(["a/b"])
    response = await emu.client.get("/__emulator__/users/a%2Fb")
    assert response.json()["userId"] == "a/b"


async def test_get_unknown_user_is_404(emu):
    """GET /__emulator__/users/{id} of an unknown user answers 404."""
    response = await emu.client.get("/__emulator__/users/nobody")
    assert response.status_code == 404
    assert emu.emulator.user("nobody") is None


async def test_post_faults_queues_camel_case_faults(emu):
    """POST /__emulator__/faults reads the camelCase fields of the control API."""
    fault = {"method": "GET", "path": "/api/v2/users/*/mfa-bound", "times": 2}
    fault |= {"status": 503, "retryAfter": 1, "delay": 0.01, "action": "respond"}
    response = await emu.client.post("/__emulator__/faults", json={"faults": [fault]})
    assert response.json() == {"added": 1}
    answers = [await emu.get_status("alice") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [503, 503, 200]
    assert answers[0].headers["retry-after"] == "1"


async def test_delete_faults_forgets_them(emu):
    """DELETE /__emulator__/faults forgets the faults not yet applied."""
    emu.emulator.add_fault(status=500, times=None)
    await emu.client.delete("/__emulator__/faults")
    assert (await emu.get_status("alice")).status_code == 200


async def test_post_revoke_refuses_earlier_tokens(emu):
    """POST /__emulator__/tokens/revoke refuses every token issued so far."""
    token = await emu.token()
    response = await emu.client.post("/__emulator__/tokens/revoke")
    assert response.json() == {"revoked": 1}
    assert (await emu.get_status("alice", token)).json()["code"] == 2020


async def test_get_and_delete_requests(emu):
    """GET /__emulator__/requests answers the journal; DELETE empties it."""
    await emu.get_status("alice")
    journal = (await emu.client.get("/__emulator__/requests")).json()["requests"]
    assert [entry["path"] for entry in journal] == ["/graphql/v2", "/api/v2/users/alice/mfa-bound"]
    assert journal == emu.emulator.requests()
    await emu.client.delete("/__emulator__/requests")
    assert (await emu.client.get("/__emulator__/requests")).json() == {"requests": []}


async def test_get_stats(emu):
    """GET /__emulator__/stats counts token requests, journal entries and users."""
    await emu.get_status("alice")
    response = await emu.client.get("/__emulator__/stats")
    assert response.json() == {"tokenRequests": 1, "requests": 2, "users": 2}


async def test_post_reset_forgets_everything(emu):
    """POST /__emulator__/reset forgets users, faults and the journal."""
    await emu.token()
    emu.emulator.add_fault(status=500)
    await emu.client.post("/__emulator__/reset")
    assert emu.emulator.stats() == {"tokenRequests": 0, "requests": 0, "users": 0}
    assert (await emu.get_status("alice")).json()["code"] == 2004


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__emulator__/users", b"not json"),
        ("/__emulator__/users", b"[]"),
        ("/__emulator__/users", b'{"userIds": "alice"}'),
        ("/__emulator__/users", b'{"userIds": [""]}'),
        ("/__emulator__/users", b'{"count": -1}'),
        ("/__emulator__/faults", b'{"faults": {"status": 500}}'),
        ("/__emulator__/faults", b'{"faults": [{"status": 500}, {"action": "explode"}]}'),
        ("/__emulator__/faults", b'{"faults": ["drop"]}'),
    ],
)
async def test_a_malformed_control_request_is_400(emu, path, body):
    """A malformed control request answers 400 with an error and changes nothing."""
    response = await emu.client.post(path, content=body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert len(emu.emulator._state.faults) == 0
    assert emu.emulator.stats()["users"] == 2


async def test_an_unknown_control_route_is_404(emu):
    """A path under /__emulator__ that is no control route answers 404."""
    response = await emu.client.get("/__emulator__/nothing")
    assert response.status_code == 404


async def test_a_wrong_control_method_is_405(emu):
    """A control route called with a method it lacks answers 405 naming those it takes."""
    response = await emu.client.put("/__emulator__/requests")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, DELETE"


def test_a_generated_pool_looks_like_authings():
    """Without arguments the pool gets a 24-hex-digit id and a random secret."""
    first, second = Emulator(), Emulator()
    assert re.fullmatch("[0-9a-f]{24}", first.user_pool_id)
    assert len(first.secret) >= 32
    assert first.secret != second.secret
    assert first.user_pool_id != second.user_pool_id


def test_the_repr_leaves_the_secret_out():
    """An emulator's repr names its pool but never its secret."""
    emulator = Emulator(POOL_ID, "top-secret-value")
    assert POOL_ID in repr(emulator)
    assert "top-secret-value" not in repr(emulator)


def test_add_users_keeps_existing_users():
    """Adding an existing user leaves its TOTP key in place."""
    emulator = Emulator(users=["alice"])
    emulator._state.import_totp("alice", "JBSWY3DPEHPK3PXP", None)
    assert emulator.add_users(["alice", "bob"]) == ["alice", "bob"]
    assert emulator.user("alice")["mfaBound"]["OTP"] is True


@pytest.mark.parametrize("user_id", ["", None, 3])
def test_add_users_refuses_bad_ids(user_id):
    """A user id that is not a non-empty string raises ValueError."""
    with pytest.raises(ValueError, match="user id"):
        Emulator().add_users([user_id])


def test_emulator_control_drives_a_threaded_server():
    """EmulatorControl's methods act on the emulator behind the URL."""
    emulator = Emulator(POOL_ID)
    with run_server(emulator) as server, EmulatorControl(server.url) as control:
        assert control.add_users(["alice"]) == ["alice"]
        assert len(control.create_users(2)) == 2
        assert control.user("alice") == emulator.user("alice")
        assert control.user("nobody") is None
        assert control.add_fault(path="/nowhere", status=418) == Fault(path="/nowhere", status=418)
        control.add_faults([{"path": "/elsewhere", "action": "drop"}])
        assert len(emulator._state.faults) == 2
        control.clear_faults()
        assert len(emulator._state.faults) == 0
        httpx.get(f"{server.url}/nowhere", trust_env=False)
        assert control.requests() == emulator.requests()
        assert control.stats() == {"tokenRequests": 0, "requests": 1, "users": 3}
        control.clear_requests()
        assert emulator.requests() == []
        assert control.token_requests == 0
        assert control.revoke_tokens() == 0
        control.reset()
        assert emulator.stats()["users"] == 0


def test_emulator_control_raises_value_error_for_a_bad_fault():
    """EmulatorControl raises ValueError where the control API answers 400."""
    with (
        run_server() as server,
        EmulatorControl(server.url) as control,
        pytest.raises(ValueError, match="action"),
    ):
        control.add_faults([{"action": "explode"}])


def test_spawn_server_serves_from_a_child_process():
    """spawn_server runs the emulator in another process, reachable and controllable."""
    with spawn_server(users=2, token_ttl=60) as server:
        assert server.pid != os.getpid()
        assert len(server.user_ids) == 2
        with httpx.Client(base_url=server.url, trust_env=False) as client:
            body = token_body(server.user_pool_id, server.secret)
            answer = client.post("/graphql/v2", json=body).json()["data"]["accessToken"]
            assert answer["exp"] - answer["iat"] == 60
            server.control.add_fault(path="/api/*", action="drop")
            headers = {
                "authorization": f"Bearer {answer['accessToken']}",
                "x-authing-userpool-id": server.user_pool_id,
            }
            with pytest.raises(httpx.RemoteProtocolError):
                client.get(f"/api/v2/users/{server.user_ids[0]}/mfa-bound", headers=headers)
            response = client.get(f"/api/v2/users/{server.user_ids[0]}/mfa-bound", headers=headers)
            assert response.json()["data"] == {"FACE": False, "OTP": False}
        assert server.control.token_requests == 1
        assert len(server.control.requests()) == 3
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, trust_env=False)


def test_spawn_server_keeps_the_secret_out_of_its_repr():
    """A spawned server's handle never shows its secret in repr."""
    with spawn_server(secret="spawned-secret") as server:
        assert server.secret == "spawned-secret"
        assert "spawned-secret" not in repr(server)
