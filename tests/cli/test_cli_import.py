"""``authing-mfa import-totp --from FILE``: checks, dry run, journal, failures file, progress."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from support.runs import journal_rows

from authing_mfa._cli import main
from authing_mfa._cli._import_file import ImportOptions, run_import_file
from authing_mfa._cli._progress import Progress

KEYS = ["JBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLU", "MFRGGZDFMZTWQ2LK", "GEZDGNBVGY3TQOJQ"]
RECOVERY = "rc-0000-never-shown"
IMPORT_PATH = "/api/v2/mfa/totp/import"
BAD_ROWS = {
    3: ("", KEYS[1], "userId must not be empty"),
    4: ("u2", "not-base32!", "secret is not base32"),
    5: ("u3", f"otpauth://totp/a?secret={KEYS[3]}&digits=8", "digits=8"),
    6: ("u0", KEYS[2], "duplicate userId: already on line 2"),
}


@pytest.fixture
def users():
    return ["u0", "u1", "u2", "u3"]


@pytest.fixture
def mixed_csv(tmp_path) -> Path:
    """Line 2 good, lines 3-6 bad (BAD_ROWS), line 7 good."""
    rows = [("u0", KEYS[0], RECOVERY)] + [(u, k, "") for u, k, _ in BAD_ROWS.values()]
    rows.append(("u1", f"otpauth://totp/Acme:u1?secret={KEYS[1]}&issuer=Acme", ""))
    path = tmp_path / "users.csv"
    path.write_text("userId,secret,recoveryCode\n" + "".join(",".join(r) + "\n" for r in rows))
    return path


def _imports(emulator) -> list[dict]:
    return [r for r in emulator.requests() if r["path"] == IMPORT_PATH]


def test_dry_run_sends_no_request(emulator, authing_env, mixed_csv):
    """--dry-run checks every row and leaves the emulator's request journal empty."""
    emulator.clear_requests()
    assert main(["import-totp", "--from", str(mixed_csv), "--dry-run"]) == 1
    assert emulator.requests() == []
    assert not mixed_csv.with_name("users.csv.journal.jsonl").exists()


