"""A malformed otpauth URI is refused naming the reason, and never quotes any part of the key."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from authing_mfa import InvalidArgumentError
from authing_mfa._bulk_rows import TotpRecord, check_record
from authing_mfa._cli import main

# Long and distinctive, so that finding it (or a piece of it) cannot happen by chance.
KEY = "JBSWY3DPEHPK3PXPKRSXG5CTMVRXEZLUMFRGGZDF"
PIECES = [KEY[i : i + 8] for i in range(0, len(KEY), 8)]


def _refusal(secret: str) -> str:
    with pytest.raises(InvalidArgumentError) as info:
        check_record(TotpRecord("u1", secret))
    return str(info.value)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        (f"otpauth://{KEY}", "unsupported type"),
        (f"otpauth://{KEY}/label?secret={KEY}", "unsupported type"),
        (f"otpauth://totp:{KEY}@issuer/label", "unsupported type"),
        (f"otpauth://totp:{KEY}@issuer/label?secret={KEY}", "unsupported type"),
        (f"otpauth://{KEY.lower()}@totp/label?secret={KEY}", "unsupported type"),
        (f"otpauth://[{KEY}/x?secret={KEY}", "unsupported type"),
        (f"otpauth://hotp/{KEY}?secret={KEY}", "hotp"),
        (f"otpauth://totp/x?secret={KEY}&algorithm={KEY}", "unsupported algorithm"),
        (f"otpauth://totp/x?secret={KEY}&digits={KEY}", "unsupported digits"),
        (f"otpauth://totp/x?secret={KEY}&period={KEY}", "unsupported period"),
        (f"otpauth://totp/x?secret={KEY}&algorithm=SHA1&algorithm={KEY}", "unsupported algorithm"),
        (f"otpauth://totp/x?secret={KEY}&algorithm=SHA256", "algorithm=SHA256"),
        (f"otpauth://totp/x?secret={KEY}&digits=8", "digits=8"),
        (f"otpauth://totp/x?secret={KEY}&period=60", "period=60"),
        (f"otpauth://totp/{KEY}?issuer={KEY}", "without a secret"),
        (f"otpauth://totp/x?secret={KEY}!", "not base32"),
        (f"otpauth://totp/x#secret={KEY}", "without a secret"),
    ],
)
def test_a_refused_otpauth_uri_names_the_reason_and_no_part_of_the_key(uri, reason):
    """The message says what is wrong from a fixed vocabulary and quotes nothing of the field."""
    message = _refusal(uri)
    assert reason in message
    for piece in PIECES:
        assert piece not in message
        assert piece.lower() not in message


def test_known_parameter_values_are_named_and_others_are_not():
    """SHA256 and 8 digits are named; an unknown value is 'an unsupported value', unquoted."""
    assert "algorithm=SHA512" in _refusal(f"otpauth://totp/x?secret={KEY}&algorithm=sha512")
    assert "unsupported digits" in _refusal(f"otpauth://totp/x?secret={KEY}&digits=7")


def test_the_type_is_read_in_any_case_and_a_valid_uri_gives_its_secret():
    """otpauth://TOTP/ is a totp URI; its secret parameter is the key."""
    record = check_record(TotpRecord("u1", f"OTPAUTH://TOTP/a:b?SECRET={KEY.lower()}&digits=6"))
    assert record.secret == KEY


def test_a_key_that_is_not_base32_does_not_advise_a_library_argument():
    """A bulk row cannot pass validate_secret, so its message does not mention it."""
    assert "validate_secret" not in _refusal("not-base32!")


@settings(max_examples=150, deadline=None)
@given(
    before=st.text(alphabet="otpauhTOPAUH:/?&=#@[]%+ .", max_size=12),
    after=st.text(alphabet="otpauhTOPAUH:/?&=#@[]%+ .", max_size=12),
    name=st.sampled_from(["", "secret", "algorithm", "digits", "period", "issuer"]),
)
@example(before="", after="", name="")
@example(before="totp:", after="@x/l", name="")
@example(before="totp/x?algorithm=", after="", name="")
def test_no_part_of_a_key_is_echoed_wherever_it_sits_in_the_uri(before, after, name):
    """A key anywhere in an otpauth URI (type, userinfo, label, any parameter) is never quoted."""
    field = f"otpauth://{before}{name}{'=' if name else ''}{KEY}{after}"
    try:
        check_record(TotpRecord("u1", field))
    except InvalidArgumentError as exc:
        message = str(exc).upper()
    else:
        message = ""  # a usable URI: nothing is printed
    assert not [piece for piece in PIECES if piece in message]


def test_the_command_line_never_prints_the_key_of_a_malformed_uri(tmp_path, capsys):
    """Dry run and failures file both report the row without any part of the key."""
    source = tmp_path / "users.csv"
    source.write_text(
        "userId,secret\n"
        f"u1,otpauth://{KEY}\n"
        f"u2,otpauth://totp:{KEY}@issuer/label\n"
        f"u3,otpauth://totp/x?secret={KEY}&algorithm={KEY[:16]}\n"
    )
    assert main(["import-totp", "--from", str(source), "--dry-run"]) == 1
    captured = capsys.readouterr()
    for piece in PIECES:
        assert piece not in captured.out + captured.err
    assert captured.out.count(": invalid: ") == 3
