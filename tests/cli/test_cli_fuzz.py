"""Hypothesis writes hostile row files; every command must account for every line, leak nothing.

Files vary in encoding (UTF-8, with BOM, UTF-16, Latin-1, random bytes), quoting (balanced,
unclosed, embedded quotes, commas and newlines), line endings (LF, CRLF, CR, mixed), size
(empty, header only, huge fields), ids (duplicate, blank-padded, control characters, unicode,
very long), otpauth URIs (valid, wrong type, userinfo, bad parameters, the key anywhere) and
JSON Lines damage. Each runs through ``import-totp --dry-run`` and a real import against the
emulator on loopback. Files of user ids, CSV, JSON Lines or one id a line, with the same damage
and read from a file or from standard input, run through ``status`` and ``unbind``, with
``--dry-run`` and for real. The properties:

- the exit code is 0, 1 or 2, no exception leaves `main` and no traceback is printed;
- exit code 2 comes exactly when the file cannot be read as rows at all (the contract of
  `_row_file`: a UTF-16/32 byte-order mark, NUL bytes up front, no usable CSV header), and
  then no row is reported;
- otherwise every non-blank line after the header is accounted for exactly once: in the dry
  run's counts (``would import A, failed F``, with F lines reported by number; for user ids,
  also ``skipped D`` repeated ids), and in the real run's journal, one row line each (for
  ``status``, its report: one row per user id read, plus the lines reported invalid);
- no key and no recovery code of the input (nor any 16 characters of a key) appears in the
  output, the journal or the failures file.

Keys are 32 base32 characters from SHA-256, so finding one in the output cannot be chance.
The default run has a small budget; ``pytest -m fuzz`` runs a large one
(``AUTHING_MFA_FUZZ_EXAMPLES``, 1000 by default).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from authing_mfa._cli import main
from authing_mfa.testing import Emulator

FUZZ_EXAMPLES = int(os.environ.get("AUTHING_MFA_FUZZ_EXAMPLES", "1000"))
HUGE = 70_000
CHUNK = 1 << 16
WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
COLUMNS = ["userId", "secret", "recoveryCode", "note"]


# What hypothesis writes ------------------------------------------------------------------------


@attrs.define
class RowFile:
    """A generated input: its bytes, its format, and what must never be printed."""

    data: bytes
    suffix: str
    secrets: list[str] = attrs.field(factory=list)
    users: list[str] = attrs.field(factory=list)
    """Ids to create in the emulator, so that some rows import and others are not found."""

    def __repr__(self) -> str:  # hypothesis prints this for a failing example
        return f"RowFile(data={self.data!r}, suffix={self.suffix!r}, users={self.users!r})"


class Secrets:
    """Distinctive keys and recovery codes, numbered, all remembered."""

    def __init__(self, salt: int) -> None:
        self.salt = salt
        self.made: list[str] = []

    def key(self) -> str:
        digest = hashlib.sha256(f"key-{self.salt}-{len(self.made)}".encode()).digest()
        key = base64.b32encode(digest[:20]).decode()
        self.made.append(key)
        return key

    def code(self) -> str:
        code = "rc-" + hashlib.sha256(f"rc-{self.salt}-{len(self.made)}".encode()).hexdigest()[:24]
        self.made.append(code)
        return code


SAFE_ID = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.@", min_size=1, max_size=12)
HOSTILE_ID = st.one_of(
    st.text(max_size=20),  # any code point: controls, surrogates, unicode, format characters
    st.text(alphabet=" \t\u3000\u00a0\u200bab", max_size=6).map(lambda s: f" {s} "),
    st.sampled_from(["", ".", "..", "a/../b", "\x1b[2J", "u\x85", "\ufeffu", "x" * 600, "中文"]),
    st.text(alphabet=",\"' ab", min_size=1, max_size=8),
)


def _otpauth(draw, key: str) -> str:
    """A URI holding *key* somewhere: a valid one, or one of the ways exports go wrong."""
    return draw(
        st.sampled_from(
            [
                f"otpauth://totp/Acme:u?secret={key}&issuer=Acme",
                f"otpauth://TOTP/x?secret={key.lower()}&algorithm=SHA1&digits=6&period=30",
                f"otpauth://hotp/x?secret={key}&counter=1",
                f"otpauth://{key}",
                f"otpauth://totp:{key}@issuer/label",
                f"otpauth://{key}@totp/label?secret={key}",
                f"otpauth://totp/x?secret={key}&algorithm={key}",
                f"otpauth://totp/x?secret={key}&digits={key}",
                f"otpauth://totp/x?secret={key}&period={key[:8]}",
                f"otpauth://totp/x?secret={key}&digits=8",
                f"otpauth://totp/{key}?issuer={key}",
                f"otpauth://totp/x#secret={key}",
                f"otpauth://[{key}",
                f"otpauth://totp/x?secret={key}!",
                f"otpauth://totp/x?secret={key}&secret=",
            ]
        )
    )


def _key_field(draw, secrets: Secrets) -> str:
    key = secrets.key()
    kind = draw(st.sampled_from(["plain", "plain", "lower", "spaced", "otpauth", "bad", "empty"]))
    if kind == "lower":
        return key.lower()
    if kind == "spaced":
        return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
    if kind == "otpauth":
        return _otpauth(draw, key)
    if kind == "bad":
        return draw(st.sampled_from([key + "!", key[:-1], key + "=x", f"{key}\x00", "A" * 1100]))
    if kind == "empty":
        return ""
    return key


def _quoted(draw, value: str) -> str:
    style = draw(st.sampled_from(["bare"] * 8 + ["quoted"] * 4 + ["open", "after"]))
    needs_quotes = any(c in value for c in ',"')
    if style == "quoted" or (style == "bare" and needs_quotes):
        return '"' + value.replace('"', '""') + '"'
    if style == "open":
        return '"' + value  # a quote never closed on this line
    if style == "after":
        return f'"{value}"x'  # text after a closing quote
    return value


def _user_id(draw, kind: str, seen: list[str], users: list[str]) -> str:
    """A duplicate, a hostile id, or a fresh one that the emulator mostly knows."""
    if kind == "duplicate" and seen:
        return draw(st.sampled_from(seen))
    if kind == "hostile":
        return draw(HOSTILE_ID)
    user_id = draw(SAFE_ID)
    seen.append(user_id)
    if draw(st.integers(0, 4)):
        users.append(user_id)
    return user_id


def _split(draw, text: str) -> list[str]:
    """*text* on one line, or cut in two as if a field held a line break."""
    if not draw(st.booleans()):
        return [text]
    cut = draw(st.integers(0, len(text)))
    return [text[:cut], text[cut:]]


ROW_KINDS = ["good"] * 5 + ["hostile", "blank", "random", "huge", "duplicate", "odd", "multiline"]
HEADERS = st.sampled_from(["ok"] * 8 + ["spaced", "missing", "none", "quoted"])


def _header_lines(header: str, names: list[str]) -> list[str | bytes]:
    """The CSV header line naming *names*, as *header* says: spaced, quoted, none, or plain."""
    return {
        "spaced": [",".join(f" {n} " for n in names)],
        "quoted": [",".join(f'"{n}"' for n in names)],
        "none": [],
    }.get(header, [",".join(names)])


@st.composite
def csv_files(draw) -> RowFile:
    secrets = Secrets(draw(st.integers(0, 2**32)))
    names = [n for n in draw(st.permutations(COLUMNS)) if n in COLUMNS[:2] or draw(st.booleans())]
    header = draw(HEADERS)
    if header == "missing":
        names = [n for n in names if n != "secret"]
    lines = _header_lines(header, names)
    users: list[str] = []
    seen: list[str] = []
    for kind in draw(st.lists(st.sampled_from(ROW_KINDS), max_size=12)):
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", ",,", "\t", " , "])))
        elif kind == "random":
            lines.append(draw(st.binary(min_size=1, max_size=40)))
        elif kind == "huge":
            lines.append(f"u-huge,{'A' * HUGE}")
        else:
            cells = {
                "userId": _user_id(draw, kind, seen, users),
                "secret": _key_field(draw, secrets),
                "recoveryCode": secrets.code() if draw(st.booleans()) else "",
                "note": secrets.key() if draw(st.booleans()) else "a note",  # a key, elsewhere
            }
            row = [_quoted(draw, cells[name]) for name in names]
            if kind == "odd":  # another number of fields than the header
                row = row[:-1] if draw(st.booleans()) else [*row, "extra"]
            text = ",".join(row)
            lines.extend(_split(draw, text) if kind == "multiline" else [text])
    return RowFile(_encode(draw, lines), ".csv", secrets.made, users)


def _json_field(draw, value: str) -> object:
    return draw(st.sampled_from([value] * 12 + [7, None, [value], {"v": value}]))


JSON_JUNK = ["[1, 2]", '"text"', "{", "[" * 5000, "nul", '{"userId": "u"', "1e999", "{}"]


@st.composite
def jsonl_files(draw) -> RowFile:
    secrets = Secrets(draw(st.integers(0, 2**32)))
    lines: list[str | bytes] = []
    users: list[str] = []
    seen: list[str] = []
    for kind in draw(st.lists(st.sampled_from(ROW_KINDS), max_size=12)):
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t"])))
        elif kind == "random":
            lines.append(draw(st.binary(min_size=1, max_size=40)))
        elif kind == "huge":
            lines.append(json.dumps({"userId": "u-huge", "secret": "A" * HUGE}))
        elif kind == "odd":
            lines.append(draw(st.sampled_from(JSON_JUNK)))
        else:
            entry = {
                "userId": _json_field(draw, _user_id(draw, kind, seen, users)),
                "secret": _json_field(draw, _key_field(draw, secrets)),
                "recoveryCode": _json_field(draw, secrets.code()),
                "backup": secrets.key(),  # a key where no key is read from
            }
            kept = {"userId", "secret"} if draw(st.integers(0, 7)) else {"userId"}
            entry = {k: v for k, v in entry.items() if k in kept or draw(st.booleans())}
            text = json.dumps(entry, ensure_ascii=draw(st.booleans()))
            lines.extend(_split(draw, text) if kind == "multiline" else [text])
    return RowFile(_encode(draw, lines), ".jsonl", secrets.made, users)


def _encode(draw, lines: list[str | bytes]) -> bytes:
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1", "bytes"]))
    ending = draw(st.sampled_from([b"\n", b"\r\n", b"\r", None]))
    if encoding == "bytes":
        return draw(st.binary(max_size=200))
    encoded = []
    for line in lines:
        if isinstance(line, bytes):
            encoded.append(line)
        elif encoding == "latin-1":
            encoded.append(line.encode("latin-1", "replace"))
        else:
            # Lone surrogates become the bytes UTF-8 refuses: more damage to survive.
            encoded.append(line.encode("utf-8", "surrogatepass"))
    endings = [ending or draw(st.sampled_from([b"\n", b"\r\n", b"\r"])) for _ in encoded]
    data = b"".join(line + end for line, end in zip(encoded, endings, strict=True))
    if encoded and draw(st.booleans()):
        data = data[: -len(endings[-1])]  # no line ending at the end of the file
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + data
    if encoding == "utf-16":
        return "\ufeff".encode("utf-16-le") + data.decode("utf-8", "replace").encode("utf-16-le")
    return data


ROW_FILES = st.one_of(csv_files(), jsonl_files())


# What the contract says about a file ---------------------------------------------------------


@attrs.frozen
class Expected:
    unreadable: bool
    """Exit code 2 before any row is read."""
    rows: frozenset[int]
    """The line numbers of the non-blank lines after the header."""


def _blank(raw: bytes, extra: str) -> bool:
    try:
        return set(raw.decode("utf-8")) <= set(" \t" + extra)
    except UnicodeDecodeError:
        return False


def _usable_header(raw: bytes, required: set[str]) -> bool:
    if len(raw) > CHUNK:
        return False
    try:
        cells = next(csv.reader([raw.decode("utf-8")], strict=True))
    except (UnicodeDecodeError, csv.Error):
        return False
    names = {cell.strip() for cell in cells}
    return required <= names


def _expected(data: bytes, shape: str, required: set[str]) -> Expected:
    """What *data* holds read as *shape*: ``csv`` with the *required* columns, or a row a line."""
    if data.startswith(WIDE_BOMS) or b"\x00" in data[:4096]:
        return Expected(unreadable=True, rows=frozenset())
    lines = list(enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines(), 1))
    if shape != "csv":
        rows = frozenset(n for n, raw in lines if not _blank(raw, ""))
        return Expected(unreadable=False, rows=rows)
    content = [(n, raw) for n, raw in lines if not _blank(raw, ",")]
    if not content or not _usable_header(content[0][1], required):
        return Expected(unreadable=True, rows=frozenset())
    return Expected(unreadable=False, rows=frozenset(n for n, _ in content[1:]))


def expected(row_file: RowFile) -> Expected:
    shape = "jsonl" if row_file.suffix == ".jsonl" else "csv"
    return _expected(row_file.data, shape, {"userId", "secret"})


# Running the command -------------------------------------------------------------------------


@attrs.frozen
class Ran:
    code: int
    out: str
    err: str


def _run(args: list[str]) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return Ran(code, out.getvalue(), err.getvalue())


REPORT = re.compile(r"^line (\d+) \(", re.MULTILINE)
SUMMARY = re.compile(r"^(?:would import|imported) (\d+), failed (\d+)", re.MULTILINE)


def _assert_nothing_leaks(row_file: RowFile, *texts: str) -> None:
    haystack = "\n".join(texts).upper()
    for secret in row_file.secrets:
        windows = {secret[i : i + 16] for i in range(len(secret) - 15)}
        leaked = [window for window in windows if window.upper() in haystack]
        assert not leaked, f"a secret was printed: {secret}"


def _assert_sane(ran: Ran) -> None:
    assert ran.code in {0, 1, 2}
    assert "Traceback" not in ran.err
    assert "validate_secret" not in ran.out + ran.err


def check_dry_run(row_file: RowFile) -> None:
    want = expected(row_file)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"users{row_file.suffix}"
        source.write_bytes(row_file.data)
        ran = _run(["import-totp", "--from", str(source), "--dry-run"])
    _assert_sane(ran)
    _assert_nothing_leaks(row_file, ran.out, ran.err)
    _assert_every_line_counted(ran, want, ran.out, SUMMARY, str(source))


def _assert_every_line_counted(
    ran: Ran, want: Expected, notes: str, summary: re.Pattern[str], name: str
) -> None:
    """A dry run's *notes*: a *summary* whose counts add up to the file's rows, each failed row
    reported once by its line; or, for a file that cannot be read as rows, exit 2 naming it."""
    reported = [int(n) for n in REPORT.findall(notes)]
    if want.unreadable:
        assert ran.code == 2, ran
        assert name in ran.err
        assert reported == []
        return
    found = summary.search(notes)
    assert found is not None, ran
    would, failed, *repeated = (int(n or 0) for n in found.groups())
    assert would + failed + sum(repeated) == len(want.rows), ran
    assert len(reported) == failed
    assert set(reported) <= want.rows
    assert len(set(reported)) == len(reported)
    assert ran.code == (1 if failed else 0)


def check_import(row_file: RowFile, emulator: Emulator) -> None:
    want = expected(row_file)
    emulator.reset()
    emulator.add_users(row_file.users)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"users{row_file.suffix}"
        source.write_bytes(row_file.data)
        ran = _run(["import-totp", "--from", str(source), "--quiet", "--max-retries", "0"])
        journal = source.with_name(source.name + ".journal.jsonl")
        failures = source.with_name(source.name + ".failures.jsonl")
        journal_text = journal.read_text(encoding="utf-8") if journal.exists() else ""
        failures_text = failures.read_text(encoding="utf-8") if failures.exists() else ""
    _assert_sane(ran)
    _assert_nothing_leaks(row_file, ran.out, ran.err, journal_text, failures_text)
    entries = [json.loads(text) for text in journal_text.splitlines()]
    rows = [entry for entry in entries if "line" in entry]
    if want.unreadable:
        assert ran.code == 2, ran
        assert rows == []
        return
    assert ran.code in {0, 1}, ran
    assert sorted(entry["line"] for entry in rows) == sorted(want.rows)
    failed = [json.loads(text)["line"] for text in failures_text.splitlines()]
    assert failed == [entry["line"] for entry in rows if entry["outcome"] != "imported"]
    imported = {entry["userId"] for entry in rows if entry["outcome"] == "imported"}
    assert imported == {u for u in row_file.users if (emulator.user(u) or {}).get("totp")}
    assert entries[-1]["event"] == "end"


# The tests -----------------------------------------------------------------------------------


# The tests that run commands for real take the shared `emulator`, served on loopback and named
# by `authing_env`; each example resets it, so the one a test gets serves all of its examples.
SHARED_SERVER = HealthCheck.function_scoped_fixture

# Examples hypothesis found, and the cases the harness was written for, kept explicit.
REGRESSIONS = [
    RowFile(
        b'userId,secret\nu2,"KEYAKEYAKEYAKEYA\nKEYBKEYBKEYBKEYB",x\n', ".csv", ["KEYBKEYBKEYBKEYB"]
    ),
    RowFile(b"", ".csv"),
    RowFile(b"", ".jsonl"),
    RowFile(b"\n\r\n\r", ".jsonl"),
    RowFile(b"userId,secret\r\r\n\n\ru1,JBSWY3DP\r", ".csv"),
    RowFile(b"\xef\xbb\xbfuserId,secret", ".csv"),
    RowFile("userId,secret\nu1,KEY\n".encode("utf-16"), ".csv"),
    RowFile(b"userId,secret\n" + b"u1," + b"A" * HUGE + b"\n", ".csv"),
    RowFile(b'{"userId": "\\ud800", "secret": "JBSWY3DP"}\n' + b"[" * 5000 + b"\n", ".jsonl"),
    # Found by hypothesis: a user id holding U+0085, at which str.splitlines() breaks a line,
    # was journaled raw, so the journal no longer read as one JSON object a line.
    RowFile(b'\n{"userId": "\xc2\x85", "secret": "BHOEU5MTHKYCD72DIRACMZMFPFHT4EZO"}\n', ".jsonl"),
]


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row_file=ROW_FILES)
def test_a_dry_run_accounts_for_every_line_and_leaks_nothing(row_file):
    """--dry-run on any file: exit 0/1/2, every line counted once, no key printed."""
    check_dry_run(row_file)


@pytest.mark.parametrize("row_file", REGRESSIONS, ids=range(len(REGRESSIONS)))
def test_regressions_dry_run(row_file):
    """The kept examples, through the dry run."""
    check_dry_run(row_file)


@pytest.mark.parametrize("row_file", REGRESSIONS, ids=range(len(REGRESSIONS)))
def test_regressions_import(row_file, emulator, authing_env):
    """The kept examples, through a real import."""
    check_import(row_file, emulator)


@pytest.mark.slow
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, SHARED_SERVER]
)
@given(row_file=ROW_FILES)
def test_an_import_journals_every_line_once_and_leaks_nothing(row_file, emulator, authing_env):
    """A real import of any file: one journal line per row, failures listed, no key anywhere."""
    check_import(row_file, emulator)


# The other files a run reads, and the one-user command's standard input ------------------------

SIDE_FILES = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.sampled_from(
            [
                '{"line": 2}',
                '{"line": 0}',
                '{"line": -1}',
                '{"line": "2"}',
                '{"line": 2.0}',
                '{"line": 99999999999999999999}',
                '{"event": "end"}',
                '{"line": 2, "userId": "u1", "outcome": "imported"}',
                '{"line": 3, "userId": 7, "outcome": "imported"}',
                "[1]",
                "{",
                "",
                "userId,secret",
                '{"line": 2, "us',
            ]
        ),
        max_size=6,
    ).map(lambda lines: "\n".join(lines).encode()),
)


@settings(max_examples=100, deadline=None)
@given(side=SIDE_FILES, which=st.sampled_from(["--only", "--journal"]))
# Found by hypothesis: a line number past 64 bits overflowed the compact table (a traceback).
@example(side=b'{"line":9223372036854775808}', which="--only")
@example(
    side=b'{"line": 9223372036854775808, "userId": "u1", "outcome": "imported"}', which="--journal"
)
def test_any_failures_or_journal_file_is_read_or_refused_in_one_line(side, which):
    """--only and --resume read whatever file they are given without a traceback."""
    check_side_file(side, which)


def check_side_file(side: bytes, which: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "users.csv"
        source.write_text("userId,secret\nu1,JBSWY3DPEHPK3PXP\nu2,MFRGGZDFMZTWQ2LK\n")
        side_file = Path(tmp) / "side.jsonl"
        side_file.write_bytes(side)
        extra = ["--resume"] if which == "--journal" else []
        ran = _run(
            ["import-totp", "--from", str(source), which, str(side_file), *extra, "--dry-run"]
        )
    _assert_sane(ran)
    if ran.code == 2:
        assert str(side_file) in ran.err


STDIN = st.one_of(
    st.binary(max_size=100),
    st.builds(
        lambda k: f"otpauth://{k}\nrc-0123456789abcdef\n".encode(),
        st.sampled_from(
            ["JBSWY3DPEHPK3PXPKRSXG5CTMVRXEZLU", "totp:JBSWY3DPEHPK3PXPKRSXG5CTMVRXEZLU@x/y"]
        ),
    ),
)
ONE_USER_IDS = st.one_of(st.just("u1"), HOSTILE_ID)


@settings(max_examples=60, deadline=None, suppress_health_check=[SHARED_SERVER])
@given(stdin=STDIN, user_id=ONE_USER_IDS)
def test_the_one_user_import_survives_any_standard_input(stdin, user_id, emulator, authing_env):
    """import-totp USER_ID with any bytes on stdin: exit 0, 1 or 2, and the key never shown."""
    check_one_user(stdin, user_id, emulator)


def check_one_user(stdin: bytes, user_id: str, emulator: Emulator) -> None:
    emulator.reset()
    emulator.add_users(["u1"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        patch.delenv("AUTHING_TOTP_SECRET", raising=False)
        patch.delenv("AUTHING_TOTP_RECOVERY_CODE", raising=False)
        ran = _run(["import-totp", "--max-retries", "0", "--", user_id])
    _assert_sane(ran)
    for secret in ("JBSWY3DPEHPK3PXPKRSXG5CTMVRXEZLU", "rc-0123456789abcdef"):
        assert secret not in ran.out + ran.err


# Files of user ids: status --from and unbind --from -------------------------------------------


@attrs.define
class IdFile:
    """A generated file of user ids: its bytes, its shape, how it is given, who exists."""

    data: bytes
    shape: str
    """``csv``, ``jsonl`` or ``lines``: what was written, whatever the name says."""
    suffix: str
    """The file's extension (``.txt``: the command tells by the content)."""
    stdin: bool = False
    """Given as ``--from -``."""
    users: list[str] = attrs.field(factory=list)


