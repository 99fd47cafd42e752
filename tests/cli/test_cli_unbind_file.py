"""``unbind --from``: one factor off every listed user, after a count and a confirmation."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from support.clients import client_options

from authing_mfa import MfaClient
from authing_mfa._cli import main
from authing_mfa._cli._file_run import FileOptions
from authing_mfa._cli._unbind_file import run_unbind_file

KEY = "JBSWY3DPEHPK3PXP"
LISTED = ["u1", "u2", "u3"]
BYSTANDERS = ["b1", "b2"]


class Terminal(io.StringIO):
    """Standard input as a person at a terminal gives it: typed lines, and isatty() True."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def users() -> list[str]:
    return LISTED + BYSTANDERS


@pytest.fixture
def emulator(emulator):
    """LISTED and BYSTANDERS all have OTP bound; ``ghost`` does not exist."""
    with MfaClient(**client_options(emulator)) as mfa:
        assert all(o.ok for o in mfa.import_totp_many((u, KEY) for u in LISTED + BYSTANDERS))
    emulator.clear_requests()
    return emulator


@pytest.fixture
def ids(tmp_path) -> Path:
    path = tmp_path / "leaked.txt"
    path.write_text("u1\nu2\nghost\nu3\n")
    return path


def _unbound(emulator) -> list[str]:
    return [r["path"].split("/")[4] for r in emulator.requests() if r["method"] == "DELETE"]


def _otp(emulator, user_id: str) -> bool:
    return emulator.user(user_id)["mfaBound"]["OTP"]


def _rows(path: Path) -> list[dict]:
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [entry for entry in entries if "line" in entry]


