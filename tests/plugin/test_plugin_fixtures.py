"""The plugin's sync fixtures, its marker and its loading, in suites pytest runs as a user's."""

from __future__ import annotations

import importlib.metadata

from conftest import then_no_connection_left

import authing_mfa.testing._pytest_plugin as plugin

pytest_plugins = ["pytester"]


def test_the_package_declares_the_plugin_as_a_pytest11_entry_point():
    """pytest finds the plugin by the entry point ``authing_mfa`` of the installed package."""
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert found["authing_mfa"] == "authing_mfa.testing._pytest_plugin"


def test_a_suite_gets_the_plugin_through_the_entry_point_alone(suite):
    """With no conftest naming it, pytest has loaded the plugin under the entry point's name."""
    suite.makepyfile(
        """
        import authing_mfa.testing._pytest_plugin as plugin

        def test_loaded(pytestconfig):
            assert pytestconfig.pluginmanager.get_plugin("authing_mfa") is plugin
        """
    )
    suite.runpytest_inprocess().assert_outcomes(passed=1)


def test_p_no_authing_mfa_turns_the_plugin_off(suite):
    """``-p no:authing_mfa`` unloads it: its fixtures are then unknown."""
    suite.makepyfile("def test_uses(authing_emulator):\n    pass\n")
    result = suite.runpytest_inprocess("-p", "no:authing_mfa")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'authing_emulator' not found*"])


def test_every_fixture_is_listed_with_its_docstring(suite):
    """``pytest --fixtures`` shows the five fixtures, each with the first line of its doc."""
    result = suite.runpytest_inprocess("--fixtures")
    for name in plugin.__all__:
        summary = getattr(plugin, name).__doc__.splitlines()[0]
        result.stdout.fnmatch_lines([f"{name}*", f"*{summary[:60]}*"])


def test_the_marker_is_registered_for_strict_markers(suite):
    """``--strict-markers`` accepts ``authing_users``, and ``--markers`` documents it."""
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.authing_users("alice")
        def test_marked(authing_emulator):
            assert authing_emulator.user("alice") is not None
        """
    )
    suite.runpytest_inprocess().assert_outcomes(passed=1)
    markers = suite.runpytest_inprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.authing_users(*user_ids): create these users*"])


def test_each_test_starts_from_a_fresh_state_with_the_same_pool(suite):
    """Users, faults, the journal and counters are gone; the pool id and secret stay."""
    suite.makepyfile(
        """
        seen = []

        def test_first(authing_emulator, authing_client):
            authing_emulator.add_users(["x"])
            assert not authing_client.get_status("x").otp
            authing_emulator.add_fault(status=503, times=None)
            seen.append((authing_emulator.user_pool_id, authing_emulator.secret))

        def test_second(authing_emulator, authing_client):
            assert authing_emulator.user("x") is None
            assert authing_emulator.stats() == {"tokenRequests": 0, "requests": 0, "users": 0}
            assert seen == [(authing_emulator.user_pool_id, authing_emulator.secret)]
            authing_emulator.add_users(["y"])
            assert not authing_client.get_status("y").otp  # the first test's fault is gone
        """
    )
    suite.runpytest_inprocess().assert_outcomes(passed=2)


def test_the_marker_adds_the_users_of_the_test_its_class_and_its_module(suite):
    """Every ``authing_users`` marker that applies to a test adds its users."""
    suite.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.authing_users("module")

        @pytest.mark.authing_users("class")
        class TestUsers:
            @pytest.mark.authing_users("test", "test2")
            def test_all(self, authing_emulator):
                for user in ("module", "class", "test", "test2"):
                    assert authing_emulator.user(user) is not None
                assert authing_emulator.stats()["users"] == 4

            def test_outer_only(self, authing_emulator):
                assert authing_emulator.user("test") is None
                assert authing_emulator.stats()["users"] == 2
        """
    )
    suite.runpytest_inprocess().assert_outcomes(passed=2)