ID_COLUMNS = ["userId", "email", "note"]


def _id_line(draw, shape: str, kind: str, names: list[str], user_id: str) -> str:
    """One row of a file of ids holding *user_id*, damaged as *kind* says."""
    if shape == "lines":
        return user_id
    if shape == "jsonl":
        entry = {"userId": _json_field(draw, user_id), "email": "a@b.c"}
        entry = {k: v for k, v in entry.items() if k == "userId" or draw(st.booleans())}
        return json.dumps(entry, ensure_ascii=draw(st.booleans()))
    cells = {"userId": user_id, "email": "a@b.c", "note": "a, note"}
    row = [_quoted(draw, cells[name]) for name in names]
    if kind == "odd":  # another number of fields than the header
        row = row[:-1] if draw(st.booleans()) else [*row, "extra"]
    return ",".join(row)


def _id_header(draw, shape: str) -> tuple[list[str], list[str | bytes]]:
    """The columns of a file of ids, and its header line if it has one."""
    names = [n for n in draw(st.permutations(ID_COLUMNS)) if n == "userId" or draw(st.booleans())]
    header = draw(HEADERS)
    if header == "missing":
        names = [n for n in names if n != "userId"] or ["email"]
    return names, _header_lines(header, names) if shape == "csv" else []


@st.composite
def id_files(draw) -> IdFile:
    shape = draw(st.sampled_from(["csv", "jsonl", "lines"]))
    suffixes = {"csv": [".csv", ".txt"], "jsonl": [".jsonl", ".txt"]}.get(shape, [".txt"])
    suffix = draw(st.sampled_from(suffixes))
    names, lines = _id_header(draw, shape)
    users: list[str] = []
    seen: list[str] = []
    for kind in draw(st.lists(st.sampled_from(ROW_KINDS), max_size=12)):
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t", ",,", " , "])))
        elif kind == "random":
            lines.append(draw(st.binary(min_size=1, max_size=40)))
        elif kind == "huge":
            lines.append("u" * HUGE)
        elif shape == "jsonl" and kind == "odd":
            lines.append(draw(st.sampled_from(JSON_JUNK)))
        else:
            text = _id_line(draw, shape, kind, names, _user_id(draw, kind, seen, users))
            lines.extend(_split(draw, text) if kind == "multiline" else [text])
    return IdFile(_encode(draw, lines), shape, suffix, draw(st.booleans()), users)