def _run(args, capsys, stdin: io.StringIO | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", stdin)
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def test_yes_unbinds_every_listed_user_and_nobody_else(emulator, authing_env, ids, capsys):
    """--yes: OTP off u1..u3, the unknown id reported, the bystanders untouched."""
    code, out, _ = _run(["unbind", "--from", str(ids), "--type", "otp", "--yes"], capsys)
    assert code == 1
    assert sorted(_unbound(emulator)) == ["ghost", "u1", "u2", "u3"]
    assert not any(_otp(emulator, u) for u in LISTED)
    assert all(_otp(emulator, u) for u in BYSTANDERS)
    assert "line 3 (user ghost): failed: [2004]" in out
    assert "unbound OTP from 3, failed 1 (NotFoundError 1), skipped 0 (already unbound)" in out
    journal = ids.with_name("leaked.txt.unbind-otp.journal.jsonl")
    assert sorted((r["line"], r["outcome"]) for r in _rows(journal)) == [
        (1, "unbound"),
        (2, "unbound"),
        (3, "failed"),
        (4, "unbound"),
    ]
    failures = ids.with_name("leaked.txt.unbind-otp.failures.jsonl")
    assert [(r["line"], r["userId"]) for r in _rows(failures)] == [(3, "ghost")]


def test_resume_sends_only_the_rows_not_yet_unbound(emulator, authing_env, ids, capsys):
    """After ghost is created, --resume unbinds it alone and exits 0."""
    assert _run(["unbind", "--from", str(ids), "--type", "otp", "--yes"], capsys)[0] == 1
    emulator.add_users(["ghost"])
    emulator.clear_requests()
    args = ["unbind", "--from", str(ids), "--type", "otp", "--yes", "--resume", "--quiet"]
    code, out, _ = _run(args, capsys)
    assert code == 0
    assert _unbound(emulator) == ["ghost"]
    assert "unbound OTP from 1, failed 0, skipped 3 (already unbound)" in out


def test_only_retries_the_failures_file(emulator, authing_env, ids, capsys):
    """--only FAILURES runs the listed rows alone, as for import-totp."""
    assert _run(["unbind", "--from", str(ids), "--type", "otp", "--yes"], capsys)[0] == 1
    emulator.add_users(["ghost"])
    emulator.clear_requests()
    failures = ids.with_name("leaked.txt.unbind-otp.failures.jsonl")
    args = ["unbind", "--from", str(ids), "--type", "otp", "--yes", "--only", str(failures)]
    assert _run(args, capsys)[0] == 0
    assert _unbound(emulator) == ["ghost"]


def test_a_journal_of_another_factor_or_command_is_not_resumed(
    emulator, authing_env, ids, tmp_path, capsys
):
    """--resume with an OTP unbind's journal for --type FACE, or an import's, exits 2."""
    assert _run(["unbind", "--from", str(ids), "--type", "otp", "--yes"], capsys)[0] == 1
    journal = ids.with_name("leaked.txt.unbind-otp.journal.jsonl")
    emulator.clear_requests()
    args = ["unbind", "--from", str(ids), "--type", "face", "--yes", "--resume"]
    code, _, err = _run([*args, "--journal", str(journal)], capsys)
    assert code == 2
    assert "is the journal of another run (unbind --type OTP), not of unbind --type FACE" in err
    imports = tmp_path / "keys.csv.journal.jsonl"
    imports.write_text(
        '{"event": "start", "source": "/x"}\n{"line": 2, "userId": "u1", "outcome": "imported"}\n'
    )
    code, _, err = _run([*args, "--journal", str(imports)], capsys)
    assert code == 2
    assert "another run (import-totp)" in err
    assert _unbound(emulator) == []


def test_the_dry_run_checks_every_row_and_sends_nothing(
    emulator, authing_env, tmp_path, capsys, monkeypatch
):
    """--dry-run needs neither --yes nor credentials nor a terminal."""
    monkeypatch.delenv("AUTHING_USERPOOL_SECRET")
    source = tmp_path / "ids.csv"
    source.write_text("userId,note\nu1,a\n..,b\nu1,c\nu2,d\n")
    code, out, _ = _run(["unbind", "--from", str(source), "--type", "OTP", "--dry-run"], capsys)
    assert code == 1
    assert "line 3 (user ..): invalid: userId must not be '..'" in out
    assert (
        "would unbind OTP from 2, failed 1 (invalid 1), skipped 0 (already unbound), skipped 1"
        in out
    )
    assert emulator.requests() == []
    assert not source.with_name("ids.csv.unbind-otp.journal.jsonl").exists()


# Confirmation


def test_without_a_terminal_and_without_yes_it_refuses_with_exit_2(
    emulator, authing_env, ids, capsys, monkeypatch
):
    """Off a terminal it cannot ask: exit 2, saying to pass --yes; nothing sent."""
    code, _, err = _run(
        ["unbind", "--from", str(ids), "--type", "otp"], capsys, io.StringIO("y\n"), monkeypatch
    )
    assert code == 2
    assert "needs a confirmation, and standard input is not a terminal" in err
    assert "pass --yes" in err
    assert emulator.requests() == []


@pytest.mark.parametrize("reply", ["y\n", "yes\n", "YES\n", " Y \n"])
def test_on_a_terminal_it_counts_asks_and_goes_on_when_told(
    emulator, authing_env, ids, capsys, monkeypatch, reply
):
    """The question names the factor, the count and the file; yes unbinds."""
    code, _, err = _run(
        ["unbind", "--from", str(ids), "--type", "otp", "--quiet"],
        capsys,
        Terminal(reply),
        monkeypatch,
    )
    assert code == 1  # ghost
    assert f"Unbind OTP from 4 users listed in {ids}? [y/N] " in err
    assert sorted(_unbound(emulator)) == ["ghost", "u1", "u2", "u3"]


@pytest.mark.parametrize("reply", ["n\n", "\n", "", "yes please\n", "ja\n"])
def test_on_a_terminal_anything_but_yes_sends_nothing(
    emulator, authing_env, ids, capsys, monkeypatch, reply
):
    """No, an empty line, end of input: exit 1, nothing sent, no journal."""
    code, _, err = _run(
        ["unbind", "--from", str(ids), "--type", "otp"], capsys, Terminal(reply), monkeypatch
    )
    assert code == 1
    assert "not confirmed: nothing was sent" in err
    assert emulator.requests() == []
    assert not ids.with_name("leaked.txt.unbind-otp.journal.jsonl").exists()


def test_the_question_counts_only_what_will_be_sent(emulator, authing_env, tmp_path):
    """Invalid lines, repeated ids and rows the journal shows done are named apart."""
    source = tmp_path / "ids.txt"
    source.write_text("u1\nu2\n\u200b\nu2\nu3\n")
    journal = tmp_path / "j.jsonl"
    journal.write_text('{"line": 1, "userId": "u1", "outcome": "unbound"}\n')
    options = FileOptions(source=source, journal=journal, resume=True, quiet=True)
    err = io.StringIO()
    code = run_unbind_file(options, "otp", answer=Terminal("n\n"), out=io.StringIO(), err=err)
    assert code == 1
    assert (
        f"Unbind OTP from 2 users listed in {source} (skipping 1 invalid lines, which "
        "--dry-run lists, 1 already unbound, per the journal, 1 repeated user ids)? [y/N] "
    ) in err.getvalue()


def test_standard_input_needs_yes(emulator, authing_env, capsys, monkeypatch, tmp_path):
    """--from - cannot be counted first nor answered on: refused without --yes, run with it."""
    journal = tmp_path / "j.jsonl"
    args = ["unbind", "--from", "-", "--type", "otp", "--journal", str(journal)]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"u1\n")))
    code, _, err = _run(args, capsys)
    assert code == 2
    assert "standard input is read once" in err
    assert "pass --yes" in err
    assert emulator.requests() == []
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"u1\n")))
    assert _run([*args, "--yes"], capsys)[0] == 0
    assert _unbound(emulator) == ["u1"]


def test_a_named_pipe_needs_yes(emulator, authing_env, capsys, tmp_path):
    """A FIFO is read once too: refused without --yes, before it is opened."""
    fifo = tmp_path / "ids"
    os.mkfifo(fifo)
    code, _, err = _run(["unbind", "--from", str(fifo), "--type", "otp"], capsys)
    assert code == 2
    assert f"{fifo}, not a regular file, is read once" in err


