"""The command line's edges: --only after a failed run, pipes and stdin, file errors, options."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import authing_mfa
from authing_mfa._cli import main

KEYS = [
    "JBSWY3DPEHPK3PXPKRSXG5CTMVRXEZLU",
    "MFRGGZDFMZTWQ2LKGEZDGNBVGY3TQOJQ",
    "ONSWG4TFOQQGC3TEEBQW4ZDPNZSWK3TD",
]
IMPORT_PATH = "/api/v2/mfa/totp/import"


@pytest.fixture
def users() -> list[str]:
    return ["u0", "u1"]


@pytest.fixture
def users_csv(tmp_path) -> Path:
    """u0 and u1 exist; ``late`` does not, until a test adds it."""
    path = tmp_path / "users.csv"
    path.write_text(f"userId,secret\nu0,{KEYS[0]}\nlate,{KEYS[1]}\nu1,{KEYS[2]}\n")
    return path


def _imported_ids(emulator) -> list[str]:
    return [r["body"]["userId"] for r in emulator.requests() if r["path"] == IMPORT_PATH]


def _rows(path: Path) -> list[dict]:
    entries = (json.loads(text) for text in path.read_text().splitlines() if text.strip())
    return [entry for entry in entries if "line" in entry]


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))


def _run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


# --only


def test_only_after_a_failed_run_works_as_the_readme_says(emulator, authing_env, users_csv, capsys):
    """``--only users.csv.failures.jsonl --from users.csv`` retries the failures, no --resume."""
    failures = users_csv.with_name("users.csv.failures.jsonl")
    assert main(["import-totp", "--from", str(users_csv), "--quiet"]) == 1
    assert [row["line"] for row in _rows(failures)] == [3]
    emulator.add_users(["late"])
    emulator.clear_requests()
    code, _, err = _run(["import-totp", "--only", str(failures), "--from", str(users_csv)], capsys)
    assert code == 0
    assert "error" not in err
    assert _imported_ids(emulator) == ["late"]
    assert _rows(failures) == []  # rewritten by the run, after it was read
    imported = [r["line"] for r in _rows(users_csv.with_name("users.csv.journal.jsonl"))]
    assert sorted(imported) == [2, 3, 3, 4]  # line 3: failed once, then imported


def test_only_skips_rows_the_journal_shows_imported(emulator, authing_env, users_csv, tmp_path):
    """--only implies --resume: a listed row already imported is not sent again."""
    assert main(["import-totp", "--from", str(users_csv), "--quiet"]) == 1
    listed = tmp_path / "listed.jsonl"
    listed.write_text('{"line": 2}\n{"line": 3}\n')
    emulator.add_users(["late"])
    emulator.clear_requests()
    assert main(["import-totp", "--from", str(users_csv), "--only", str(listed), "--quiet"]) == 0
    assert _imported_ids(emulator) == ["late"]


def test_only_on_a_file_that_is_not_json_lines_exits_2_naming_it_and_the_line(
    emulator, authing_env, users_csv, capsys
):
    """Handing --only the CSV itself is a usage error, not an empty import that succeeds."""
    code, _, err = _run(["import-totp", "--from", str(users_csv), "--only", str(users_csv)], capsys)
    assert code == 2
    assert f"{users_csv}: line 1 is not a line of a failures file" in err
    assert _imported_ids(emulator) == []


def test_only_lets_a_last_line_cut_short_by_a_kill_pass(emulator, authing_env, users_csv, tmp_path):
    """A failures file whose last line a kill cut short still lists its complete lines."""
    listed = tmp_path / "listed.jsonl"
    listed.write_text('{"line": 2, "userId": "u0"}\n{"line": 4, "us')
    assert main(["import-totp", "--from", str(users_csv), "--only", str(listed), "--quiet"]) == 0
    assert _imported_ids(emulator) == ["u0"]


def test_only_reports_a_listed_line_the_file_has_no_row_on(
    emulator, authing_env, users_csv, tmp_path, capsys
):
    """A listed line past the end of the file is an invalid row, not silently dropped."""
    listed = tmp_path / "listed.jsonl"
    listed.write_text('{"line": 2}\n{"line": 99}\n')
    code, out, _ = _run(["import-totp", "--from", str(users_csv), "--only", str(listed)], capsys)
    assert code == 1
    assert f"line 99 (no user id): invalid: is listed in {listed}" in out


# Pipes, standard input, directories


def test_a_named_pipe_is_read_as_a_stream(tmp_path, capsys):
    """--from a FIFO (what /dev/stdin is under a pipe) works, read once, without a total."""
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    data = f"userId,secret\nu0,{KEYS[0]}\nu1,not-base32\n".encode()

    def feed():
        with fifo.open("wb") as writer:
            writer.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        code, out, err = _run(["import-totp", "--from", str(fifo), "--dry-run"], capsys)
    finally:
        # A writer that has just closed the pipe may still be alive for a moment: reading the
        # pipe then would wait for a writer that never comes. Only one still blocked after
        # a while is waiting for the reader the command never was.
        feeder.join(timeout=10)
        if feeder.is_alive():
            fifo.read_bytes()
            feeder.join()
    assert code == 1
    assert "would import 1, failed 1" in out
    assert "progress: 2 rows," in err


def test_dev_stdin_under_a_real_pipe(tmp_path):
    """The real command reads ``--from /dev/stdin`` under a shell pipe."""
    data = f"userId,secret\nu0,{KEYS[0]}\n".encode()
    done = subprocess.run(
        [sys.executable, "-m", "authing_mfa", "import-totp", "--from", "/dev/stdin", "--dry-run"],
        input=data,
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert b"would import 1, failed 0" in done.stdout


def test_dash_reads_standard_input(emulator, authing_env, monkeypatch, tmp_path):
    """``--from -`` with ``--journal`` imports the rows piped in; failures sit by the journal."""
    _stdin(monkeypatch, f"userId,secret\nu0,{KEYS[0]}\nlate,{KEYS[1]}\n".encode())
    journal = tmp_path / "run.jsonl"
    assert main(["import-totp", "--from", "-", "--journal", str(journal), "--quiet"]) == 1
    assert emulator.user("u0")["totp"]["secret"] == KEYS[0]
    assert [row["line"] for row in _rows(tmp_path / "run.jsonl.failures.jsonl")] == [3]
    assert json.loads(journal.read_text().splitlines()[0])["source"] == "-"


def test_dash_needs_a_journal_unless_a_dry_run(monkeypatch, capsys):
    """Standard input has no name to put the journal next to: --journal is required."""
    _stdin(monkeypatch, f"userId,secret\nu0,{KEYS[0]}\n".encode())
    code, _, err = _run(["import-totp", "--from", "-"], capsys)
    assert code == 2
    assert "pass --journal PATH" in err
    _stdin(monkeypatch, f"userId,secret\nu0,{KEYS[0]}\n".encode())
    assert _run(["import-totp", "--from", "-", "--dry-run"], capsys)[0] == 0


def test_resume_with_standard_input_skips_what_the_journal_shows(
    emulator, authing_env, monkeypatch, tmp_path
):
    """--resume with stdin takes the same rows piped again and sends only those not imported."""
    rows = f"userId,secret\nu0,{KEYS[0]}\nlate,{KEYS[1]}\n".encode()
    journal = tmp_path / "run.jsonl"
    _stdin(monkeypatch, rows)
    assert main(["import-totp", "--from", "-", "--journal", str(journal), "--quiet"]) == 1
    emulator.add_users(["late"])
    emulator.clear_requests()
    _stdin(monkeypatch, rows)
    args = ["import-totp", "--from", "-", "--journal", str(journal), "--resume", "--quiet"]
    assert main(args) == 0
    assert _imported_ids(emulator) == ["late"]


@pytest.mark.parametrize("stdin", [None, io.StringIO("")], ids=["closed", "text only"])
def test_a_file_is_read_whatever_standard_input_is(tmp_path, monkeypatch, capsys, stdin):
    """--from FILE under a closed stdin (``<&-``) or one without bytes does not need it."""
    source = tmp_path / "users.csv"
    source.write_text(f"userId,secret\nu0,{KEYS[0]}\n")
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, _ = _run(["import-totp", "--from", str(source), "--dry-run"], capsys)
    assert code == 0
    assert "would import 1, failed 0" in out


def test_a_directory_says_it_is_a_directory(tmp_path, capsys):
    """--from DIR exits 2 saying it is a directory, not that there is no such file."""
    code, _, err = _run(["import-totp", "--from", str(tmp_path), "--dry-run"], capsys)
    assert code == 2
    assert f"{tmp_path}: is a directory" in err


# Every file error names its path


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--journal", "{tmp}/no/such/dir/j.jsonl"], "{tmp}/no/such/dir/j.jsonl: cannot write"),
        (["--failures", "{tmp}/no/such/dir/f.jsonl"], "{tmp}/no/such/dir/f.jsonl: cannot write"),
        (["--journal", "{tmp}"], "{tmp}: is a directory"),
        (["--only", "{tmp}/missing.jsonl"], "{tmp}/missing.jsonl: no such file"),
        (["--journal", "{tmp}/users.csv"], "{tmp}/users.csv: the journal cannot be"),
        (["--failures", "{tmp}/users.csv"], "{tmp}/users.csv: the failures file cannot be"),
        (["--failures", "{tmp}/users.csv.journal.jsonl"], "the journal and the failures file"),
    ],
)
def test_every_file_error_names_its_path(
    emulator, authing_env, users_csv, tmp_path, capsys, extra, said
):
    """A journal, failures or --only file that cannot be used exits 2 naming it; nothing is sent."""
    before = users_csv.read_bytes()
    args = [arg.format(tmp=tmp_path) for arg in extra]
    code, _, err = _run(["import-totp", "--from", str(users_csv), *args], capsys)
    assert code == 2
    assert said.format(tmp=tmp_path) in err
    assert _imported_ids(emulator) == []
    assert users_csv.read_bytes() == before


def test_a_missing_file_names_its_path(tmp_path, capsys):
    """--from a path that does not exist: exit 2, naming it."""
    code, _, err = _run(["import-totp", "--from", str(tmp_path / "nope.csv")], capsys)
    assert code == 2
    assert f"{tmp_path / 'nope.csv'}: no such file" in err


# The one-user command speaks of its own options


def test_a_bad_key_for_one_user_speaks_of_the_command_not_python(
    emulator, authing_env, monkeypatch, capsys
):
    """import-totp USER_ID with a key that is not base32 names the key, not validate_secret."""
    _stdin(monkeypatch, b"not-base32!\n")
    code, _, err = _run(["import-totp", "u0"], capsys)
    assert code == 2
    assert "the TOTP key is not base32" in err
    assert "validate_secret" not in err
    assert "not-base32" not in err


def test_an_empty_user_id_is_named_as_the_argument(emulator, authing_env, monkeypatch, capsys):
    """USER_ID, not user_id, in every one-user command's message."""
    _stdin(monkeypatch, KEYS[0].encode())
    for args in (["import-totp", ""], ["status", ""], ["unbind", "", "--type", "otp"]):
        code, _, err = _run(args, capsys)
        assert code == 2
        assert "USER_ID must not be empty" in err