ID_FILES = id_files()


def _sniffed(start: bytes) -> str:
    """The format of a file of ids whose name does not tell: the README's rule."""
    if start.lstrip(b" \t\r\n").startswith(b"{"):
        return "jsonl"
    for raw in start.splitlines():
        if _blank(raw, ","):
            continue
        try:
            cells = next(csv.reader([raw.decode("utf-8")], strict=True))
        except (UnicodeDecodeError, csv.Error):
            return "lines"
        return "csv" if "userId" in {cell.strip() for cell in cells} else "lines"
    return "lines"


def expected_ids(id_file: IdFile) -> Expected:
    data = id_file.data
    by_name = {".csv": "csv", ".jsonl": "jsonl"}.get(id_file.suffix)
    shape = (
        by_name
        if by_name and not id_file.stdin
        else _sniffed(data[:CHUNK].removeprefix(b"\xef\xbb\xbf"))
    )
    return _expected(data, shape, {"userId"})


ID_SUMMARY = re.compile(
    r"^would (?:read|unbind OTP from) (\d+), failed (\d+).*?"
    r"(?:, skipped (\d+) \(user ids already on an earlier line\))?, in ",
    re.MULTILINE,
)


def _run_on(id_file: IdFile, args: list[str], tmp: str) -> tuple[Ran, str]:
    """Run *args* with the file as --from PATH or on standard input; return how it is named."""
    source = Path(tmp) / f"ids{id_file.suffix}"
    source.write_bytes(id_file.data)
    if not id_file.stdin:
        return _run([*args, "--from", str(source)]), str(source)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(id_file.data)))
        return _run([*args, "--from", "-"]), "standard input"


