"""``authing_env``: applications that build their client from the environment, unchanged.

The README's FastAPI app (its ``create_app()`` reads the ``AUTHING_*`` variables), a module
that builds one client on first import, and a Django view, each run against the emulator by
tests that only ask for ``authing_env``.
"""

from __future__ import annotations

import pytest
from conftest import then_no_connection_left
from readme_examples import examples

pytest_plugins = ["pytester"]

pytest.importorskip("fastapi")
pytest.importorskip("django")


@pytest.fixture
def fastapi_app(suite):
    """The README's FastAPI example as the suite's module ``app``."""
    _, code = examples()["fastapi"]
    suite.makepyfile(app=code)
    return suite


def test_the_readme_fastapi_app_under_starlettes_test_client(fastapi_app):
    """``TestClient`` runs the app, whose lifespan builds its client from the environment."""
    fastapi_app.makepyfile(
        then_no_connection_left(
            """
        import pytest
        from fastapi.testclient import TestClient

        from app import create_app

        @pytest.mark.authing_users("alice")
        def test_import_then_status(authing_env):
            with TestClient(create_app()) as http:
                imported = http.post("/users/alice/totp", json={"secret": "JBSWY3DPEHPK3PXP"})
                status = http.get("/users/alice/mfa")
            assert imported.status_code == 201
            assert status.json() == {"FACE": False, "OTP": True}
            alice = authing_env.emulator.user("alice")
            assert alice is not None
            assert alice["totp"]["secret"] == "JBSWY3DPEHPK3PXP"

        def test_an_unknown_user_is_the_apps_404(authing_env):
            with TestClient(create_app()) as http:
                assert http.get("/users/nobody/mfa").status_code == 404
        """
        )
    )
    # Recent Starlette asks for httpx2 under its test client, with a warning on import.
    quiet = "ignore:Using `httpx` with `starlette.testclient` is deprecated"
    fastapi_app.runpytest_inprocess("-W", quiet).assert_outcomes(passed=3)


def test_the_readme_fastapi_app_through_its_lifespan_under_anyio(fastapi_app):
    """asgi-lifespan and httpx's ASGI transport, on asyncio and trio, in the test's own loop."""
    fastapi_app.makepyfile(
        then_no_connection_left(
            """
        import httpx
        import pytest
        from asgi_lifespan import LifespanManager

        from app import create_app

        @pytest.fixture(params=["asyncio", "trio"])
        def anyio_backend(request):
            return request.param

        @pytest.mark.anyio
        @pytest.mark.authing_users("alice")
        async def test_unbind(authing_env):
            async with LifespanManager(create_app()) as manager:
                transport = httpx.ASGITransport(manager.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                    answer = await http.delete("/users/alice/mfa/otp")
            assert answer.json() == {"unbound": True}
            assert [request["method"] for request in authing_env.emulator.requests()] == [
                "POST",
                "DELETE",
            ]
        """
        )
    )
    fastapi_app.runpytest_inprocess().assert_outcomes(passed=3)


def test_a_client_built_once_on_first_import_serves_every_later_test(suite):
    """The URL and credentials stay the same from test to test, and so does the token."""
    suite.makepyfile(
        service="""
        from authing_mfa import MfaClient

        mfa = MfaClient(wait_initial=0, wait_max=0)  # the AUTHING_* variables, read once

        def has_otp(user_id):
            return mfa.get_status(user_id).otp
        """
    )
    suite.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.authing_users("alice")

        def test_first(authing_env):
            import service

            assert not service.has_otp("alice")
            assert authing_env.emulator.token_requests == 1

        def test_second(authing_env, authing_client):
            import service  # already imported by the first test

            authing_client.import_totp("alice", "JBSWY3DPEHPK3PXP")
            before = authing_env.emulator.token_requests
            assert service.has_otp("alice")
            assert authing_env.emulator.token_requests == before  # its token still works
        """
    )
    # A subprocess: the module's client lives until the interpreter exits.
    suite.runpytest_subprocess().assert_outcomes(passed=2)


DJANGO_VIEWS = """
from django.http import JsonResponse
from django.urls import path

from authing_mfa import MfaClient

mfa = MfaClient()  # the AUTHING_* variables, read when Django first loads these URLs


def mfa_status(request, user_id):
    return JsonResponse(dict(mfa.get_status(user_id).factors))


def unbind(request, user_id, mfa_type):
    return JsonResponse({"unbound": mfa.unassociate_mfa(user_id, mfa_type)})


urlpatterns = [
    path("users/<str:user_id>/mfa", mfa_status),
    path("users/<str:user_id>/mfa/<str:mfa_type>", unbind),
]
"""

DJANGO_TESTS = """
import django
import pytest
from django.conf import settings

settings.configure(
    SECRET_KEY="only-for-these-tests",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF="views",
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
    USE_TZ=True,
)
django.setup()

from django.test import Client

pytestmark = pytest.mark.authing_users("alice")


def test_status(authing_env):
    assert Client().get("/users/alice/mfa").json() == {"FACE": False, "OTP": False}


def test_unbind(authing_env):
    assert Client().delete("/users/alice/mfa/otp").json() == {"unbound": True}
    assert [request["method"] for request in authing_env.emulator.requests()] == ["DELETE"]
"""


def test_a_django_view_with_a_module_level_client(suite):
    """Django's test client reaches a view whose module builds ``MfaClient()`` at import."""
    suite.makepyfile(views=DJANGO_VIEWS, test_views=DJANGO_TESTS)
    # A subprocess: Django's settings are configured once per process.
    suite.runpytest_subprocess().assert_outcomes(passed=2)
