"""Damaged input files: every bad line is an invalid row named by its line, never a traceback.

Each case here failed before `_row_file` read the input one physical line at a time: with a
`UnicodeDecodeError` or `_csv.Error` traceback, or by merging lines into one row in silence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authing_mfa._cli import main

KEYS = [
    "JBSWY3DPEHPK3PXPKRSXG5CTMVRXEZLU",
    "MFRGGZDFMZTWQ2LKGEZDGNBVGY3TQOJQ",
    "ONSWG4TFOQQGC3TEEBQW4ZDPNZSWK3TD",
    "KNSWG4TFOQQGC3TEEBQW4ZDPNZSWK3TE",
]


@pytest.fixture
def users() -> list[str]:
    return ["u1", "u2", "u3", "u4"]


def _write(tmp_path: Path, data: bytes, name: str = "users.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rows(path: Path) -> dict[int, dict]:
    rows = {}
    for text in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(text)
        if "line" in entry:
            rows[entry["line"]] = entry
    return rows


def _dry_run(path: Path, capsys) -> tuple[int, dict[int, str], str]:
    code = main(["import-totp", "--from", str(path), "--dry-run"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    reports = {}
    for text in captured.out.splitlines():
        if text.startswith("line "):
            reports[int(text.split()[1])] = text
    return code, reports, captured.out + captured.err


def _csv(*lines: bytes, ending: bytes = b"\n") -> bytes:
    return ending.join([b"userId,secret", *lines]) + ending


def _good(n: int) -> bytes:
    return f"u{n},{KEYS[n - 1]}".encode()


def test_a_line_that_is_not_utf8_is_an_invalid_row_and_the_others_are_imported(
    emulator, authing_env, tmp_path, capsys
):
    """A stray byte mid-file: that line is invalid; the lines before and after are imported."""
    source = _write(tmp_path, _csv(_good(1), b"u\xff2," + KEYS[1].encode(), _good(3)))
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 1
    rows = _rows(tmp_path / "users.csv.journal.jsonl")
    assert rows[3]["outcome"] == "invalid"
    assert "is not UTF-8 text" in rows[3]["message"]
    assert (rows[2]["outcome"], rows[4]["outcome"]) == ("imported", "imported")
    assert list(_rows(tmp_path / "users.csv.failures.jsonl")) == [3]
    assert emulator.user("u3")["totp"]["secret"] == KEYS[2]


def test_a_dry_run_reports_a_line_that_is_not_utf8(tmp_path, capsys):
    """The dry run reads on past a bad byte, reporting it by line number."""
    source = _write(tmp_path, _csv(_good(1), b"u2,\xe9" + KEYS[1].encode(), _good(3)))
    code, reports, out = _dry_run(source, capsys)
    assert code == 1
    assert "is not UTF-8 text" in reports[3]
    assert "would import 2, failed 1" in out


def test_a_huge_field_is_an_invalid_row(tmp_path, capsys):
    """A line over 64 KiB (the csv module's 128 KiB field limit raised before) is refused."""
    source = _write(tmp_path, _csv(_good(1), b"u2," + b"A" * 200_000, _good(3)))
    code, reports, out = _dry_run(source, capsys)
    assert code == 1
    assert "is longer than 65536 bytes" in reports[3]
    assert "would import 2, failed 1" in out


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("u" * 513 + f",{KEYS[0]},", "userId is longer than 512 characters"),
        ("u1," + "A" * 1032 + ",", "secret is longer than 1024 characters"),
        (f"u1,{KEYS[0]}," + "r" * 257, "recoveryCode is longer than 256 characters"),
    ],
)
def test_fields_over_their_length_limits_are_invalid_rows(tmp_path, capsys, row, reason):
    """User ids over 512, keys over 1024 and recovery codes over 256 characters are refused."""
    source = _write(tmp_path, b"userId,secret,recoveryCode\n" + row.encode() + b"\n")
    code, reports, _ = _dry_run(source, capsys)
    assert code == 1
    assert reason in reports[2]


