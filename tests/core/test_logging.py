"""The package logs only through the `authing_mfa` logger and never configures logging."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from support.clients import client_options

import authing_mfa
from authing_mfa import AsyncMfaClient, NotFoundError

PACKAGE_DIR = Path(authing_mfa.__file__).resolve().parent

_SNAPSHOT = """
import json, logging
def snapshot():
    loggers = {"": logging.getLogger()} | {
        name: logger for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    return {name: [repr(h) for h in logger.handlers] for name, logger in loggers.items()}
import asyncio, concurrent.futures, anyio, attrs, cattrs, h11, httpx  # their loggers first
before = snapshot()
import authing_mfa, authing_mfa.testing
after = snapshot()
print(json.dumps({"before": before, "after": after}))
"""


@pytest.fixture(scope="module")
def import_snapshot():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _SNAPSHOT], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


def test_importing_adds_no_handler_anywhere(import_snapshot):
    """No logger, the root included, has a handler after the import that it lacked before."""
    before, after = import_snapshot["before"], import_snapshot["after"]
    added = {name: handlers for name, handlers in after.items() if handlers != before.get(name, [])}
    assert added == {}


def test_every_logger_the_import_creates_is_authing_mfa(import_snapshot):
    """The loggers that appear with the import are `authing_mfa` or its children."""
    new = set(import_snapshot["after"]) - set(import_snapshot["before"])
    assert new
    assert all(name == "authing_mfa" or name.startswith("authing_mfa.") for name in new)


@pytest.fixture
def users():
    return ["alice"]


@pytest.mark.asyncio
async def test_records_the_package_emits_are_on_authing_mfa_loggers(emulator, caplog):
    """Every record logged from the package's code, retries included, is on its loggers."""
    emulator.add_fault(path="/api/*", status=503)
    caplog.set_level(logging.DEBUG)
    async with AsyncMfaClient(**client_options(emulator)) as mfa:
        await mfa.get_status("alice")
        with pytest.raises(NotFoundError):
            await mfa.get_status("nobody")
    ours = [
        record for record in caplog.records if Path(record.pathname).is_relative_to(PACKAGE_DIR)
    ]
    assert any("retrying" in record.getMessage() for record in ours)
    assert {record.name for record in ours} <= {"authing_mfa", "authing_mfa.testing"}
