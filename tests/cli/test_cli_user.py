"""The one-user commands: ``status``, ``unbind`` and ``import-totp USER_ID`` (key on stdin)."""

from __future__ import annotations

import io
import json

import pytest

from authing_mfa._cli import main

KEY = "JBSWY3DPEHPK3PXP"


@pytest.fixture
def users():
    return ["alice"]


def _stdin(monkeypatch, text):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_status_prints_each_factor(emulator, authing_env, capsys):
    """status lists every factor the server reported, bound or not."""
    assert main(["status", "alice"]) == 0
    assert capsys.readouterr().out == "alice\n  FACE         not bound\n  OTP          not bound\n"


def test_status_json_is_machine_readable(emulator, authing_env, capsys):
    """status --json prints the user id and the factors as one JSON object."""
    emulator.add_users(["bob"])
    assert main(["status", "alice", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "userId": "alice",
        "factors": {"FACE": False, "OTP": False},
    }


def test_status_of_an_unknown_user_exits_1(emulator, authing_env, capsys):
    """A user the pool does not have is a failed command, not a usage error."""
    assert main(["status", "nobody"]) == 1
    assert "NotFoundError" in capsys.readouterr().err


def test_import_reads_the_key_from_stdin(emulator, authing_env, monkeypatch, capsys):
    """import-totp USER_ID takes the key from standard input and never prints it."""
    _stdin(monkeypatch, f"{KEY}\nrc-1\n")
    assert main(["import-totp", "alice"]) == 0
    assert emulator.user("alice")["totp"]["secret"] == KEY
    assert emulator.user("alice")["totp"]["recoveryCode"] == "rc-1"
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err


def test_import_reads_the_key_from_the_environment(emulator, authing_env, monkeypatch):
    """$AUTHING_TOTP_SECRET is used before standard input."""
    monkeypatch.setenv("AUTHING_TOTP_SECRET", f"otpauth://totp/a?secret={KEY}")
    _stdin(monkeypatch, "")
    assert main(["import-totp", "alice"]) == 0
    assert emulator.user("alice")["totp"]["secret"] == KEY


def test_import_without_a_key_exits_2(emulator, authing_env, monkeypatch, capsys):
    """No key in the environment nor on stdin is a usage error naming where to give it."""
    _stdin(monkeypatch, "")
    assert main(["import-totp", "alice"]) == 2
    assert "AUTHING_TOTP_SECRET" in capsys.readouterr().err


def test_import_needs_a_user_or_a_file(capsys):
    """import-totp with neither USER_ID nor --from exits 2."""
    assert main(["import-totp"]) == 2
    assert "--from FILE" in capsys.readouterr().err


def test_unbind_removes_the_factor(emulator, authing_env, monkeypatch, capsys):
    """unbind --type OTP deletes the user's TOTP key."""
    _stdin(monkeypatch, KEY)
    main(["import-totp", "alice"])
    assert main(["unbind", "alice", "--type", "otp"]) == 0
    assert emulator.user("alice")["totp"] is None
    assert "unbound OTP from alice" in capsys.readouterr().out


def test_unbind_of_an_unknown_factor_exits_2(emulator, authing_env, capsys):
    """A factor the API does not know is a usage error."""
    assert main(["unbind", "alice", "--type", "retina"]) == 2
    assert "--type must be one of" in capsys.readouterr().err


def test_a_missing_pool_id_names_the_flag_and_variable(monkeypatch, capsys):
    """Without a pool id the command exits 2 naming --user-pool-id and AUTHING_USERPOOL_ID."""
    monkeypatch.delenv("AUTHING_USERPOOL_ID", raising=False)
    assert main(["status", "alice"]) == 2
    err = capsys.readouterr().err
    assert "--user-pool-id" in err
    assert "AUTHING_USERPOOL_ID" in err


def test_demo_and_emulator_commands_are_still_offered(capsys):
    """The command list keeps demo and emulator next to the new commands."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("demo", "emulator", "status", "unbind", "import-totp"):
        assert command in out


def test_both_emulator_commands_take_the_same_options(capsys):
    """``authing-mfa emulator`` and ``python -m authing_mfa.testing`` share one definition."""
    from authing_mfa.testing._command import main as emulator_main

    def options(call):
        with pytest.raises(SystemExit):
            call()
        text = capsys.readouterr().out
        return text[text.index("options:") :]

    assert options(lambda: main(["emulator", "--help"])) == options(
        lambda: emulator_main(["--help"], prog="authing-mfa emulator")
    )
    assert "AUTHING_MFA_EMULATOR_SECRET" in options(lambda: main(["emulator", "--help"]))