def test_an_unclosed_quote_reports_every_line_it_swallows(emulator, authing_env, tmp_path):
    """Lines inside a quote left open are each an invalid row by number, none merged in silence."""
    source = _write(
        tmp_path,
        _csv(_good(1), f'u2,"{KEYS[1]}'.encode(), _good(3), f'x",{KEYS[3]}'.encode(), _good(4)),
    )
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 1
    rows = _rows(tmp_path / "users.csv.journal.jsonl")
    assert {line: row["outcome"] for line, row in rows.items()} == {
        2: "imported",
        3: "invalid",
        4: "invalid",
        5: "invalid",
        6: "imported",
    }
    assert "opens a quoted field that does not close on this line" in rows[3]["message"]
    assert rows[4]["message"] == "is inside the quoted field opened on line 3"
    assert rows[5]["message"] == "is inside the quoted field opened on line 3"
    assert emulator.user("u3")["totp"] is None
    assert emulator.user("u4")["totp"]["secret"] == KEYS[3]


def test_a_quote_never_closed_swallows_the_rest_of_the_file_line_by_line(tmp_path, capsys):
    """With no closing quote, every later line is reported, each on its own number."""
    source = _write(tmp_path, _csv(_good(1), b'u2,"' + KEYS[1].encode(), _good(3), _good(4)))
    code, reports, out = _dry_run(source, capsys)
    assert code == 1
    assert list(reports) == [3, 4, 5]
    assert "would import 1, failed 3" in out


def test_a_key_split_across_lines_is_never_read_as_a_user_id(tmp_path, capsys):
    """The rest of a key on the next line would sit in the userId column: it is never shown."""
    head, tail = KEYS[1][:16], KEYS[1][16:]
    source = _write(
        tmp_path,
        b"userId,secret,recoveryCode\n"
        + f'u2,"{head}\n{tail}",rc-77\n'.encode()
        + f'"u3\nu4",{KEYS[2]},\n'.encode(),
    )
    code, reports, out = _dry_run(source, capsys)
    assert code == 1
    assert list(reports) == [2, 3, 4, 5]
    assert "no user id" in reports[3]
    assert tail not in out
    assert head not in out


def test_text_after_a_closing_quote_is_an_invalid_row(tmp_path, capsys):
    """``"u1"x,KEY`` is not CSV: that line is refused, naming why."""
    source = _write(tmp_path, _csv(f'"u1"x,{KEYS[0]}'.encode(), _good(2)))
    code, reports, _ = _dry_run(source, capsys)
    assert code == 1
    assert "is not valid CSV" in reports[2]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_gives_the_same_rows_and_line_numbers(tmp_path, capsys, ending):
    """LF, CRLF and old-Mac CR files read alike, with the line numbers an editor shows."""
    source = _write(tmp_path, _csv(_good(1), b"", b"u2,not-base32", _good(3), ending=ending))
    code, reports, out = _dry_run(source, capsys)
    assert code == 1
    assert list(reports) == [4]
    assert "would import 2, failed 1" in out


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("userId,secret\nu1,KEY\n".encode("utf-16"), "UTF-16"),
        ("userId,secret\nu1,KEY\n".encode("utf-16-le"), "NUL bytes"),
        ("userId,secret\nu1,KEY\n".encode("utf-32"), "UTF-32"),
        (b"us\xe9rId,secret\nu1,KEY\n", "line 1, the CSV header, is not UTF-8 text"),
        (b"", "no CSV header"),
        (b"\n \n", "no CSV header"),
        (b'userId,"secret\nu1,KEY\n', "line 1, the CSV header, opens a quoted field"),
    ],
    ids=["utf16-bom", "utf16-no-bom", "utf32", "latin1-header", "empty", "blank", "quote"],
)
def test_a_file_that_cannot_be_read_as_rows_exits_2_naming_it(tmp_path, capsys, data, reason):
    """UTF-16 and UTF-32, a header that is not UTF-8, or none at all: exit 2 with the path."""
    source = _write(tmp_path, data)
    code, _, out = _dry_run(source, capsys)
    assert code == 2
    assert reason in out
    assert str(source) in out