def check_ids_dry_run(id_file: IdFile, command: str) -> None:
    want = expected_ids(id_file)
    args = ["status"] if command == "status" else ["unbind", "--type", "otp"]
    with tempfile.TemporaryDirectory() as tmp:
        ran, name = _run_on(id_file, [*args, "--dry-run"], tmp)
        left = sorted(path.name for path in Path(tmp).iterdir())
    _assert_sane(ran)
    assert left == [f"ids{id_file.suffix}"]  # a dry run writes nothing
    notes = ran.err if command == "status" else ran.out
    _assert_every_line_counted(ran, want, notes, ID_SUMMARY, name)


def check_status_run(id_file: IdFile, emulator: Emulator) -> None:
    """A real audit: each id read once, in the report with the pool's factors, the rest reported."""
    want = expected_ids(id_file)
    emulator.reset()
    emulator.add_users(id_file.users)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        args = ["status", "--max-retries", "0", "--out", str(report)]
        ran, _ = _run_on(id_file, args, tmp)
        rows = (
            [json.loads(line) for line in report.read_text().splitlines()]
            if report.exists()
            else []
        )
    _assert_sane(ran)
    if want.unreadable:
        assert ran.code == 2, ran
        assert rows == []
        return
    assert ran.code in {0, 1}, ran
    invalid = [int(n) for n in REPORT.findall(ran.err)]
    failed = [row for row in rows if row["error"] is not None]
    summary = re.search(r"^read (\d+), failed (\d+)", ran.err, re.MULTILINE)
    assert summary is not None, ran
    assert int(summary[1]) == len(rows) - len(failed)
    repeated = re.search(r"skipped (\d+) \(user ids already", ran.err)
    assert len(rows) + len(invalid) - len(failed) + (int(repeated[1]) if repeated else 0) == len(
        want.rows
    ), ran
    assert len({row["userId"] for row in rows}) == len(rows)
    for row in rows:
        state = emulator.user(row["userId"])
        if state is None:
            assert row["error"] == "NotFoundError"
        else:
            assert row["factors"] == state["mfaBound"]
    assert ran.code == (1 if invalid else 0)