def test_a_journal_it_would_refuse_is_refused_before_asking(
    emulator, authing_env, ids, capsys, monkeypatch
):
    """A second run without --resume exits 2 at once, not after a question answered yes."""
    assert _run(["unbind", "--from", str(ids), "--type", "otp", "--yes"], capsys)[0] == 1
    code, _, err = _run(
        ["unbind", "--from", str(ids), "--type", "otp"], capsys, Terminal("y\n"), monkeypatch
    )
    assert code == 2
    assert "already records rows: pass --resume" in err
    assert "[y/N]" not in err


def test_the_one_user_form_never_asks(emulator, authing_env, capsys, monkeypatch):
    """``unbind USER_ID --type T`` is unchanged: no question, even off a terminal."""
    code, out, _ = _run(["unbind", "u1", "--type", "otp"], capsys, io.StringIO(""), monkeypatch)
    assert code == 0
    assert "unbound OTP from u1" in out
    assert _unbound(emulator) == ["u1"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["unbind", "--type", "otp"], "give either USER_ID or --from FILE"),
        (["unbind", "u1", "--type", "otp", "--resume"], "--resume apply to --from FILE only"),
        (["unbind", "--from", "{ids}", "--type", "retina", "--yes"], "--type must be one of"),
        (["unbind", "--from", "{ids}.missing", "--type", "otp"], "no such file"),
        (
            ["unbind", "--from", "{ids}", "--type", "otp", "--yes", "--journal", "{ids}"],
            "cannot be",
        ),
    ],
)
def test_usage_errors_exit_2_and_send_nothing(emulator, authing_env, ids, capsys, args, said):
    """Each misuse is one line naming what was wrong."""
    code, _, err = _run([arg.format(ids=ids) for arg in args], capsys)
    assert code == 2
    assert said in err
    assert emulator.requests() == []


# A real terminal


def _ask_on_a_pty(source: Path, reply: bytes) -> tuple[int, bytes]:
    """Run the installed command on a pty, AUTHING_* naming the server; answer *reply* if asked."""
    controller, terminal = pty.openpty()
    try:
        with subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "authing_mfa", "unbind", "--from", str(source), "--type", "otp"],
            stdin=terminal,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ) as command:
            assert command.stderr is not None
            err = b""
            deadline = time.monotonic() + 30
            while b"[y/N] " not in err and time.monotonic() < deadline:
                ready, _, _ = select.select([command.stderr], [], [], 0.1)
                if ready:
                    chunk = os.read(command.stderr.fileno(), 4096)
                    if not chunk:
                        break
                    err += chunk
            os.write(controller, reply)
            err += command.stderr.read()
            code = command.wait(timeout=30)
    finally:
        os.close(controller)
        os.close(terminal)
    return code, err


@pytest.mark.parametrize(("reply", "expected"), [(b"y\n", 0), (b"n\n", 1)])
def test_a_real_terminal_is_asked_and_its_answer_honoured(
    emulator, authing_env, tmp_path, reply, expected
):
    """``python -m authing_mfa unbind --from`` on a pty asks, then does what it was told."""
    source = tmp_path / "ids.txt"
    source.write_text("u1\nu2\n")
    code, err = _ask_on_a_pty(source, reply)
    assert code == expected, err
    assert f"Unbind OTP from 2 users listed in {source}? [y/N] ".encode() in err
    assert b"Traceback" not in err
    assert sorted(_unbound(emulator)) == (["u1", "u2"] if expected == 0 else [])
    assert all(_otp(emulator, u) for u in BYSTANDERS)


def test_every_user_is_unbound_once_per_run_at_most(emulator, authing_env, tmp_path, capsys):
    """Repeated ids in the file are unbound once; the journal counts the rest as skipped."""
    source = tmp_path / "ids.txt"
    source.write_text("u1\nu1\nu2\nu1\n")
    assert _run(["unbind", "--from", str(source), "--type", "otp", "--yes"], capsys)[0] == 0
    assert Counter(_unbound(emulator)) == {"u1": 1, "u2": 1}


def test_refused_credentials_stop_the_unbind_and_resume_finishes_it(
    emulator, authing_env, tmp_path, capsys, monkeypatch
):
    """A wrong secret: exit 2 at once, never printed, nothing unbound; --resume then finishes."""
    wrong = "wrong-pool-secret-8c2f1a"
    source = tmp_path / "ids.txt"
    source.write_text("".join(f"{u}\n" for u in LISTED))
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", wrong)
    args = ["unbind", "--from", str(source), "--type", "otp", "--yes", "--concurrency", "1"]
    code, out, err = _run(args, capsys)
    assert code == 2
    assert "the user pool's credentials were refused" in err
    assert "run again with --resume once fixed" in err
    assert wrong not in out + err
    assert _unbound(emulator) == []
    journal = source.with_name("ids.txt.unbind-otp.journal.jsonl")
    assert json.loads(journal.read_text().splitlines()[-1])["event"] == "stopped"
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", emulator.secret)
    assert _run([*args, "--resume", "--quiet"], capsys)[0] == 0
    assert sorted(_unbound(emulator)) == LISTED
    assert not any(_otp(emulator, u) for u in LISTED)
