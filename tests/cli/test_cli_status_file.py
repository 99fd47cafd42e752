"""``status --from``: an audit of a whole list of users, as a report that matches the pool."""

from __future__ import annotations

import base64
import csv
import io
import json
import random
from pathlib import Path

import pytest
from support.clients import client_options

from authing_mfa import MfaClient
from authing_mfa._cli import main
from authing_mfa._cli._report import FACTORS, HEADER, StatusReport

STATUS_PATH = "/api/v2/users/*/mfa-bound"
WRONG_SECRET = "wrong-pool-secret-3b1d8e"


@pytest.fixture
def users() -> list[str]:
    return []


def _pool(server, count: int, seed: int) -> list[str]:
    """*count* users, about half with OTP bound; returns their ids in a shuffled order."""
    rng = random.Random(seed)  # noqa: S311 - test data
    users = [f"user-{n:05d}" for n in range(count)]
    server.emulator.add_users(users)
    bound = [u for u in users if rng.random() < 0.5]
    with MfaClient(**client_options(server)) as mfa:
        records = [(u, base64.b32encode(rng.randbytes(10)).decode()) for u in bound]
        assert all(outcome.ok for outcome in mfa.import_totp_many(records, concurrency=16))
    server.emulator.clear_requests()
    rng.shuffle(users)
    return users


def _faults(count: int) -> list[dict[str, object]]:
    """One status request in 20 misbehaves: 503s and dropped connections in turn.

    A user's retries may meet several (the other workers' requests go in between), but seven
    in a row, all its attempts, is a chance in a billion.
    """
    schedule: list[dict[str, object]] = []
    for n in range(count):
        schedule.append({"path": STATUS_PATH, "times": 19})
        schedule.append(
            {"path": STATUS_PATH, "times": 1, **({"status": 503}, {"action": "drop"})[n % 2]}
        )
    return schedule