def check_unbind_run(id_file: IdFile, emulator: Emulator) -> None:
    """A real unbind with --yes: one journal line per line, requests only for ids of the file."""
    want = expected_ids(id_file)
    emulator.reset()
    emulator.add_users(id_file.users)
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "run.jsonl"
        args = ["unbind", "--type", "otp", "--yes", "--quiet", "--max-retries", "0"]
        ran, _ = _run_on(id_file, [*args, "--journal", str(journal)], tmp)
        entries = (
            [json.loads(t) for t in journal.read_text().splitlines()] if journal.exists() else []
        )
    _assert_sane(ran)
    rows = [entry for entry in entries if "line" in entry]
    if want.unreadable:
        assert ran.code == 2, ran
        assert rows == []
        return
    assert ran.code in {0, 1}, ran
    assert entries[-1]["event"] == "end"
    assert len(rows) + entries[-1].get("duplicate", 0) == len(want.rows)
    assert {entry["line"] for entry in rows} <= want.rows
    sent = {
        urllib.parse.unquote(r["path"].split("/")[4])
        for r in emulator.requests()
        if r["method"] == "DELETE"
    }
    assert sent == {entry["userId"] for entry in rows if entry["outcome"] != "invalid"}
    unbound = {entry["userId"] for entry in rows if entry["outcome"] == "unbound"}
    assert unbound == sent & set(id_file.users)


