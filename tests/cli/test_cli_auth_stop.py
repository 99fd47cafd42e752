"""A bulk run whose credentials are refused stops at once, journals what was in flight, exits 2."""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path

import pytest

from authing_mfa._cli import main

ROWS = 200
CONCURRENCY = 4
WRONG_SECRET = "wrong-pool-secret-5f0c2e9b7d"
IMPORT_PATH = "/api/v2/mfa/totp/import"


@pytest.fixture
def users() -> list[str]:
    return []


@pytest.fixture
def keys(emulator, tmp_path) -> dict[str, str]:
    """ROWS users in the pool and in users.csv, each with its own key."""
    keys = {f"user-{n:04d}": base64.b32encode(n.to_bytes(10, "big")).decode() for n in range(ROWS)}
    emulator.add_users(list(keys))
    (tmp_path / "users.csv").write_text(
        "userId,secret\n" + "".join(f"{user},{key}\n" for user, key in keys.items())
    )
    return keys


def _journal(path: Path) -> list[dict]:
    return [json.loads(text) for text in path.read_text().splitlines()]


def _import(tmp_path, *extra) -> list[str]:
    source = tmp_path / "users.csv"
    return ["import-totp", "--from", str(source), "--concurrency", str(CONCURRENCY), *extra]


def test_refused_credentials_stop_the_run_and_resume_imports_every_row_once(
    emulator, authing_env, keys, tmp_path, monkeypatch, capsys
):
    """Exit 2 after at most CONCURRENCY token requests; --resume then imports each row once."""
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", WRONG_SECRET)
    assert main(_import(tmp_path)) == 2
    captured = capsys.readouterr()
    assert "the user pool's credentials were refused (AuthenticationError" in captured.err
    assert "check AUTHING_USERPOOL_ID" in captured.err
    assert "AUTHING_USERPOOL_SECRET" in captured.err
    assert "run again with --resume once fixed" in captured.err
    assert WRONG_SECRET not in captured.out + captured.err
    assert emulator.token_requests <= CONCURRENCY
    assert [r for r in emulator.requests() if r["path"] == IMPORT_PATH] == []

    journal_path = tmp_path / "users.csv.journal.jsonl"
    journal = _journal(journal_path)  # every line is whole JSON
    rows = [entry for entry in journal if "line" in entry]
    assert 1 <= len(rows) <= CONCURRENCY + 1  # those in flight, and the one read for the next slot
    assert {row["error"] for row in rows} == {"AuthenticationError"}
    assert journal[-1]["event"] == "stopped"
    not_started = ROWS - len(rows)
    assert f"{not_started} rows were not started" in captured.err
    failures = _journal(tmp_path / "users.csv.failures.jsonl")
    assert [row["line"] for row in failures] == [row["line"] for row in rows]
    assert WRONG_SECRET not in journal_path.read_text()

    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", emulator.secret)
    assert main([*_import(tmp_path), "--resume", "--quiet"]) == 0
    imported = Counter(
        entry["line"] for entry in _journal(journal_path) if entry.get("outcome") == "imported"
    )
    assert sorted(imported) == list(range(2, ROWS + 2))
    assert set(imported.values()) == {1}
    for user, key in keys.items():
        assert emulator.user(user)["totp"]["secret"] == key


def test_a_permission_refused_stops_the_run_too(emulator, authing_env, keys, tmp_path, capsys):
    """A 403 on the import (the pool may not use the API) stops the run with exit 2."""
    emulator.add_fault(path=IMPORT_PATH, status=403, times=None)
    assert main(_import(tmp_path, "--quiet")) == 2
    err = capsys.readouterr().err
    assert "PermissionDeniedError" in err
    assert "rows were not started" in err
    imports = [r for r in emulator.requests() if r["path"] == IMPORT_PATH]
    assert len(imports) <= CONCURRENCY + 1


def test_a_stopped_only_run_keeps_the_rows_it_did_not_reach(
    emulator, authing_env, keys, tmp_path, monkeypatch, capsys
):
    """--only FAILURES stopped early rewrites FAILURES with the listed rows not yet reached."""
    failures = tmp_path / "users.csv.failures.jsonl"
    listed = list(range(2, 52))
    failures.write_text("".join(json.dumps({"line": line}) + "\n" for line in listed))
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", WRONG_SECRET)
    assert main(_import(tmp_path, "--only", str(failures), "--quiet")) == 2
    assert sorted(entry["line"] for entry in _journal(failures)) == listed
    assert "rows were not started" in capsys.readouterr().err

    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", emulator.secret)
    assert main(_import(tmp_path, "--only", str(failures), "--quiet")) == 0
    journal = _journal(tmp_path / "users.csv.journal.jsonl")
    imported = [entry["line"] for entry in journal if entry.get("outcome") == "imported"]
    assert sorted(imported) == listed
    for n, (user, key) in enumerate(keys.items(), 2):
        assert (emulator.user(user)["totp"] or {}).get("secret") == (key if n in listed else None)
