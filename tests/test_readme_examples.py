"""The README's examples are the code the integration tests run; these run the other two."""

from __future__ import annotations

import ast

import anyio
import pytest
from readme_examples import examples, load

from authing_mfa import ConnectionError, RequestEvent, ResponseEvent  # noqa: A004
from authing_mfa.testing import Emulator, run_server

pytest_plugins = ["pytester"]


def test_the_readme_has_exactly_the_tested_examples():
    """Every marked example is one a test loads, and each is valid Python."""
    found = examples()
    assert set(found) == {"fastapi", "django", "aiohttp", "worker", "hooks", "testing"}
    for _, code in found.values():
        ast.parse(code)


def test_the_hooks_example_counts_answers_by_method_and_status(monkeypatch):
    """The Hooks example's client, configured from AUTHING_* variables, counts its answers."""
    emulator = Emulator(users=["alice"])
    with run_server(emulator) as server:
        monkeypatch.setenv("AUTHING_HOST", server.url)
        monkeypatch.setenv("AUTHING_USERPOOL_ID", emulator.user_pool_id)
        monkeypatch.setenv("AUTHING_USERPOOL_SECRET", emulator.secret)
        example = load("hooks")

        async def main():
            async with example.mfa as mfa:
                await mfa.get_status("alice")

        anyio.run(main)
    assert example.answers == {("POST", 200): 1, ("GET", 200): 1}


def test_the_hooks_example_warns_about_failed_requests(caplog, monkeypatch):
    """The Hooks example logs a request that got no answer, with its attempt and error."""
    monkeypatch.setenv("AUTHING_USERPOOL_ID", "pool")
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", "secret")
    example = load("hooks")
    failed = ConnectionError("refused")
    example.on_response(ResponseEvent(RequestEvent("GET", "/p", 2), None, 0.01, None, failed))
    assert "GET attempt 2, ConnectionError('refused')" in caplog.text
    assert example.answers == {("GET", None): 1}


def test_the_testing_examples_pass_under_pytest(pytester):
    """The README's pytest example, run by pytest with only the installed plugin, passes."""
    _, code = examples()["testing"]
    pytester.makepyfile(test_readme_testing=code)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:hypothesispytest", "-W", "error"
    )
    result.assert_outcomes(passed=3)


def test_the_testing_example_type_checks_under_mypy_strict(tmp_path):
    """What users copy into a strictly typed suite passes ``mypy --strict`` as it is."""
    api = pytest.importorskip("mypy.api")
    _, code = examples()["testing"]
    example = tmp_path / "test_readme_testing.py"
    example.write_text(code, encoding="utf-8")
    stdout, stderr, status = api.run(["--strict", str(example)])
    assert status == 0, stdout + stderr
