"""The README's Django views, in a minimal project, against the emulator served on loopback."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from readme_examples import load

from authing_mfa.testing import Emulator, run_server

django = pytest.importorskip("django")
from django.conf import settings  # noqa: E402 - after the skip
from django.test import AsyncClient, Client  # noqa: E402
from django.urls import clear_url_caches  # noqa: E402

URLCONF = "readme_example_django"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
USERS = [f"user{n}" for n in range(16)]


def configure_django() -> None:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="only-for-these-tests",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=URLCONF,
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            DATABASES={},
            USE_TZ=True,
            AUTHING_MFA={},
        )
        django.setup()


@pytest.fixture
def emulator():
    return Emulator(users=["alice", *USERS])


@pytest.fixture
def example(emulator):
    """The README's views module, its clients configured from settings for this emulator."""
    configure_django()
    with run_server(emulator) as server:
        settings.AUTHING_MFA = {
            "user_pool_id": emulator.user_pool_id,
            "secret": emulator.secret,
            "host": server.url,
            "wait_initial": 0.001,
            "wait_max": 0.001,
        }
        module = load("django", module_name=URLCONF)
        clear_url_caches()
        try:
            yield module
        finally:
            module.mfa.close()


def test_the_three_operations_through_sync_views(example, emulator):
    """Import, status and unbind work through the views with Django's test client."""
    client = Client()
    imported = client.post(
        "/users/alice/totp", json.dumps({"secret": TOTP_SECRET}), content_type="application/json"
    )
    bound = client.get("/users/alice/mfa")
    unbound = client.delete("/users/alice/mfa/otp")
    after = client.get("/users/alice/mfa")
    assert imported.status_code == 201
    assert imported.json()["enabled"] is True
    assert bound.json() == {"FACE": False, "OTP": True}
    assert unbound.json() == {"unbound": True}
    assert after.json()["OTP"] is False


def test_concurrent_requests_from_sixteen_threads_share_one_client(example, emulator):
    """Sixteen threads, each with its own test client, all succeed on one client and token."""
    start = threading.Barrier(len(USERS))

    def one_thread(user_id: str) -> list[int]:
        client = Client()
        start.wait()
        statuses = [
            client.post(
                f"/users/{user_id}/totp",
                json.dumps({"secret": TOTP_SECRET}),
                content_type="application/json",
            ).status_code
        ]
        statuses += [client.get(f"/users/{user_id}/mfa").status_code for _ in range(4)]
        return statuses

    with ThreadPoolExecutor(len(USERS)) as pool:
        results = list(pool.map(one_thread, USERS))
    assert results == [[201, 200, 200, 200, 200]] * len(USERS)
    assert emulator.token_requests == 1
    assert all(emulator.user(user_id)["mfaBound"]["OTP"] for user_id in USERS)


def test_an_unknown_user_is_404(example):
    """NotFoundError becomes 404 in a sync view."""
    assert Client().get("/users/nobody/mfa").status_code == 404


def test_an_unknown_factor_is_400(example):
    """InvalidArgumentError becomes 400, naming the argument."""
    answer = Client().delete("/users/alice/mfa/carrier-pigeon")
    assert answer.status_code == 400
    assert "mfa_type" in answer.json()["detail"]


def test_an_unreachable_authing_is_503(example, emulator):
    """Dropped connections, after the retries, become 503."""
    emulator.add_fault(path="/api/*", action="drop", times=None)
    assert Client().get("/users/alice/mfa").status_code == 503


@pytest.mark.asyncio
async def test_the_async_view_awaits_the_async_client(example, emulator):
    """The async view answers through Django's ASGI handler, on the test's event loop."""
    try:
        answer = await AsyncClient().get("/async/users/alice/mfa")
        missing = await AsyncClient().get("/async/users/nobody/mfa")
        opened = example.async_mfa._ops.pipeline.stack() is not None
    finally:
        await example.async_mfa.aclose()
    assert opened  # the async client, not the blocking one, made the calls
    assert answer.status_code == 200
    assert answer.json() == {"FACE": False, "OTP": False}
    assert missing.status_code == 404
    assert [request["method"] for request in emulator.requests()] == ["POST", "GET", "GET"]
