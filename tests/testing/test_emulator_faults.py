"""Faults as a client sees them, in process and on loopback: statuses, pages, drops, stalls."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from authing_mfa.testing import Emulator, Fault

pytestmark = pytest.mark.anyio


STATUS_PATH = "/api/v2/users/*/mfa-bound"


async def test_respond_with_a_5xx_status_is_an_nginx_page(emu):
    """A 502 fault answers nginx's HTML Bad Gateway page, without Authing's request id."""
    emu.emulator.add_fault(path=STATUS_PATH, status=502)
    response = await emu.get_status("alice")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in response.text
    assert "<center>nginx</center>" in response.text
    assert "x-request-id" not in response.headers


async def test_respond_sends_retry_after(emu):
    """A fault's retryAfter becomes the Retry-After header of its answer."""
    emu.emulator.add_fault(path=STATUS_PATH, status=503, retry_after=2)
    response = await emu.get_status("alice")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "503 Service Unavailable" in response.text


@pytest.mark.parametrize("status", [400, 401, 403, 429])
async def test_respond_with_a_4xx_status_is_an_envelope(emu, status):
    """A non-5xx fault answers its status with an envelope carrying it as the code."""
    emu.emulator.add_fault(path=STATUS_PATH, status=status, retry_after=1.0)
    response = await emu.get_status("alice")
    body = response.json()
    assert response.status_code == status
    assert (body["code"], body["data"]) == (status, None)
    assert body["message"]
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-request-id"]


async def test_drop_closes_the_connection_unanswered(emu):
    """A dropped request raises httpx's error for a server that closed without answering."""
    emu.emulator.add_fault(path=STATUS_PATH, action="drop")
    headers = await emu.headers()
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers)
    response = await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers)
    assert response.json()["code"] == 200


async def test_malformed_is_a_broken_json_body(emu):
    """A malformed fault answers 200, application/json, with a body JSON cannot parse."""
    emu.emulator.add_fault(path=STATUS_PATH, action="malformed")
    response = await emu.get_status("alice")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_delay_without_status_answers_normally_late(emu):
    """A delay-only fault stalls the request, then answers it as usual."""
    emu.emulator.add_fault(path=STATUS_PATH, delay=0.2)
    started = time.monotonic()
    response = await emu.get_status("alice")
    assert time.monotonic() - started >= 0.2
    assert response.json()["data"] == {"FACE": False, "OTP": False}


async def test_a_delay_longer_than_the_read_timeout_times_out(emu):
    """A stall longer than the client's read timeout raises httpx.ReadTimeout."""
    emu.emulator.add_fault(path=STATUS_PATH, delay=2)
    headers = await emu.headers()
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers, timeout=0.1)
    assert time.monotonic() - started < 1.5


async def test_delay_then_drop(emu):
    """Delay applies before the action, dropping included."""
    emu.emulator.add_fault(path=STATUS_PATH, delay=0.1, action="drop")
    headers = await emu.headers()
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers)
    assert time.monotonic() - started >= 0.1


async def test_a_fault_applies_to_the_next_times_requests_only(emu):
    """A fault with times=2 answers two matching requests, then the server behaves."""
    emu.emulator.add_fault(path=STATUS_PATH, status=500, times=2)
    statuses = [(await emu.get_status("alice")).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


async def test_a_fault_without_times_limit_applies_until_cleared(emu):
    """A fault with times=None answers every matching request until the faults are cleared."""
    emu.emulator.add_fault(path=STATUS_PATH, status=503, times=None)
    statuses = [(await emu.get_status("alice")).status_code for _ in range(3)]
    emu.emulator.clear_faults()
    statuses.append((await emu.get_status("alice")).status_code)
    assert statuses == [503, 503, 503, 200]


async def test_a_fault_matches_its_method_only(emu):
    """A DELETE fault leaves a GET on the same path alone, then catches the DELETE."""
    emu.emulator.add_fault(path=STATUS_PATH, method="delete", status=500)
    assert (await emu.get_status("alice")).status_code == 200
    assert (await emu.unbind("alice")).status_code == 500


async def test_a_fault_matches_its_path_glob_only(emu):
    """A fault on the token path leaves REST paths alone."""
    emu.emulator.add_fault(path="/graphql/v2", status=503)
    token_answer = await emu.client.post("/graphql/v2", json={})
    assert token_answer.status_code == 503
    assert (await emu.get_status("alice")).status_code == 200


async def test_the_path_glob_sees_the_raw_path(emu):
    """The glob matches the path still percent-encoded."""
    emu.emulator.add_users(["a/b"])
    emu.emulator.add_fault(path="/api/v2/users/a%2Fb/*", status=500)
    assert (await emu.get_status("a%2Fb")).status_code == 500


async def test_faults_apply_in_the_order_added(emu):
    """When two faults match, the one added first applies first."""
    emu.emulator.add_faults(
        [Fault(path=STATUS_PATH, status=500), {"path": "*", "status": 502, "method": "GET"}]
    )
    statuses = [(await emu.get_status("alice")).status_code for _ in range(3)]
    assert statuses == [500, 502, 200]


async def test_faulted_and_dropped_requests_are_journaled(emu):
    """Faulted and dropped requests appear in the journal like any other."""
    emu.emulator.add_fault(path=STATUS_PATH, action="drop")
    emu.emulator.add_fault(path=STATUS_PATH, status=503)
    headers = await emu.headers()
    emu.emulator.clear_requests()
    with pytest.raises(httpx.RemoteProtocolError):
        await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers)
    await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers)
    assert [entry["path"] for entry in emu.emulator.requests()] == [
        "/api/v2/users/alice/mfa-bound"
    ] * 2


async def test_control_requests_are_never_faulted(emu):
    """A fault on every path leaves the control API alone."""
    emu.emulator.add_fault(path="*", action="drop", times=None)
    response = await emu.client.get("/__emulator__/stats")
    assert response.status_code == 200
    assert response.json()["requests"] == 0


async def test_a_faulted_token_request_is_counted(emu):
    """A token request answered by a fault still counts as a token request."""
    emu.emulator.add_fault(path="/graphql/v2", status=503)
    await emu.client.post("/graphql/v2", json={})
    assert emu.emulator.token_requests == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "explode"},
        {"status": 99},
        {"status": 600},
        {"status": "503"},
        {"times": 0},
        {"times": 1.5},
        {"delay": -1},
        {"delay": float("inf")},
        {"action": "drop", "status": 503},
        {"action": "malformed", "retryAfter": 1},
        {"retryAfter": True},
        {"path": 3},
        {"method": 3},
        {"pathGlob": "*"},
    ],
)
def test_a_malformed_fault_is_refused(fields):
    """A fault with a bad or unknown field raises ValueError and nothing is queued."""
    emulator = Emulator()
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        emulator.add_faults([{"path": "/ok"}, fields])
    emulator.add_fault(path="*", status=None)
    assert emulator._state.faults._pending[0].fault.path == "*"
    assert len(emulator._state.faults) == 1


def test_a_fault_object_defaults_to_one_normal_answer():
    """A bare Fault matches every path and method once and answers normally."""
    fault = Fault()
    assert (fault.path, fault.method, fault.times, fault.status) == ("*", None, 1, None)
    assert (fault.retry_after, fault.delay, fault.action) == (None, 0.0, "respond")


def test_a_fault_method_is_case_insensitive():
    """A fault's method is stored upper-case, as requests carry it."""
    assert Fault(method="get").method == "GET"