def test_one_user_stdin_that_is_not_utf8_exits_2(emulator, authing_env, monkeypatch, capsys):
    """A key piped in a non-UTF-8 encoding is a usage error, not a UnicodeDecodeError."""
    _stdin(monkeypatch, b"\xffJBSWY3DP\n")
    code, _, err = _run(["import-totp", "u0"], capsys)
    assert code == 2
    assert "not UTF-8" in err


def test_file_options_with_one_user_are_refused(emulator, authing_env, monkeypatch, capsys):
    """--resume and friends apply to --from only: with USER_ID they are a usage error."""
    _stdin(monkeypatch, KEYS[0].encode())
    code, _, err = _run(["import-totp", "u0", "--resume", "--dry-run"], capsys)
    assert code == 2
    assert "--resume, --dry-run apply to --from FILE only" in err
    assert _imported_ids(emulator) == []


# The emulator's options, and --version


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--users", "-5"], "argument --users: must be at least 0"),
        (["--token-ttl", "-1"], "argument --token-ttl: must be a positive number"),
        (["--token-ttl", "nan"], "argument --token-ttl: must be a positive number"),
        (["--port", "99999"], "argument --port: must be a port number from 0 to 65535"),
        (["--port", "http"], "argument --port: not a whole number"),
    ],
)
def test_bad_emulator_options_are_usage_errors(capsys, args, said):
    """Out-of-range emulator options exit 2 with argparse's message, not a traceback."""
    with pytest.raises(SystemExit) as info:
        main(["emulator", *args])
    assert info.value.code == 2
    assert said in capsys.readouterr().err


def test_a_taken_port_is_one_line_not_a_traceback(server, capsys):
    """Serving on a port already in use exits 2 saying so."""
    port = server.url.rsplit(":", 1)[1]
    with pytest.raises(SystemExit) as info:
        main(["emulator", "--port", port])
    assert info.value.code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_version(capsys):
    """``authing-mfa --version`` prints the package's version."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"authing-mfa {authing_mfa.__version__}\n"


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path):
    """``import-totp ... | head -1``: exit 1 without a BrokenPipeError traceback."""
    source = tmp_path / "users.csv"
    source.write_text("userId,secret\n" + "".join(f"u{n},bad!\n" for n in range(20_000)))
    with subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "authing_mfa", "import-totp", "--from", str(source), "--dry-run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as command:
        assert command.stdout is not None
        assert command.stderr is not None
        assert command.stdout.readline().startswith(b"line 2 ")
        command.stdout.close()
        err = command.stderr.read()
    assert command.returncode == 1
    assert b"Traceback" not in err