def test_a_latin1_file_has_its_non_ascii_lines_refused(tmp_path, capsys):
    """Latin-1 with an ASCII header: the lines with accents are invalid, the others imported."""
    source = _write(tmp_path, "userId,secret\nren\xe9,KEY1\nu2,MFRGGZDF\n".encode("latin-1"))
    code, reports, out = _dry_run(source, capsys)
    assert code == 1
    assert "is not UTF-8 text" in reports[2]
    assert "would import 1, failed 1" in out


def test_a_header_only_file_imports_nothing_and_succeeds(tmp_path, capsys):
    """A CSV with its header and no rows is an empty migration: exit 0."""
    source = _write(tmp_path, b"\xef\xbb\xbfuserId,secret\r\n")
    code, _, out = _dry_run(source, capsys)
    assert code == 0
    assert "would import 0, failed 0" in out


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"userId": "u\xff1", "secret": "A"}', "is not UTF-8 text"),
        (b'{"userId": "u1", "secret": "' + b"A" * 70_000 + b'"}', "is longer than 65536 bytes"),
        (b"[" * 50_000, "is not valid JSON"),
        (b'{"userId": "u1", "secret": ' + b"9" * 300 + b"}", "secret must be a str"),
        (b"[1, 2]", "is not a JSON object"),
        (b'"u1"', "is not a JSON object"),
        (b'{"userId": 5, "secret": "MFRGGZDF"}', "userId must be a str, not int"),
        (b'{"userId": "u1", "secret": ["MFRGGZDF"]}', "secret must be a str, not list"),
        (b'{"userId": "u1", "secret": "MFRGGZDF", "recoveryCode": 7}', "recoveryCode must be"),
        (b'{"userId": "u\\ud8001", "secret": "MFRGGZDF"}', "control characters"),
        (b'{"userId": "u1", "secret": "MFRGGZDF"', "is not valid JSON"),
    ],
    ids=[
        "bad-utf8",
        "huge",
        "deep",
        "huge-int",
        "array",
        "string",
        "int-id",
        "list-key",
        "int-code",
        "surrogate",
        "cut",
    ],
)
def test_json_lines_damage_is_an_invalid_row(tmp_path, capsys, line, reason):
    """Each damaged JSON Lines line is refused by line number; the next line is still read."""
    good = json.dumps({"userId": "u9", "secret": KEYS[0]}).encode()
    source = _write(tmp_path, line + b"\n" + good + b"\n", "users.jsonl")
    code, reports, out = _dry_run(source, capsys)
    assert code == 1
    assert reason in reports[1]
    assert "would import 1, failed 1" in out


def test_a_surrogate_user_id_is_journaled_as_valid_json(emulator, authing_env, tmp_path):
    """A user id JSON escapes into a lone surrogate reaches the journal without a crash."""
    bad = b'{"userId": "u\\ud800", "secret": "MFRGGZDF"}'
    source = _write(tmp_path, bad + b"\n", "users.jsonl")
    assert main(["import-totp", "--from", str(source), "--quiet"]) == 1
    assert _rows(tmp_path / "users.jsonl.failures.jsonl")[1]["userId"] == "u\ud800"


def test_an_unprintable_user_id_is_printed_escaped(tmp_path, capsys):
    """Control characters and escapes in a user id are shown escaped, never sent to the terminal."""
    source = _write(tmp_path, _csv(b"u\x1b[2J1,MFRGGZDF", b"u\xc2\x852,MFRGGZDF"))
    code, reports, _ = _dry_run(source, capsys)
    assert code == 1
    assert '(user "u\\u001b[2J1")' in reports[2]
    assert '(user "u\\u00852")' in reports[3]
