"""A migration killed with SIGKILL mid-way and resumed imports every row exactly once."""

from __future__ import annotations

import base64
import os
from collections import Counter

import pytest
from support.runs import journal_rows, kill_when

from authing_mfa._cli import main

ROWS = 1000


@pytest.mark.slow
def test_a_run_killed_and_resumed_imports_every_row_exactly_once(spawned_env, tmp_path):
    """After SIGKILL and --resume, each user holds its row's key and has one imported line."""
    keys = {f"user-{n:04d}": base64.b32encode(os.urandom(10)).decode() for n in range(ROWS)}
    source = tmp_path / "users.csv"
    source.write_text("userId,secret\n" + "".join(f"{u},{k}\n" for u, k in keys.items()))
    spawned_env.control.add_users(list(keys))
    journal = tmp_path / "users.csv.journal.jsonl"
    command = ["import-totp", "--from", str(source)]
    kill_when(
        [*command, "--concurrency", "8", "--rate-limit", "250", "--quiet"],
        lambda: journal.exists() and len(journal_rows(journal)) >= ROWS // 5,
    )
    killed_at = len(journal_rows(journal))
    assert ROWS // 5 <= killed_at < ROWS

    code = main([*command, "--resume", "--quiet"])

    assert code == 0
    imported = Counter(e["line"] for e in journal_rows(journal) if e["outcome"] == "imported")
    assert sorted(imported) == list(range(2, ROWS + 2))
    assert set(imported.values()) == {1}
    for user_id, key in keys.items():
        assert spawned_env.control.user(user_id)["totp"]["secret"] == key