def _csv_report(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == HEADER
    return list(reader)


def _factors(row: dict[str, str]) -> dict[str, bool]:
    """The factors a CSV report row shows the server reported."""
    factors = {name: row[name] == "true" for name in FACTORS if row[name]}
    assert all(row[name] in {"", "true", "false"} for name in FACTORS)
    if row["otherFactors"]:
        factors.update(json.loads(row["otherFactors"]))
    return factors


def _audit(server, tmp_path, capsys, count: int, *, unknown: int) -> None:
    emulator = server.emulator
    users = _pool(server, count, seed=count)
    ghosts = [f"ghost-{n}" for n in range(unknown)]
    listed = users + ghosts
    random.Random(1).shuffle(listed)  # noqa: S311
    source = tmp_path / "users.csv"
    source.write_text("email,userId\n" + "".join(f"{u}@example.com,{u}\n" for u in listed))
    emulator.add_faults(_faults(count // 20))

    code = main(
        [
            *("status", "--from", str(source), "--concurrency", "16", "--quiet"),
            *("--max-retries", "6", "--retry-wait", "0.01"),
        ]
    )

    captured = capsys.readouterr()
    rows = _csv_report(captured.out)
    assert code == (1 if ghosts else 0)
    assert sorted(row["userId"] for row in rows) == sorted(listed)
    for row in rows:
        state = emulator.user(row["userId"])
        if state is None:
            assert row["error"] == "NotFoundError"
            assert _factors(row) == {}
        else:
            assert row["error"] == ""
            assert _factors(row) == state["mfaBound"]
    gets = [r for r in emulator.requests() if r["method"] == "GET"]
    assert len(gets) >= len(listed) + count // 20  # every fault was met, and retried through
    with_otp = sum(emulator.user(u)["mfaBound"]["OTP"] for u in users)
    assert f"users: {with_otp} with OTP, 0 with FACE, {count - with_otp} with no factor" in (
        captured.err
    )
    if ghosts:
        assert f"not found: {len(ghosts)} (not in this user pool), failed: 0" in captured.err


def test_a_report_of_hundreds_of_users_under_faults_matches_the_pool(
    server, emulator, authing_env, tmp_path, capsys
):
    """Every listed user has one row, its factors the pool's, unknown ids NotFoundError."""
    _audit(server, tmp_path, capsys, 300, unknown=7)


@pytest.mark.slow
def test_a_report_of_thousands_of_users_under_faults_matches_the_pool(
    server, emulator, authing_env, tmp_path, capsys
):
    """The same audit over 4 000 users and a few unknown ids."""
    _audit(server, tmp_path, capsys, 4000, unknown=25)


@pytest.fixture
def pool(server, emulator):
    """Two users, ``otp`` with OTP bound, ``none`` without."""
    emulator.add_users(["otp", "none"])
    with MfaClient(**client_options(server)) as mfa:
        mfa.import_totp("otp", "JBSWY3DPEHPK3PXP")
    emulator.clear_requests()
    return emulator


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ids.csv", "userId\notp\nnone\nghost\n"),
        ("ids.jsonl", '{"userId": "otp"}\n{"userId": "none", "name": "N"}\n{"userId": "ghost"}\n'),
        ("ids.txt", "otp\nnone\n\nghost\n"),
        ("ids", "userId,name\notp,O\nnone,N\nghost,G\n"),
    ],
)
def test_every_kind_of_id_file_gives_the_same_report(
    pool, authing_env, tmp_path, capsys, name, text
):
    """CSV with a userId column, JSON Lines with userId, or one id a line."""
    source = tmp_path / name
    source.write_text(text)
    assert main(["status", "--from", str(source), "--quiet"]) == 1
    rows = {row["userId"]: row for row in _csv_report(capsys.readouterr().out)}
    assert _factors(rows["otp"]) == {"FACE": False, "OTP": True}
    assert _factors(rows["none"]) == {"FACE": False, "OTP": False}
    assert rows["ghost"]["error"] == "NotFoundError"


def test_a_json_lines_report_holds_the_factors_as_an_object(pool, authing_env, tmp_path, capsys):
    """--out REPORT.jsonl: one object a user, factors as the server reported them."""
    source = tmp_path / "ids.txt"
    source.write_text("otp\nnone\n")
    report = tmp_path / "report.jsonl"
    assert main(["status", "--from", str(source), "--out", str(report)]) == 0
    rows = sorted(
        (json.loads(line) for line in report.read_text().splitlines()), key=lambda r: r["userId"]
    )
    assert rows == [
        {
            "userId": "none",
            "factors": {"FACE": False, "OTP": False},
            "error": None,
            "message": None,
        },
        {"userId": "otp", "factors": {"FACE": False, "OTP": True}, "error": None, "message": None},
    ]
    err = capsys.readouterr().err
    assert "users: 1 with OTP, 0 with FACE, 1 with no factor bound" in err
    assert f"report: {report}" in err


def test_json_on_standard_output_and_ids_from_standard_input(
    pool, authing_env, monkeypatch, capsys
):
    """``--from -`` reads the ids piped in; ``--json`` writes JSON Lines on standard output."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"otp\n")))
    assert main(["status", "--from", "-", "--json", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["factors"] == {"FACE": False, "OTP": True}


def test_invalid_lines_and_repeated_ids_are_accounted_for(pool, authing_env, tmp_path, capsys):
    """An invalid line is named on stderr and makes exit 1; a repeated id is read once."""
    source = tmp_path / "ids.txt"
    source.write_text("otp\n \u200bx\nnone\notp\n")
    assert main(["status", "--from", str(source)]) == 1
    captured = capsys.readouterr()
    assert sorted(row["userId"] for row in _csv_report(captured.out)) == ["none", "otp"]
    assert "line 2 (user " in captured.err
    assert "invalid: userId must not contain invisible formatting characters" in captured.err
    assert "read 2, failed 1 (invalid 1), skipped 1 (user ids already on an earlier line)" in (
        captured.err
    )
    assert "invalid: 1 line that is not a user id, listed above" in captured.err
    assert len([r for r in pool.requests() if r["method"] == "GET"]) == 2


def test_a_dry_run_checks_every_id_and_sends_nothing(
    pool, authing_env, tmp_path, capsys, monkeypatch
):
    """status --dry-run needs no credentials, writes no report, and counts what it would read."""
    monkeypatch.delenv("AUTHING_USERPOOL_SECRET")
    source = tmp_path / "ids.txt"
    source.write_text("otp\nnone\n\n.\n")
    report = tmp_path / "report.csv"
    assert main(["status", "--from", str(source), "--dry-run", "--out", str(report)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "would read 2, failed 1 (invalid 1)" in captured.err
    assert not report.exists()
    assert pool.requests() == []


def test_all_read_is_exit_0_even_without_any_factor(pool, authing_env, tmp_path, capsys):
    """Users without MFA are a finding, not a failure."""
    source = tmp_path / "ids.txt"
    source.write_text("none\n")
    assert main(["status", "--from", str(source), "--quiet"]) == 0
    assert "0 with OTP, 0 with FACE, 1 with no factor bound" in capsys.readouterr().err


def test_refused_credentials_stop_the_audit_with_exit_2(
    pool, authing_env, tmp_path, capsys, monkeypatch
):
    """A wrong pool secret stops the run at once, says what to check, and never prints it."""
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", WRONG_SECRET)
    source = tmp_path / "ids.txt"
    source.write_text("".join(f"u{n}\n" for n in range(100)))
    assert main(["status", "--from", str(source), "--concurrency", "2", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "the user pool's credentials were refused" in captured.err
    assert "rows were not started" in captured.err
    assert WRONG_SECRET not in captured.out + captured.err
    assert {row["error"] for row in _csv_report(captured.out)} <= {"AuthenticationError"}
    assert [r for r in pool.requests() if r["method"] == "GET"] == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["status"], "give either USER_ID or --from FILE"),
        (["status", "u1", "--from", "x.csv"], "give either USER_ID or --from FILE"),
        (["status", "u1", "--out", "r.csv"], "--out apply to --from FILE only"),
        (["status", "u1", "--dry-run"], "--dry-run apply to --from FILE only"),
        (
            ["status", "--from", "{tmp}/ids.txt", "--json", "--out", "{tmp}/r.csv"],
            "--json writes JSON Lines",
        ),
        (["status", "--from", "{tmp}/ids.txt", "--out", "{tmp}"], "is a directory"),
        (["status", "--from", "{tmp}/ids.txt", "--out", "{tmp}/ids.txt"], "the report cannot be"),
        (["status", "--from", "{tmp}/ids.txt", "--out", "{tmp}/no/dir/r.csv"], "cannot write"),
        (["status", "--from", "{tmp}/ids.csv"], "must name the column userId"),
    ],
)
def test_usage_errors_exit_2_and_send_nothing(pool, authing_env, tmp_path, capsys, args, said):
    """Each misuse is one line naming what was wrong."""
    (tmp_path / "ids.txt").write_text("otp\n")
    (tmp_path / "ids.csv").write_text("otp\nnone\n")
    assert main([arg.format(tmp=tmp_path) for arg in args]) == 2
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err
    assert [r for r in pool.requests() if r["method"] == "GET"] == []


def test_a_csv_without_a_header_suggests_one_id_a_line(tmp_path, capsys):
    """A .csv of bare ids names the missing column and the format that reads it."""
    source = tmp_path / "ids.csv"
    source.write_text("u1\nu2\n")
    assert main(["status", "--from", str(source), "--dry-run"]) == 2
    assert "pass --format lines" in capsys.readouterr().err
    assert main(["status", "--from", str(source), "--dry-run", "--format", "lines"]) == 0
    assert "would read 2, failed 0" in capsys.readouterr().err


def test_the_one_user_form_still_prints_its_factors(pool, authing_env, capsys):
    """``status USER_ID`` is unchanged."""
    assert main(["status", "otp", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "userId": "otp",
        "factors": {"FACE": False, "OTP": True},
    }


# The report's columns


def test_a_factor_the_client_does_not_know_lands_in_other_factors():
    """A server reporting WEBAUTHN: the CSV's columns stay fixed, the factor kept as JSON."""
    stream = io.StringIO()
    report = StatusReport(stream, "csv", None)
    report.row("u1", {"OTP": True, "FACE": False, "SMS": True, "WEBAUTHN": True})
    report.row("u2", None, "NotFoundError", "no such user")
    rows = _csv_report(stream.getvalue())
    assert rows[0]["OTP"] == "true"
    assert rows[0]["SMS"] == "true"
    assert rows[0]["EMAIL"] == ""
    assert json.loads(rows[0]["otherFactors"]) == {"WEBAUTHN": True}
    assert _factors(rows[0]) == {"OTP": True, "FACE": False, "SMS": True, "WEBAUTHN": True}
    assert rows[1]["error"] == "NotFoundError"
    assert rows[1]["message"] == "no such user"


def test_a_line_separator_in_a_user_id_does_not_split_a_json_lines_row():
    """U+2028 is a valid id character; the JSON Lines report escapes it."""
    stream = io.StringIO()
    StatusReport(stream, "jsonl", None).row("a\u2028b", {"OTP": False})
    assert len(stream.getvalue().splitlines()) == 1
    assert json.loads(stream.getvalue())["userId"] == "a\u2028b"


def test_a_report_file_name_decides_its_format(tmp_path):
    """.jsonl, .ndjson and .json are JSON Lines; anything else CSV unless --json."""
    assert StatusReport.format_for(Path("r.jsonl"), as_json=False) == "jsonl"
    assert StatusReport.format_for(Path("r.NDJSON"), as_json=False) == "jsonl"
    assert StatusReport.format_for(Path("r.csv"), as_json=False) == "csv"
    assert StatusReport.format_for(Path("r.txt"), as_json=True) == "jsonl"
    assert StatusReport.format_for(None, as_json=False) == "csv"