# Examples kept explicit: the shapes a file of ids takes, and what hypothesis found.
ID_REGRESSIONS = [
    IdFile(b"u1\nu2\n\n u3 \n", "lines", ".txt", users=["u1", "u2"]),
    IdFile(b"userId\r\nu1\r\nu1\r\n", "csv", ".txt", stdin=True, users=["u1"]),
    IdFile(b'email,userId\n"a,b",u1\n"open,u2\nu3\n', "csv", ".csv", users=["u1", "u3"]),
    IdFile(b'{"userId": "u1"}\n{"userId": 7}\n[1]\n', "jsonl", ".txt", users=["u1"]),
    IdFile(b"u1\n" + b"u" * HUGE + b"\nu\xff\n", "lines", ".txt", stdin=True, users=["u1"]),
    IdFile(b"u1,u2\n", "csv", ".csv"),
    IdFile(b"\xff\xfeu\x001\x00", "lines", ".txt", stdin=True),
    IdFile(b"", "lines", ".txt", stdin=True),
]


@pytest.mark.parametrize("id_file", ID_REGRESSIONS, ids=range(len(ID_REGRESSIONS)))
@pytest.mark.parametrize("command", ["status", "unbind"])
def test_id_regressions_dry_run(id_file, command):
    """The kept files of ids, through both dry runs."""
    check_ids_dry_run(id_file, command)