def test_a_bad_marker_is_an_error_of_the_test_naming_what_is_wrong(suite):
    """Keywords, and ids that are not non-empty strings, fail the test's setup."""
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.authing_users(users=["alice"])
        def test_keywords(authing_emulator):
            pass

        @pytest.mark.authing_users("")
        def test_empty(authing_emulator):
            pass
        """
    )
    result = suite.runpytest_inprocess()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        ["*authing_users takes user ids only, not keywords*", "*a user id must be a non-empty*"]
    )


def test_the_server_serves_the_tests_emulator_at_one_url(suite):
    """``authing_server`` is the emulator on loopback, at the same URL in every test."""
    suite.makepyfile(
        """
        import httpx

        urls = []

        def test_first(authing_server, authing_emulator):
            assert authing_server.emulator is authing_emulator
            authing_emulator.add_users(["alice"])
            stats = httpx.get(f"{authing_server.url}/__emulator__/stats").json()
            assert stats["users"] == 1
            urls.append(authing_server.url)

        def test_second(authing_server):
            assert urls == [authing_server.url]
        """
    )
    suite.runpytest_inprocess().assert_outcomes(passed=2)


def test_the_sync_client_works_and_is_closed_after_the_test(suite):
    """``authing_client`` runs the three operations on the emulator and closes its pool."""
    suite.makepyfile(
        then_no_connection_left(
            """
        import pytest

        from authing_mfa import MfaClient, ServerError
        from authing_mfa.testing import Emulator

        @pytest.mark.authing_users("alice")
        def test_operations(authing_client: MfaClient, authing_emulator: Emulator):
            authing_client.import_totp("alice", "JBSWY3DPEHPK3PXP")
            assert authing_client.get_status("alice").otp
            assert authing_client.unassociate_mfa("alice", "otp")
            alice = authing_emulator.user("alice")
            assert alice is not None
            assert alice["totp"] is None

        @pytest.mark.authing_users("alice")
        def test_retries_do_not_wait(authing_client: MfaClient, authing_emulator: Emulator):
            authing_emulator.add_fault(path="/api/v2/users/*", status=503, times=None)
            with pytest.raises(ServerError):
                authing_client.get_status("alice")
            assert len(authing_emulator.requests()) == 1 + 3
        """
        )
    )
    suite.runpytest_inprocess().assert_outcomes(passed=3)


def test_the_env_fixture_points_the_variables_at_the_server_for_the_test_only(suite, monkeypatch):
    """A client built from the environment reaches the emulator; the variables are restored."""
    monkeypatch.setenv("AUTHING_HOST", "https://outer.invalid")
    monkeypatch.delenv("AUTHING_USERPOOL_ID", raising=False)
    suite.makepyfile(
        """
        import os

        import pytest

        from authing_mfa import MfaClient

        @pytest.mark.authing_users("alice")
        def test_configured(authing_env):
            assert os.environ["AUTHING_HOST"] == authing_env.url
            assert os.environ["AUTHING_USERPOOL_ID"] == authing_env.emulator.user_pool_id
            assert os.environ["AUTHING_USERPOOL_SECRET"] == authing_env.emulator.secret
            with MfaClient() as mfa:
                assert not mfa.get_status("alice").otp

        def test_restored():
            assert os.environ["AUTHING_HOST"] == "https://outer.invalid"
            assert "AUTHING_USERPOOL_ID" not in os.environ
        """
    )
    suite.runpytest_inprocess().assert_outcomes(passed=2)


def test_the_plugin_does_not_clash_with_a_suites_own_emulator_fixtures(suite):
    """A suite's own ``emulator`` and ``server`` fixtures (as ours has) stay its own."""
    suite.makeconftest(
        suite.path.joinpath("conftest.py").read_text()
        + """

@pytest.fixture
def emulator():
    return "the suite's emulator"


@pytest.fixture
def server():
    return "the suite's server"
"""
    )
    suite.makepyfile(
        """
        def test_both(emulator, server, authing_emulator, authing_server):
            assert emulator == "the suite's emulator"
            assert server == "the suite's server"
            assert authing_server.emulator is authing_emulator
        """
    )
    suite.runpytest_inprocess().assert_outcomes(passed=1)


def test_a_suite_that_asks_for_no_fixture_starts_no_server(suite):
    """Nothing is built at startup: no emulator server thread runs in a suite not using it."""
    suite.makepyfile(
        """
        import threading

        def test_nothing_started():
            names = [thread.name for thread in threading.enumerate()]
            assert "authing-mfa-emulator" not in names

        def test_but_one_starts_when_asked(authing_server):
            names = [thread.name for thread in threading.enumerate()]
            assert "authing-mfa-emulator" in names
        """
    )
    suite.runpytest_subprocess().assert_outcomes(passed=2)