def test_dry_run_needs_no_credentials(mixed_csv, monkeypatch, capsys):
    """--dry-run runs without any AUTHING_* variable, since it sends nothing."""
    for name in ("AUTHING_HOST", "AUTHING_USERPOOL_ID", "AUTHING_USERPOOL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["import-totp", "--from", str(mixed_csv), "--dry-run"]) == 1
    assert "would import 2, failed 4" in capsys.readouterr().out


@pytest.mark.parametrize(("line", "reason"), [(n, r) for n, (_, _, r) in BAD_ROWS.items()])
def test_dry_run_reports_each_bad_row_by_line_and_reason(
    emulator, authing_env, mixed_csv, capsys, line, reason
):
    """Each bad row (empty id, non-base32, bad otpauth, duplicate id) is reported on its line."""
    main(["import-totp", "--from", str(mixed_csv), "--dry-run"])
    out = capsys.readouterr().out
    [report] = [text for text in out.splitlines() if text.startswith(f"line {line} ")]
    assert reason in report


def test_an_import_journals_every_row_once_and_imports_the_good_ones(
    emulator, authing_env, mixed_csv
):
    """Good rows are imported with their keys; every row has one journal line with its outcome."""
    assert main(["import-totp", "--from", str(mixed_csv), "--quiet"]) == 1
    rows = journal_rows(mixed_csv.with_name("users.csv.journal.jsonl"))
    outcomes = {e["line"]: e["outcome"] for e in rows}
    assert outcomes == {
        2: "imported",
        3: "invalid",
        4: "invalid",
        5: "invalid",
        6: "invalid",
        7: "imported",
    }
    assert emulator.user("u0")["totp"]["secret"] == KEYS[0]
    assert emulator.user("u0")["totp"]["recoveryCode"] == RECOVERY
    assert emulator.user("u1")["totp"]["secret"] == KEYS[1]
    assert emulator.user("u2")["totp"] is None


def test_no_key_or_recovery_code_appears_in_output_journal_or_failures(
    emulator, authing_env, mixed_csv, capsys
):
    """Neither the keys nor the recovery code of the file appear in anything the command writes."""
    main(["import-totp", "--from", str(mixed_csv)])
    captured = capsys.readouterr()
    written = [
        captured.out,
        captured.err,
        mixed_csv.with_name("users.csv.journal.jsonl").read_text(),
        mixed_csv.with_name("users.csv.failures.jsonl").read_text(),
    ]
    for text in written:
        for secret in [*KEYS, RECOVERY, "not-base32!"]:
            assert secret not in text


def test_the_failures_file_lists_the_failed_rows_only(emulator, authing_env, mixed_csv):
    """The failures file names each failed or invalid row by line, user id and reason."""
    main(["import-totp", "--from", str(mixed_csv), "--quiet"])
    failures = journal_rows(mixed_csv.with_name("users.csv.failures.jsonl"))
    assert [(e["line"], e["outcome"]) for e in failures] == [(n, "invalid") for n in BAD_ROWS]


def test_only_imports_the_rows_a_failures_file_names(emulator, authing_env, tmp_path):
    """--only FAILURES retries just the rows listed there, reading their keys from the file."""
    source = tmp_path / "users.csv"
    source.write_text(f"userId,secret\nu0,{KEYS[0]}\nnobody,{KEYS[1]}\nu2,{KEYS[2]}\n")
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 1
    emulator.add_users(["nobody"])
    emulator.clear_requests()
    failures = tmp_path / "users.csv.failures.jsonl"
    code = main(["import-totp", "--from", str(source), "--only", str(failures), "--resume"])
    assert code == 0
    assert [r["body"]["userId"] for r in _imports(emulator)] == ["nobody"]


def test_resume_skips_imported_rows_and_retries_failed_ones(emulator, authing_env, tmp_path):
    """--resume sends only the rows the journal does not show imported."""
    source = tmp_path / "users.csv"
    source.write_text(f"userId,secret\nu0,{KEYS[0]}\nlate,{KEYS[1]}\n")
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 1
    emulator.add_users(["late"])
    emulator.clear_requests()
    assert main(["import-totp", "--from", str(source), "--resume", "--quiet"]) == 0
    assert [r["body"]["userId"] for r in _imports(emulator)] == ["late"]


def test_a_second_run_without_resume_is_refused(emulator, authing_env, tmp_path, capsys):
    """A journal that already records rows is not appended to without --resume: exit 2."""
    source = tmp_path / "users.csv"
    source.write_text(f"userId,secret\nu0,{KEYS[0]}\n")
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 0
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 2
    assert "pass --resume" in capsys.readouterr().err


def test_resume_refuses_a_file_changed_under_the_journal(emulator, authing_env, tmp_path, capsys):
    """If a journaled line now holds another user, --resume exits 2 instead of guessing."""
    source = tmp_path / "users.csv"
    source.write_text(f"userId,secret\nu0,{KEYS[0]}\n")
    main(["import-totp", "--from", str(source), "--quiet"])
    source.write_text(f"userId,secret\nu1,{KEYS[0]}\n")
    assert main(["import-totp", "--from", str(source), "--resume", "--quiet"]) == 2
    assert "file changed" in capsys.readouterr().err


def test_resume_reads_a_journal_whose_last_line_a_kill_cut_short(emulator, authing_env, tmp_path):
    """A truncated last journal line is ignored, and the next run starts on a fresh line."""
    source = tmp_path / "users.csv"
    source.write_text(f"userId,secret\nu0,{KEYS[0]}\nu1,{KEYS[1]}\n")
    journal = tmp_path / "users.csv.journal.jsonl"
    journal.write_text('{"line": 2, "userId": "u0", "outcome": "imported"}\n{"line": 3, "us')
    assert main(["import-totp", "--from", str(source), "--resume", "--quiet"]) == 0
    assert [r["body"]["userId"] for r in _imports(emulator)] == ["u1"]
    assert [e["line"] for e in journal_rows(journal) if e["outcome"] == "imported"] == [2, 3]


def test_json_lines_input_is_imported(emulator, authing_env, tmp_path):
    """A JSON Lines file with userId, secret and recoveryCode keys is imported like CSV."""
    source = tmp_path / "users.jsonl"
    source.write_text(
        json.dumps({"userId": "u0", "secret": KEYS[0], "recoveryCode": RECOVERY}) + "\n\n" + "[1]\n"
    )
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 1
    assert emulator.user("u0")["totp"]["recoveryCode"] == RECOVERY
    [bad] = journal_rows(tmp_path / "users.jsonl.failures.jsonl")
    assert (bad["line"], bad["message"]) == (3, "is not a JSON object")


def test_a_csv_without_the_secret_column_is_a_usage_error(emulator, authing_env, tmp_path, capsys):
    """A header lacking the secret column exits 2 naming it."""
    source = tmp_path / "users.csv"
    source.write_text("userId,key\nu0,x\n")
    assert main(["import-totp", "--from", str(source)]) == 2
    assert "missing: secret" in capsys.readouterr().err


def test_missing_credentials_exit_2_naming_the_variable(tmp_path, monkeypatch, capsys):
    """Without a pool secret the command exits 2 and says which variable to set."""
    monkeypatch.setenv("AUTHING_USERPOOL_ID", "pool")
    monkeypatch.delenv("AUTHING_USERPOOL_SECRET", raising=False)
    source = tmp_path / "users.csv"
    source.write_text(f"userId,secret\nu0,{KEYS[0]}\n")
    assert main(["import-totp", "--from", str(source)]) == 2
    assert "AUTHING_USERPOOL_SECRET" in capsys.readouterr().err


def test_the_secret_is_not_accepted_as_a_flag(capsys):
    """There is no flag for the pool secret: passing one is a usage error."""
    with pytest.raises(SystemExit) as exit_info:
        main(["import-totp", "--from", "x.csv", "--secret", "s3cret"])
    assert exit_info.value.code == 2


def test_plain_progress_lines_when_not_a_terminal(emulator, authing_env, mixed_csv):
    """Without a terminal, progress is plain lines with done/total, rate, ETA and failures."""
    err = io.StringIO()
    run_import_file(ImportOptions(source=mixed_csv, dry_run=True), out=io.StringIO(), err=err)
    line = r"^progress: 6/6 rows \(100%\), \d+ rows/s  ETA 0:00:00  failed 4$"
    assert re.search(line, err.getvalue(), re.MULTILINE)
    assert "\r" not in err.getvalue()


def test_a_bar_redrawn_in_place_on_a_terminal():
    """On a terminal, progress is one bar line redrawn with a carriage return and erase-line."""

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    progress = Progress.for_stream(4, out, quiet=False)
    for _ in range(4):
        progress.add(failed=True)
    progress.finish()
    assert out.getvalue().startswith("\r\x1b[2K[########################] 4/4 100%")
    assert out.getvalue().endswith("failed 4\n")


def test_quiet_shows_no_progress(mixed_csv):
    """--quiet draws nothing on standard error."""
    err = io.StringIO()
    run_import_file(
        ImportOptions(source=mixed_csv, dry_run=True, quiet=True), out=io.StringIO(), err=err
    )
    assert err.getvalue() == ""