@pytest.mark.parametrize("id_file", ID_REGRESSIONS, ids=range(len(ID_REGRESSIONS)))
def test_id_regressions_for_real(id_file, emulator, authing_env):
    """The kept files of ids, through a real audit and a real unbind."""
    check_status_run(id_file, emulator)
    check_unbind_run(id_file, emulator)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(id_file=ID_FILES, command=st.sampled_from(["status", "unbind"]))
def test_a_dry_run_of_any_file_of_ids_accounts_for_every_line(id_file, command):
    """status and unbind --dry-run on any file of ids: exit 0/1/2, every line counted once."""
    check_ids_dry_run(id_file, command)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, SHARED_SERVER]
)
@given(id_file=ID_FILES)
def test_an_audit_of_any_file_of_ids_reports_every_line(id_file, emulator, authing_env):
    """status --from for real: the report and the invalid lines account for every line."""
    check_status_run(id_file, emulator)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, SHARED_SERVER]
)
@given(id_file=ID_FILES)
def test_an_unbind_of_any_file_of_ids_journals_every_line_and_touches_only_its_ids(
    id_file, emulator, authing_env
):
    """unbind --from --yes for real: one journal line a line, no request for another id."""
    check_unbind_run(id_file, emulator)


@pytest.mark.fuzz
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, SHARED_SERVER],
)
@given(
    case=st.one_of(
        st.tuples(st.just("dry run"), ROW_FILES),
        st.tuples(st.just("import"), ROW_FILES),
        st.tuples(st.just("side file"), SIDE_FILES, st.sampled_from(["--only", "--journal"])),
        st.tuples(st.just("one user"), STDIN, ONE_USER_IDS),
        st.tuples(st.just("ids dry run"), ID_FILES, st.sampled_from(["status", "unbind"])),
        st.tuples(st.just("status"), ID_FILES),
        st.tuples(st.just("unbind"), ID_FILES),
    )
)
def test_fuzz_large_budget(case, emulator, authing_env):
    """Every property of this module, with a large budget."""
    what, *args = case
    if what == "dry run":
        check_dry_run(*args)
    elif what == "import":
        check_import(*args, emulator)
    elif what == "side file":
        check_side_file(*args)
    elif what == "ids dry run":
        check_ids_dry_run(*args)
    elif what == "status":
        check_status_run(*args, emulator)
    elif what == "unbind":
        check_unbind_run(*args, emulator)
    else:
        check_one_user(*args, emulator)


# The real entry point, in a process of its own -------------------------------------------------


def test_the_installed_command_survives_a_hostile_file_on_an_ascii_terminal(tmp_path):
    """``python -m authing_mfa`` with an ASCII-only stdout prints unicode ids escaped, no crash."""
    key = base64.b32encode(hashlib.sha256(b"subprocess").digest()[:20]).decode()
    source = tmp_path / "users.csv"
    source.write_bytes(
        b"userId,secret\n"
        + f"\u7528\u6237,{key}!\n".encode()
        + b"u\xff,x\n"
        + f'u3,"otpauth://{key}\n'.encode()
        + b"u4,JBSWY3DP\n"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "authing_mfa", "import-totp", "--from", str(source), "--dry-run"],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert b"would import 0, failed 4" in done.stdout
    assert b"\\u7528\\u6237" in done.stdout
    assert key.encode() not in done.stdout + done.stderr
