"""The README's main job: ``authing-mfa demo`` runs on the emulator with nothing configured."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_demo_exits_zero_and_shows_every_step():
    """The demo completes every step, over real sockets, without any AUTHING_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHING_")}
    result = subprocess.run(
        [sys.executable, "-m", "authing_mfa", "demo", "--users", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    for step in (
        "1. Imported a TOTP key for each of 5 users",
        "OTP bound for 5 of 5",
        "now OTP=False",
        "the client retried: OTP=True",
        "raises NotFoundError: [2004]",
        "All steps succeeded.",
    ):
        assert step in output
    assert re.search(r"Authing emulator on http://127\.0\.0\.1:\d+ ", output)


def test_demo_prints_no_key():
    """No base32 TOTP key of 32 characters appears in the demo's output."""
    result = subprocess.run(
        [sys.executable, "-m", "authing_mfa", "demo", "--users", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert not re.search(r"\b[A-Z2-7]{32}\b", result.stdout + result.stderr)
